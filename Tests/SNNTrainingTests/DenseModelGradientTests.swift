import SNNBase
import SNNTensor
import Testing

@testable import SNNTraining

/// Finite-difference checks of `DenseModel`'s backward pass (the `bptt` and `lsg` step) in
/// primitive mode (Θ replaced by the surrogate's smooth primitive, so that the forward is
/// differentiable and its exact derivative is what backward computes), against an
/// independent Float64 implementation of the forward (`DenseReference`).
@Suite struct DenseModelGradientTests {
  struct Case {
    var notation: String
    var input: FeatureShape
    var neuron: DenseModel.NeuronConfiguration
    var normalization: DenseModel.Normalization
    var frames: Int
    var steps = 4
    var batch = 3
    var seed: UInt64 = 5
  }

  struct Result {
    /// max |analytic − finite difference| over all parameters.
    var maxError: Double
    /// max |finite difference|.
    var scale: Double
    /// The same error against finite differences that ignore the stop-gradients.
    var errorWithoutDetach: Double
    var model: DenseModel
    var differences: [String: [Double]]
  }

  func run(_ c: Case, fixedWidth: Bool = false) throws -> Result {
    let spec = try ModelSpec.parse(c.notation, input: c.input)
    let configuration = DenseModel.Configuration(
      timeSteps: c.steps, neuron: c.neuron, normalization: c.normalization, primitiveMode: true)
    let model = try DenseModel(spec: spec, configuration: configuration, seed: c.seed)
    var g = Xoshiro256StarStar(seed: c.seed &+ 100)
    // Nudge BN's γ, β away from 1, 0 and LSG's leak away from its initial value.
    for i in model.parameters.parameters.indices {
      let q = model.parameters[i]
      if q.group == .normalization || q.group == .neuron {
        for j in 0..<q.count { model.parameters[i].values[j] += Float(0.2 * g.nextNormal()) }
      }
    }
    let shape = SampleShape(frames: c.frames, feature: c.input)
    let inputs = (0..<(c.batch * shape.elementCount)).map { _ in Float(g.nextNormal()) }
    let labels = (0..<c.batch).map { _ in g.nextIndex(below: model.classCount) }
    let batch = Batch(
      sampleShape: shape, indices: Array(0..<c.batch), inputs: inputs, labels: labels)

    let logits = model.forward(batch)
    let loss = SoftmaxCrossEntropy(logits: logits, labels: labels)
    model.parameters.zeroGradients()
    model.backward(loss.gradient)

    var reference = DenseReference(
      spec: spec, analysis: try spec.analyze(), configuration: configuration,
      inputs: inputs.map(Double.init), frames: c.frames, labels: labels)
    if fixedWidth {
      // LSG: α = f(β) is a constant of the backward pass; hold it at the unperturbed β.
      for stage in model.spikingStages {
        let b = Double(model.parameters[stage.layer!.name + ".neuron.leak_logit"].values[0])
        let beta = 1 / (1 + Math.exp(-b))
        reference.fixedWidths[stage.layer!.name] = Surrogate.lsgWidth(
          beta: beta, vThreshold: Double(c.neuron.vThreshold))
      }
    }
    // The forward values agree with the model's.
    var p: [String: [Double]] = [:]
    for q in model.parameters.parameters { p[q.name] = q.values.map(Double.init) }
    var recording: DenseReference.Recording = [:]
    let referenceLoss = reference.loss(p, record: &recording)
    #expect(abs(referenceLoss - loss.lossSum / Double(c.batch)) < 1e-5 * max(1, referenceLoss))

    let fd = reference.finiteDifferences(model.parameters, epsilon: 1e-6)
    var noDetach = reference
    var plain = configuration
    plain.neuron.detachReset = false
    noDetach = DenseReference(
      spec: spec, analysis: reference.analysis, configuration: plain, inputs: reference.inputs,
      frames: c.frames, labels: labels, fixedWidths: reference.fixedWidths)
    let fdPlain = noDetach.finiteDifferences(model.parameters, epsilon: 1e-6)
    var maxError = 0.0, scale = 0.0, errorPlain = 0.0
    for q in model.parameters.parameters {
      for j in 0..<q.count {
        let analytic = Double(q.gradients[j])
        maxError = max(maxError, abs(analytic - fd[q.name]![j]))
        errorPlain = max(errorPlain, abs(analytic - fdPlain[q.name]![j]))
        scale = max(scale, abs(fd[q.name]![j]))
      }
    }
    return Result(
      maxError: maxError, scale: scale, errorWithoutDetach: errorPlain, model: model,
      differences: fd)
  }

