import SNNBase
import SNNTensor

extension DenseModel {
  /// The spiking neuron behind every hidden layer (see `LIF` in SNNTensor for the
  /// equations): H[t] = a·V[t−1] + c·I[t], S[t] = Θ(H[t] − V_th), then a hard or soft reset.
  public struct NeuronConfiguration: Equatable, Sendable {
    /// The charge equation (leak a and input scale c, or LSG's learnable leak).
    public var charge: LIF.Charge
    /// V_th.
    public var vThreshold: Float
    /// V_reset of the hard reset (0: multiplicative reset V = H·(1 − S)).
    public var vReset: Float
    public var reset: LIF.Reset
    /// S̃ = stopgrad(S) in the reset (SpikingJelly's `detach_reset`).
    public var detachReset: Bool
    /// H[t] = a·stopgrad(V[t−1]) + c·I[t] (NDOT/OTTT; no gradient through time).
    public var detachMembrane: Bool
    public var surrogate: Surrogate

    public init(
      charge: LIF.Charge, vThreshold: Float, vReset: Float = 0, reset: LIF.Reset,
      detachReset: Bool = false, detachMembrane: Bool = false, surrogate: Surrogate
    ) {
      self.charge = charge
      self.vThreshold = vThreshold
      self.vReset = vReset
      self.reset = reset
      self.detachReset = detachReset
      self.detachMembrane = detachMembrane
      self.surrogate = surrogate
    }

    /// SpikingJelly's `LIFNode()` defaults, the BPTT baseline of the method specs: τ = 2
    /// with `decay_input` (H = V + (I − V)/τ), V_th = 1, hard reset to 0, reset not
    /// detached, sigmoid surrogate a = 4.
    public static let spikingJelly = NeuronConfiguration(
      charge: .decayInput(tau: 2), vThreshold: 1, reset: .hard, surrogate: .sigmoid(alpha: 4))

    /// LSG (Lian et al., IJCAI 2023): learnable leak β = sigmoid(b), β₀ = 0.2, V_th = 0.5,
    /// hard multiplicative reset not detached, rectangular surrogate of width
    /// α = 2·V_th·√(1 + β²) recomputed from β at every forward.
    public static let lsg = NeuronConfiguration(
      charge: .learnableLeak(initialBeta: 0.2), vThreshold: 0.5, reset: .hard,
      surrogate: .learnableWidth)

    /// λ of a leaky charge H = λ·V + I; the methods that need it (rate, ndot, ottt) accept
    /// no other charge.
    func leakyLambda() throws(ConfigurationError) -> Float {
      guard case .leaky(let lambda) = charge else {
        throw .invalid(field: "neuron charge", value: "\(charge)", expected: "H = λ·V + I (.leaky)")
      }
      return lambda
    }

    /// A fresh `LIF` layer with these settings.
    func makeLayer(name: String, primitiveMode: Bool) -> LIF {
      let lif = LIF(
        name: name, charge: charge, vThreshold: vThreshold, reset: reset, vReset: vReset,
        detachReset: detachReset, detachMembrane: detachMembrane, surrogate: surrogate,
        threads: Parallel.defaultThreads)
      lif.primitiveMode = primitiveMode
      return lif
    }
  }

  /// The normalization between every hidden layer's synapses and its neurons.
  public enum Normalization: Equatable, Sendable {
    /// None: I = W·s + b.
    case none
    /// Batch normalization per channel with statistics over T·B(·H·W) (SpikingJelly's
    /// `SeqToANNContainer(BatchNorm)`): I = γ·(x − μ)/√(σ² + ε) + β.
    case batchNorm
    /// tdBN (Zheng et al., AAAI 2021; used by LSG): the same statistics, output scaled by
    /// η·V_th: I = γ·η·V_th·(x − μ)/√(σ² + ε) + β.
    case thresholdDependent(eta: Float)

    /// `none`, `bn` or `tdbn` (the method option's spelling).
    public var name: String {
      switch self {
      case .none: return "none"
      case .batchNorm: return "bn"
      case .thresholdDependent: return "tdbn"
      }
    }
  }

  /// Everything `DenseModel` needs besides the spec and the parameters.
  public struct Configuration: Equatable, Sendable {
    /// Simulation steps T per sample.
    public var timeSteps: Int
    public var neuron: NeuronConfiguration
    public var normalization: Normalization
    /// Θ replaced by the surrogate's smooth primitive in every neuron (gradient checks).
    public var primitiveMode: Bool
    /// Count spikes, neuron updates, synaptic accumulates and MACs in every forward pass
    /// (one extra pass over each layer's input and each neuron layer's output).
    public var countsOperations: Bool
    /// How `Linear` layers choose between GEMM and the event-driven spike kernel.
    public var spikeInputPolicy: Linear.SpikeInputPolicy
    /// Parameters of a method's own, appended to the layout after the model's (e.g. the
    /// gains of NDOT/OTTT's scaled weight standardization). The model lends them to no
    /// layer; the method reads them from ``DenseModel/parameters`` itself.
    public var extraParameters: [ParameterDescriptor]

    public init(
      timeSteps: Int, neuron: NeuronConfiguration = .spikingJelly,
      normalization: Normalization = .batchNorm, primitiveMode: Bool = false,
      countsOperations: Bool = true, spikeInputPolicy: Linear.SpikeInputPolicy = .automatic,
      extraParameters: [ParameterDescriptor] = []
    ) {
      self.timeSteps = timeSteps
      self.neuron = neuron
      self.normalization = normalization
      self.primitiveMode = primitiveMode
      self.countsOperations = countsOperations
      self.spikeInputPolicy = spikeInputPolicy
      self.extraParameters = extraParameters
    }
  }
}
