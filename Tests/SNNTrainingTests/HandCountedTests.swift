import Testing

@testable import SNNBase
@testable import SNNTensor
@testable import SNNTraining

/// Synaptic-operation counts of tiny networks, worked out by hand, from both backends.
///
/// Weights are chosen so that which neurons fire is obvious: every weight of layer l is
/// `weightByLayer[l]`, biases are 0, no normalization, V_th = 1, hard reset. Binary inputs
/// are two frames (T = 2): the spikes, then silence (a single frame would be a static image,
/// injected as current: MACs).
@Suite struct HandCountedTests {
  struct Counts: Equatable {
    var accumulates: [UInt64]
    var multiplyAccumulates: [UInt64]
    var spikes: [UInt64]
  }

  /// Counts of one sample from the dense backend and from the event engine (which must agree).
  func counts(
    _ notation: String, weightByLayer: [Float], input: [Float], frames: Int, steps: Int
  ) throws -> Counts {
    let spec = try ModelSpec.parse(notation, input: nil)
    let neuron = DenseModel.NeuronConfiguration(
      charge: .leaky(lambda: 0.5), vThreshold: 1, vReset: 0, reset: .hard, surrogate: .sigmoid(alpha: 4))
    let dense = try DenseModel(
      spec: spec,
      configuration: DenseModel.Configuration(timeSteps: steps, neuron: neuron, normalization: .none),
      seed: 1)
    var layer = 0
    for i in 0..<dense.parameters.count {
      let name = dense.parameters[i].name
      let value: Float = name.hasSuffix(".weight") ? weightByLayer[layer] : 0
      if name.hasSuffix(".weight") { layer += 1 }
      dense.parameters.withValues(i) { v in for k in v.indices { v[k] = value } }
    }
    dense.isTraining = false
    let shape = SampleShape(frames: frames, feature: spec.input)
    _ = dense.forward(inputs: input, sampleShape: shape, batchSize: 1)
    let d = dense.operations!
    let denseCounts = Counts(
      accumulates: d.accumulates, multiplyAccumulates: d.multiplyAccumulates, spikes: d.spikes)
    let e = try EventModel(dense: dense).run(input: input).counter
    let eventCounts = Counts(
      accumulates: e.accumulates, multiplyAccumulates: e.multiplyAccumulates, spikes: e.spikes)
    #expect(eventCounts == denseCounts, "event engine and dense backend")
    return denseCounts
  }

  /// 3×3 binary input, 2×2 kernel, no padding: a corner pixel reaches 1 output position, an
  /// edge pixel 2, the centre 4 (k² = 4 would be wrong for 2 of the 3 spikes).
  @Test func borderPixelsOfAConvolutionHaveSmallerFanOut() throws {
    // Spikes at (0,0) corner, (0,1) edge, (1,1) centre.
    var frame = [Float](repeating: 0, count: 9)
    frame[0] = 1
    frame[1] = 1
    frame[4] = 1
    let c = try counts("1x3x3:2C2-3", weightByLayer: [2, 1], input: frame + frame.map { _ in 0 }, frames: 2, steps: 2)
    // Conv: (1 + 2 + 4) positions × 2 output channels.
    #expect(c.accumulates[0] == 14)
    // Every 2×2 window holds the centre: all 2×2×2 conv neurons fire once.
    #expect(c.spikes[0] == 8)
    // Readout: 8 spikes × 3 classes.
    #expect(c.accumulates[1] == 24)
    #expect(c.multiplyAccumulates == [0, 0])
  }

  /// 3×3 input, 3×3 kernel, padding 1 ("same"): corner fan-out 4, edge 6, centre 9.
  @Test func paddedConvolutionCountsOnlyRealTargets() throws {
    var frame = [Float](repeating: 0, count: 9)
    frame[0] = 1  // corner: 4
    frame[5] = 1  // edge (1,2): 6
    frame[4] = 1  // centre: 9
    let c = try counts("1x3x3:1C3p1-2", weightByLayer: [2, 1], input: frame + frame.map { _ in 0 }, frames: 2, steps: 2)
    #expect(c.accumulates[0] == 4 + 6 + 9)
    // Every output window of the padded 3×3 conv holds the centre: all 9 fire.
    #expect(c.spikes[0] == 9)
    #expect(c.accumulates[1] == 9 * 2)
  }

