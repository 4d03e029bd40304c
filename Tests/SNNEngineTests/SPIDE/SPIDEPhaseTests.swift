import SNNBase
import Testing

@testable import SNNEngine

@Suite struct SPIDEPhaseTests {
  /// Runs the event-driven phases and the dense reference on `network` and checks that
  /// every integer spike counter agrees.
  func checkAgainstReference(
    _ network: SPIDENetwork, T: Int, Tb: Int, keep: [Double]? = nil, dropout: Bool = false,
    frames: Bool = false, seed: UInt64 = 7, samples: Int = 3
  ) throws {
    var g = Xoshiro256StarStar(seed: seed)
    let compiled = try SPIDECompiledNetwork(
      network: network, timeSteps: T, backwardTimeSteps: Tb, keep: keep,
      inputEventBound: frames ? 3 : 0)
    let forward = SPIDEForwardPhase(network: network, timeSteps: T)
    let backward = SPIDEBackwardPhase(network: network, timeSteps: Tb)
    let layers = network.layers
    for _ in 0..<samples {
      var current: [Float]
      var frameValues: [Float]? = nil
      if frames {
        // Bias only as the constant current; integer counts 0…3 as events.
        current = network.inputCurrent(
          [Float](repeating: 0, count: network.input.neuronCount).withUnsafeBufferPointer { $0 })
        frameValues = (0..<(T * network.input.neuronCount)).map {
          network.input.isReal($0 % network.input.neuronCount) && g.nextUnitDouble() < 0.3
            ? Float(1 + g.nextIndex(below: 3)) : 0
        }
      } else {
        let x = SPIDETestNetworks.input(network.input, using: &g)
        current = x.withUnsafeBufferPointer { network.inputCurrent($0) }
      }
      let masks: [[UInt8]?]? =
        dropout
        ? layers.map { layer in (0..<layer.neuronCount).map { _ in g.nextUnitDouble() < 0.75 ? 1 : 0 } }
        : nil
      let expected = SPIDEDenseReference.forward(
        compiled, current: current, masks: masks, keep: keep, frames: frameValues)
      let maskPointers = masks?.map { m -> UnsafeMutablePointer<UInt8>? in
        guard let m else { return nil }
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: m.count)
        p.initialize(from: m, count: m.count)
        return p
      }
      defer { maskPointers?.forEach { $0?.deallocate() } }
      let maskArgument: [UnsafeBufferPointer<UInt8>?]? = masks.map { ms in
        zip(ms, maskPointers!).map { m, p in p.map { UnsafeBufferPointer(start: $0, count: m!.count) } }
      }
      // Busy layers (every block evaluated, no predictions) always (0), never (2) and by
      // the default rule (last, so the backward phase below uses that run): the same counts.
      var evaluations: [Double: Int] = [:]
      for fraction in [0, 2, forward.busyFraction] {
        forward.busyFraction = fraction
        current.withUnsafeBufferPointer { c in
          if let frameValues {
            frameValues.withUnsafeBufferPointer { f in
              forward.run(compiled, current: c, masks: maskArgument, keep: keep, frames: f)
            }
          } else {
            forward.run(compiled, current: c, masks: maskArgument, keep: keep)
          }
        }
        var totalSpikes = 0
        for l in layers.indices {
          let counts = Array(forward.counts(l))
          #expect(counts == expected[l], "forward layer \(l), busy fraction \(fraction)")
          totalSpikes += counts.reduce(0) { $0 + Int($1) }
        }
        #expect(totalSpikes > 0, "the test network should spike")
        evaluations[fraction] = layers.indices.reduce(0) { $0 + forward.blockEvaluations($1) }
      }
      #expect(evaluations[0]! >= evaluations[2]!, "always-busy layers evaluate every block")

      // Backward with the forward gates.
      var gates: [[UInt8]] = []
      for l in layers.indices {
        var a = [Float](repeating: 0, count: layers[l].neuronCount)
        var m = [UInt8](repeating: 0, count: layers[l].neuronCount)
        a.withUnsafeMutableBufferPointer { ab in
          m.withUnsafeMutableBufferPointer { mb in forward.rates(l, into: ab, gates: mb) }
        }
        gates.append(m)
      }
      let last = layers.count - 1
      let gradient: [Float] = (0..<layers[last].neuronCount).map {
        layers[last].isReal($0) ? Float(g.nextUniform(-0.8, 0.8)) : 0
      }
      let fbMask = masks?[0]
      let expectedBackward = SPIDEDenseReference.backward(
        compiled, gradient: gradient, gates: gates, feedbackMask: fbMask)
      let gateBuffers = gates.map { m -> UnsafeMutablePointer<UInt8> in
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: m.count)
        p.initialize(from: m, count: m.count)
        return p
      }
      defer { gateBuffers.forEach { $0.deallocate() } }
      let fbPointer = fbMask.map { m -> UnsafeMutablePointer<UInt8> in
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: m.count)
        p.initialize(from: m, count: m.count)
        return p
      }
      defer { fbPointer?.deallocate() }
      gradient.withUnsafeBufferPointer { gb in
        backward.run(
          compiled, gradient: gb,
          gates: zip(gateBuffers, gates).map { UnsafeBufferPointer(start: $0, count: $1.count) },
          feedbackMask: fbPointer.map { UnsafeBufferPointer(start: $0, count: fbMask!.count) })
      }
      var backwardSpikes = 0
      for l in layers.indices {
        let counts = Array(backward.counts(l))
        var mismatches = 0
        for n in counts.indices where gates[l][n] != 0 {
          if counts[n] != expectedBackward[l][n] { mismatches += 1 }
          backwardSpikes += abs(Int(counts[n]))
        }
        #expect(mismatches == 0, "backward layer \(l): \(mismatches) counters differ")
      }
      #expect(backwardSpikes > 0, "the test should produce backward spikes")
    }
  }

  @Test func convPoolDenseMatchesDenseReference() throws {
    try checkAgainstReference(try SPIDETestNetworks.convPoolDense(), T: 30, Tb: 40)
  }

  @Test func convTransposeFeedbackMatchesDenseReference() throws {
    try checkAgainstReference(try SPIDETestNetworks.convTransposeFeedback(), T: 30, Tb: 50)
  }

  @Test func dropoutMatchesDenseReference() throws {
    try checkAgainstReference(
      try SPIDETestNetworks.convPoolDense(), T: 25, Tb: 30, keep: [0.8, 1, 0.8, 0.5], dropout: true)
  }

  @Test func eventFramesMatchDenseReference() throws {
    try checkAgainstReference(try SPIDETestNetworks.convTransposeFeedback(), T: 20, Tb: 20, frames: true)
  }

  @Test func leakyAndIDEResetMatchDenseReference() throws {
    try checkAgainstReference(
      try SPIDETestNetworks.convPoolDense(neuron: SPIDENeuronModel(leak: 0.9)), T: 30, Tb: 40)
    try checkAgainstReference(
      try SPIDETestNetworks.recurrentDense(neuron: SPIDENeuronModel(reset: .ide, leak: 0.95)),
      T: 40, Tb: 40)
    try checkAgainstReference(
      try SPIDETestNetworks.recurrentDense(neuron: SPIDENeuronModel(reset: .ide)), T: 40, Tb: 60)
  }
}
