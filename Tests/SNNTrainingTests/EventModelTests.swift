import Testing

@testable import SNNBase
@testable import SNNEngine
@testable import SNNTensor
@testable import SNNTraining

/// The event engine and the dense backend on the same spec, weights and inputs: the same
/// spikes, the same readout and the same synaptic-operation counts.
///
/// Weights, inputs and the leak are dyadic (multiples of 1/32, λ = ½) so that both backends
/// compute every membrane value exactly: no threshold tie can be decided differently by
/// rounding, and any difference is a real one.
@Suite struct EventModelTests {
  func model(
    _ notation: String, steps: Int, reset: SNNTensor.LIF.Reset, seed: UInt64,
    normalization: DenseModel.Normalization = .none, charge: SNNTensor.LIF.Charge = .leaky(lambda: 0.5)
  ) throws -> DenseModel {
    let spec = try ModelSpec.parse(notation, input: nil)
    let neuron = DenseModel.NeuronConfiguration(
      charge: charge, vThreshold: 1, vReset: 0, reset: reset, surrogate: .sigmoid(alpha: 4))
    let configuration = DenseModel.Configuration(timeSteps: steps, neuron: neuron, normalization: normalization)
    let dense = try DenseModel(spec: spec, configuration: configuration, seed: seed)
    var rng = Xoshiro256StarStar(seed: seed &+ 100)
    for i in 0..<dense.parameters.count {
      dense.parameters.withValues(i) { v in
        for k in v.indices { v[k] = Float(Int(rng.nextIndex(below: 65)) - 24) / 32 }
      }
    }
    // Running statistics of the normalizations: dyadic means and variances (v + ε is not
    // exactly a power of 4, so the folded scale carries one rounding; the seeds below have
    // no threshold tie that it could decide differently).
    for stage in dense.stages {
      guard let norm = stage.norm else { continue }
      let c = norm.channelCount
      norm.runningMean = Tensor(shape: [c], scalars: (0..<c).map { _ in Float(Int(rng.nextIndex(below: 9)) - 4) / 8 })
      norm.runningVariance = Tensor(shape: [c], scalars: (0..<c).map { _ in [Float(0.25), 1, 4][rng.nextIndex(below: 3)] })
    }
    dense.isTraining = false
    return dense
  }

  func compare(_ dense: DenseModel, input: [Float], frames: Int) throws {
    let shape = SampleShape(frames: frames, feature: dense.spec.input)
    let logits = dense.forward(inputs: input, sampleShape: shape, batchSize: 1).scalars
    let denseCounts = dense.operations!
    let event = try EventModel(dense: dense).run(input: input)
    #expect(event.counter.spikes == denseCounts.spikes, "spikes per layer")
    #expect(event.counter.accumulates == denseCounts.accumulates, "ACs per layer")
    #expect(event.counter.multiplyAccumulates == denseCounts.multiplyAccumulates, "MACs per layer")
    for k in logits.indices { #expect(abs(logits[k] - event.logits[k]) <= 1e-5 * max(1, abs(logits[k]))) }
    #expect(denseCounts.totalSpikes > 0, "the test network should spike")
  }

  @Test(arguments: [1, 2, 3])
  func convolutionalNetOnAnAnalogImage(seed: UInt64) throws {
    let dense = try model("1x8x8:4C3p1-AP2-6C3-5-3", steps: 6, reset: .hard, seed: seed)
    var rng = Xoshiro256StarStar(seed: seed)
    let image = (0..<64).map { _ in Float(rng.nextIndex(below: 17)) / 16 }
    try compare(dense, input: image, frames: 1)
  }

  @Test(arguments: [4, 5, 6])
  func convolutionalNetOnBinaryFrames(seed: UInt64) throws {
    let dense = try model("2x6x6:5C3s1p1-AP2-7-4", steps: 5, reset: .soft, seed: seed)
    var rng = Xoshiro256StarStar(seed: seed)
    let frames = (0..<(5 * 72)).map { _ in Float(rng.nextUnitDouble() < 0.3 ? 1 : 0) }
    try compare(dense, input: frames, frames: 5)
  }

  @Test(arguments: [11, 12])
  func batchNormAndDecayInputFoldIntoTheSynapses(seed: UInt64) throws {
    let dense = try model(
      "1x8x8:4C3p1-AP2-6C3-5-3", steps: 6, reset: .hard, seed: seed, normalization: .batchNorm,
      charge: .decayInput(tau: 2))
    var rng = Xoshiro256StarStar(seed: seed)
    let image = (0..<64).map { _ in Float(rng.nextIndex(below: 17)) / 16 }
    try compare(dense, input: image, frames: 1)
  }

  @Test(arguments: [7, 8])
  func denseNetOnAnAnalogInput(seed: UInt64) throws {
    let dense = try model("1x4x5:20-12-9-3", steps: 7, reset: .hard, seed: seed)
    var rng = Xoshiro256StarStar(seed: seed)
    let x = (0..<20).map { _ in Float(rng.nextIndex(below: 33)) / 32 }
    try compare(dense, input: x, frames: 1)
  }
}