  static let resetDetachCombinations: [(LIF.Reset, Bool)] = [
    (.hard, false), (.hard, true), (.soft, false), (.soft, true),
  ]

  /// A two-hidden-layer LIF network (6-5-4-3, T = 4) for each reset/detach combination,
  /// with SpikingJelly's charge (τ = 2, decay_input) and the sigmoid surrogate, static
  /// input and BN, then event-style input (one frame per step) without normalization.
  @Test(arguments: 0..<4)
  func mlpMatchesFiniteDifferences(combination: Int) throws {
    let (reset, detach) = DenseModelGradientTests.resetDetachCombinations[combination]
    let neuron = DenseModel.NeuronConfiguration(
      charge: .decayInput(tau: 2), vThreshold: 1, reset: reset, detachReset: detach,
      surrogate: .sigmoid(alpha: 4))
    let input = FeatureShape(channels: 1, height: 2, width: 3)
    for (frames, normalization) in [(1, DenseModel.Normalization.batchNorm), (4, .none)] {
      let r = try run(
        Case(
          notation: "6-5-4-3", input: input, neuron: neuron, normalization: normalization,
          frames: frames))
      #expect(r.scale > 1e-3, "gradients too small to be checked")
      #expect(
        r.maxError <= 2e-5 * r.scale + 1e-7,
        "\(reset) detach \(detach) frames \(frames): error \(r.maxError), scale \(r.scale)")
      if detach {
        // The check is sensitive: finite differences through the reset differ.
        #expect(r.errorWithoutDetach > 100 * r.maxError, "\(r.errorWithoutDetach)")
      }
    }
  }

  /// Convolution, average pooling, flatten, a hidden linear layer and the readout; leaky
  /// charge with a soft reset and tdBN.
  @Test func convNetMatchesFiniteDifferences() throws {
    let neuron = DenseModel.NeuronConfiguration(
      charge: .leaky(lambda: 0.5), vThreshold: 0.5, reset: .soft, surrogate: .sigmoid(alpha: 4))
    // The readout after a pool (its time-averaged gradient is broadcast over time), and
    // after neurons (handed to them once for all steps).
    for notation in ["2C3-AP2-4-3", "2C3-AP2-3"] {
      let r = try run(
        Case(
          notation: notation, input: FeatureShape(channels: 1, height: 6, width: 6),
          neuron: neuron, normalization: .thresholdDependent(eta: 1), frames: 1, steps: 3))
      #expect(r.scale > 1e-3)
      #expect(r.maxError <= 2e-5 * r.scale + 1e-7, "\(notation): error \(r.maxError), scale \(r.scale)")
    }
  }

  /// LSG's ∂L/∂b_n through the whole model (learnable leak, hard reset not detached,
  /// rectangular surrogate of width α(β) held fixed, tdBN), against finite differences.
  @Test func lsgLeakGradientMatchesFiniteDifferences() throws {
    let r = try run(
      Case(
        notation: "6-5-4-3", input: FeatureShape(channels: 1, height: 2, width: 3),
        neuron: .lsg, normalization: .thresholdDependent(eta: 1), frames: 1, seed: 9),
      fixedWidth: true)
    var leakGradients: [Double] = []
    for stage in r.model.spikingStages {
      let name = stage.layer!.name + ".neuron.leak_logit"
      let analytic = Double(r.model.parameters[name].gradients[0])
      let fd = r.differences[name]![0]
      leakGradients.append(analytic)
      #expect(abs(analytic - fd) <= 1e-4 * max(abs(fd), 1e-3), "\(name): \(analytic) vs \(fd)")
    }
    #expect(leakGradients.allSatisfy { abs($0) > 1e-5 }, "\(leakGradients)")
    #expect(r.maxError <= 2e-5 * r.scale + 1e-7, "error \(r.maxError), scale \(r.scale)")
  }
}
