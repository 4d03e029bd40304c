import SNNBase
import SNNTensor

/// Surrogate-gradient BPTT on the dense backend: the shared implementation of the `bptt` and
/// `lsg` methods (they differ only in the neuron, the normalization and the surrogate; see
/// ``BPTTMethod`` and ``LSGMethod``).
///
/// One step: forward over all T steps, softmax cross-entropy on the time-averaged readout,
/// backward through time (`LIF.backward` is full BPTT; with LSG's learnable leak it also
/// accumulates ∂L/∂b_n = β_n(1 − β_n)·Σ ∂L/∂u^t·u^{t−1}(1 − o^{t−1})), one optimizer step.
public final class SurrogateGradientMethod: DenseTrainingMethod {
  public let name: String
  public let model: DenseModel
  public var optimizer: ParameterOptimizer

  /// A fresh method for `setup` with parameters initialized from the run seed.
  ///
  /// Throws ``ConfigurationError`` when the samples' frame count is neither 1 (a static
  /// image, injected at every step) nor T (event frames), or when the dense backend cannot
  /// run the model.
  public init(
    name: String, setup: MethodSetup, neuron: DenseModel.NeuronConfiguration,
    normalization: DenseModel.Normalization
  ) throws(ConfigurationError) {
    let steps = try setup.timeStepsMatchingFrames()
    let configuration = DenseModel.Configuration(
      timeSteps: steps, neuron: neuron, normalization: normalization)
    self.name = name
    model = try DenseModel(
      spec: setup.model, configuration: configuration, seed: setup.configuration.seed)
    optimizer = ParameterOptimizer(
      settings: setup.configuration.optimizer, parameters: model.parameters)
  }

  public func trainBatch(_ batch: Batch, context: StepContext) throws -> BatchMetrics {
    trainStandardStep(batch, context: context)
  }

  /// Per epoch: every learnable leak β_n and the surrogate window width of each layer (for
  /// LSG, α_n = 2·V_th·√(1 + β_n²)). The window ratios themselves are in the epoch's
  /// `extra_per_sample` (`grad_available_ratio/<layer>`).
  public func epochDidEnd(epoch: Int) -> [(key: String, value: JSONValue)] {
    neuronSummary()
  }

  public func summaryExtras() -> [(key: String, value: JSONValue)] { neuronSummary() }

  func neuronSummary() -> [(key: String, value: JSONValue)] {
    var betas: [(key: String, value: JSONValue)] = []
    var widths: [(key: String, value: JSONValue)] = []
    model.withBoundParameters {
      for stage in model.spikingStages {
        guard let neuron = stage.neuron, let name = stage.layer?.name else { continue }
        let beta = Double(neuron.chargeCoefficients.decay)
        if neuron.leakLogit != nil { betas.append((name, JSONValue(beta))) }
        let surrogate = neuron.surrogate.resolved(
          beta: beta, vThreshold: Double(neuron.vThreshold))
        if let w = surrogate.windowWidth { widths.append((name, JSONValue(Double(w)))) }
      }
    }
    var result: [(key: String, value: JSONValue)] = []
    if !betas.isEmpty { result.append(("leak_beta", .object(betas))) }
    if !widths.isEmpty { result.append(("surrogate_width", .object(widths))) }
    return result
  }
}