  /// A hidden layer behind a 2×2 average pool: each conv spike is routed through the pool to
  /// all 3 targets (3 ACs), not counted as a quarter of a pooled MAC.
  @Test func pooledSpikesAreRoutedToEveryTarget() throws {
    // 1×1 conv with weight 2: each input spike makes exactly one conv spike.
    var frame = [Float](repeating: 0, count: 16)
    for p in [0, 1, 5, 10] { frame[p] = 1 }  // pools (0,0) ×3, (1,1) ×1
    let c = try counts("1x4x4:1C1-AP2-3-2", weightByLayer: [2, 4, 1], input: frame + frame.map { _ in 0 }, frames: 2, steps: 2)
    #expect(c.accumulates[0] == 4)  // 4 input spikes × 1 target
    #expect(c.spikes[0] == 4)
    #expect(c.accumulates[1] == 4 * 3)  // 4 routed spikes × 3 targets
    // Each hidden neuron gets 4·(3/4 + 1/4) = 4 ≥ 1: all 3 fire.
    #expect(c.spikes[1] == 3)
    #expect(c.accumulates[2] == 3 * 2)
    #expect(c.multiplyAccumulates == [0, 0, 0])
  }

  /// A dense layer fed an analog input performs MACs (4 inputs × 3 outputs per step, every
  /// step), not ACs; the spiking layers behind it perform ACs.
  @Test func analogInputCostsMultiplyAccumulates() throws {
    let x: [Float] = [0.25, 0.5, 0.75, 1]
    let c = try counts("4-3-2", weightByLayer: [1, 1], input: x, frames: 1, steps: 3)
    #expect(c.multiplyAccumulates[0] == 4 * 3 * 3)
    #expect(c.accumulates[0] == 0)
    // Current 2.5 per step, hard reset: V = 2.5 ≥ 1 every step, so 3 neurons × 3 steps.
    #expect(c.spikes[0] == 9)
    #expect(c.accumulates[1] == 9 * 2)
    #expect(c.multiplyAccumulates[1] == 0)
  }
}

/// The eight-lane counting passes against plain loops.
@Suite struct CoverageCountTests {
  @Test(arguments: [7, 36, 144, 787])
  func vectorPassesMatchPlainLoops(plane: Int) {
    var rng = Xoshiro256StarStar(seed: UInt64(plane))
    let coverage = (0..<plane).map { _ in rng.nextIndex(below: 26) }
    let planes = 5
    let spikes = (0..<(plane * planes)).map { _ in Float(rng.nextUnitDouble() < 0.2 ? 1 : 0) }
    let pooled = (0..<(plane * planes)).map { _ in Float(rng.nextIndex(below: 10)) / 9 }
    var expectedBinary = 0, expectedPooled = 0
    for i in spikes.indices {
      expectedBinary += spikes[i] == 1 ? coverage[i % plane] : 0
      expectedPooled += Int((pooled[i] * 9).rounded()) * coverage[i % plane]
    }
    let s = Tensor(shape: [planes, plane], scalars: spikes)
    #expect(DenseModel.binaryCoverageCount(s, coverage: coverage) == expectedBinary)
    let p = Tensor(shape: [planes, plane], scalars: pooled)
    #expect(DenseModel.pooledCoverageCount(p, coverage: coverage, window: 9) == expectedPooled)
    // Spikes scaled by a constant (NDOT's spike scale) are still spikes.
    let scaled = Tensor(shape: [planes, plane], scalars: spikes.map { $0 * 2.74 })
    #expect(DenseModel.pooledCoverageCount(scaled, coverage: coverage, window: 1, unit: 2.74) == expectedBinary)
    #expect(DenseModel.binaryCoverageCount(scaled, coverage: coverage) == nil)
    // A value that is not a spike (or not a whole number of spikes) anywhere: nil.
    for position in [0, plane * planes - 1, (plane * planes) / 2] {
      var bad = spikes
      bad[position] = 0.5
      #expect(DenseModel.binaryCoverageCount(Tensor(shape: [planes, plane], scalars: bad), coverage: coverage) == nil)
      var badPooled = pooled
      badPooled[position] = 0.3
      #expect(
        DenseModel.pooledCoverageCount(Tensor(shape: [planes, plane], scalars: badPooled), coverage: coverage, window: 9)
          == nil)
    }
  }
}
