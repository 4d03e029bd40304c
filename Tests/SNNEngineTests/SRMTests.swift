import Testing

@testable import SNNBase
@testable import SNNEngine

/// A random small network with its weights (model layout) and an input (channels-first).
struct SRMCase {
  var network: SRMNetwork
  var weights: [[Float]]
  var input: [Float]
  var frames: Bool

  /// Quantised values keep every input current exact in Float whatever the summation
  /// order, so the event engine and the dense reference must agree bit for bit.
  static func make(seed: UInt64, frames: Bool, scale: Double = 1) -> SRMCase {
    var rng = Xoshiro256StarStar(seed: seed)
    let T = frames ? 6 : 8
    let shape: SRMNetwork.Shape
    let specs: [SRMNetwork.LayerSpec]
    let means: [Double]
    if frames {
      shape = SRMNetwork.Shape(height: 6, width: 6, channels: 2)
      specs = [
        .conv(outChannels: 3, kernel: 3, stride: 1, padding: 1, pool: 1),
        .conv(outChannels: 4, kernel: 3, stride: 2, padding: 1, pool: 2),
        .dense(outFeatures: 2, pool: 1),
      ]
      means = [0.15, 0.35, 0.3]
    } else {
      shape = SRMNetwork.Shape(height: 10, width: 10, channels: 1)
      specs = [
        .conv(outChannels: 4, kernel: 3, stride: 1, padding: 0, pool: 1),
        .conv(outChannels: 6, kernel: 3, stride: 1, padding: 1, pool: 2),
        .dense(outFeatures: 8, pool: 2),
        .dense(outFeatures: 3, pool: 1),
      ]
      means = [0.12, 0.3, 0.35, 0.25]
    }
    var network = try! SRMNetwork(
      input: frames ? .frames : .current, inputShape: shape, timeSteps: T,
      parameters: GridSRM.Parameters(), layers: specs)
    var weights: [[Float]] = []
    for (l, layer) in network.layers.enumerated() {
      let w = (0..<layer.weightCount).map { _ in
        Float((64 * scale * (means[l] + 0.4 * rng.nextNormal())).rounded() / 64)
      }
      w.withUnsafeBufferPointer { network.setWeights(layer: l, $0) }
      weights.append(w)
    }
    let count = frames ? T * shape.count : shape.count
    let input: [Float] = (0..<count).map { _ in
      frames
        ? (rng.nextUnitDouble() < 0.25 ? Float(1 + Int(rng.nextUnitDouble() * 2)) : 0)
        : Float((8 * rng.nextUnitDouble()).rounded(.down) / 8)
    }
    return SRMCase(network: network, weights: weights, input: input, frames: frames)
  }

  /// The input channels-last, as the engine takes it.
  var channelsLast: [Float] {
    let s = network.inputShape
    let frameCount = frames ? network.timeSteps : 1
    var out = [Float](repeating: 0, count: input.count)
    for t in 0..<frameCount {
      for c in 0..<s.channels {
        for y in 0..<s.height {
          for x in 0..<s.width {
            out[t * s.count + (y * s.width + x) * s.channels + c] =
              input[t * s.count + (c * s.height + y) * s.width + x]
          }
        }
      }
    }
    return out
  }

  /// Channels-first index of channels-last neuron `j` of layer `l`.
  func channelsFirst(_ j: Int, layer l: Int) -> Int {
    let o = network.layers[l].output
    let c = j % o.channels, pixel = j / o.channels
    return c * o.pixels + pixel
  }
}

@Suite struct SRMTests {
  // Spec A8.1: the recursion equals the kernel-sum form.
  @Test func traceRecursionEqualsKernelSum() {
    var rng = Xoshiro256StarStar(seed: 11)
    for parameters in [GridSRM.Parameters(), GridSRM.Parameters(tauM: 8, tauS: 4, tauG: 3)] {
      let p = GridSRM.Propagators(parameters)
      #expect(abs(p.epsilon(1) - 1 / parameters.tauS) < 1e-6)
      for _ in 0..<200 {
        let T = 30
        let inputs = (0..<T).map { _ in rng.nextUnitDouble() < 0.4 ? rng.nextUniform(-0.5, 0.8) : 0
        }
        var x = GridSRM.Traces()
        var lastSpike = -1
        for t in 0..<T {
          let u = GridSRM.step(&x, current: Float(inputs[t]), p)
          var kernelSum = 0.0, gSum = 0.0
          for s in (lastSpike + 1)...t {
            kernelSum += inputs[s] * p.epsilon(t - s + 1)
            gSum += inputs[s] * -p.backwardKernel(t - s + 1)
          }
          #expect(abs(Double(u) - kernelSum) < 1e-6)
          #expect(abs(Double(x.g) - gSum) < 1e-6)
          if u >= p.threshold {
            x = GridSRM.Traces()
            lastSpike = t
          }
        }
      }
    }
  }

  @Test func predictedCrossingMatchesStepping() {
    var rng = Xoshiro256StarStar(seed: 5)
    let p = GridSRM.Propagators(GridSRM.Parameters())
    var predictedSome = 0
    for _ in 0..<5000 {
      let m = Float(rng.nextUniform(-3, 6)), s = Float(rng.nextUniform(-3, 6))
      var x = GridSRM.Traces(m: m, s: s, g: 0)
      if p.kappa * (m - s) >= p.threshold { continue }
      var found: Int? = nil
      for k in 1...40 {
        if GridSRM.step(&x, current: 0, p) >= p.threshold {
          found = k
          break
        }
      }
      let predicted = GridSRM.stepsToThreshold(m: m, s: s, propagators: p, limit: 40)
      #expect(predicted == found, "m \(m) s \(s)")
      if predicted != nil { predictedSome += 1 }
    }
    #expect(predictedSome > 50)
  }

  /// Spec A8.5: the event engine's spikes (with Δu and G) and gradients equal the dense
  /// reference's on random networks with convolutions, strides, padding, pooling and
  /// dense layers, for static and framed input.
  @Test(arguments: [false, true])
  func eventStreamsMatchDenseReference(frames: Bool) {
    var layerSpikes = [Int](repeating: 0, count: frames ? 3 : 4)
    var comparedGradients = 0
    for seed in 1...12 {
      let testCase = SRMCase.make(seed: UInt64(seed), frames: frames)
      let net = testCase.network
      let reference = SRMReference(network: net, weights: testCase.weights)
      let f = reference.forward(input: testCase.input, frames: frames)
      let sim = SRMSimulator(network: net)
      testCase.channelsLast.withUnsafeBufferPointer { sim.forward(input: $0) }
      // Spikes, Δu and G, bit for bit.
      for l in net.layers.indices {
        let record = sim.spikes(layer: l)
        var engine = Set<[Int]>()
        for k in 0..<record.count {
          let n = testCase.channelsFirst(Int(record.neuron[k]), layer: l)
          let t = Int(record.step[k])
          engine.insert([t, n])
          #expect(record.du[k] == f.du[l][t][n] && record.g[k] == f.g[l][t][n])
        }
        var dense = Set<[Int]>()
        for t in 0..<net.timeSteps {
          for n in 0..<net.layers[l].output.count where f.spikes[l][t][n] { dense.insert([t, n]) }
        }
        #expect(engine == dense, "seed \(seed) layer \(l)")
        layerSpikes[l] += record.count
      }
      // Backward.
      var rng = Xoshiro256StarStar(seed: UInt64(100 + seed))
      let outputs = net.layers.last!.output.count
      let gradients = (0..<outputs).map { _ in Float((rng.nextUniform(-1, 1) * 64).rounded() / 64) }
      sim.zeroGradients()
      sim.setOutputGradients(gradients)
      sim.backward()
      let r = reference.backward(f, outputGradient: gradients.map(Double.init))
      for l in net.layers.indices {
        let record = sim.spikes(layer: l)
        let scale = r.spikeGradient[l].flatMap { $0 }.map(abs).max() ?? 0
        for k in 0..<record.count {
          let n = testCase.channelsFirst(Int(record.neuron[k]), layer: l)
          let expected = r.spikeGradient[l][Int(record.step[k])][n]
          let tolerance = 1e-4 * max(abs(expected), 1e-3 * scale, 1e-12)
          #expect(
            abs(Double(record.gradient[k]) - expected) <= tolerance, "seed \(seed) layer \(l)")
          if expected != 0 { comparedGradients += 1 }
        }
        var model = [Float](repeating: 0, count: net.layers[l].weightCount)
        sim.withGradient(layer: l) { g in
          model.withUnsafeMutableBufferPointer {
            net.addGradient(layer: l, transposed: g, scale: 1, into: $0)
          }
        }
        let wScale = r.weightGradient[l].map(abs).max() ?? 0
        for i in model.indices {
          let expected = r.weightGradient[l][i]
          #expect(
            abs(Double(model[i]) - expected) <= 1e-4 * max(abs(expected), 1e-3 * wScale, 1e-12))
        }
      }
    }
    // The comparison covered activity in every layer and many gradient-carrying spikes.
    #expect(layerSpikes.allSatisfy { $0 > 20 }, "spikes per layer \(layerSpikes)")
    #expect(comparedGradients > 100)
  }

  // Spec A8.2: the event backward's weight gradient is Σ_m A_m Σ_window ε(k)·x.
  @Test func weightGradientIsTheKernelFormula() {
    let testCase = SRMCase.make(seed: 3, frames: true)
    let net = testCase.network
    let sim = SRMSimulator(network: net)
    let input = testCase.channelsLast
    input.withUnsafeBufferPointer { sim.forward(input: $0) }
    let L = net.layers.count
    sim.zeroGradients()
    sim.setOutputGradients([0.7, -0.4])
    sim.backward()
    // Layer 0 of the framed case: inputs x[t][cell] are the frames (channels-last).
    let layer = net.layers[0]
    guard case .convolution(let c) = layer.connectivity else {
      Issue.record("expected a convolution")
      return
    }
    let record = sim.spikes(layer: 0)
    let p = net.propagators
    var expected = [Double](repeating: 0, count: layer.weightCount)  // [cout][ky][kx][cin]
    for k in 0..<record.count where record.gradient[k] != 0 {
      let d = Double(record.gradient[k])
      let du = Double(record.du[k])
      let a = d * min(0, max(-4, -1 / du))
      let j = Int(record.neuron[k])
      let co = j % c.outChannels, pixel = j / c.outChannels
      let oy = pixel / c.outWidth, ox = pixel % c.outWidth
      for t in (Int(record.previousStep[k]) + 1)...Int(record.step[k]) {
        let eps = p.epsilon(Int(record.step[k]) - t + 1)
        for ky in 0..<3 {
          for kx in 0..<3 {
            let y = oy - 1 + ky, x = ox - 1 + kx
            if y < 0 || y >= 6 || x < 0 || x >= 6 { continue }
            for ci in 0..<2 {
              let value = Double(input[t * 72 + (y * 6 + x) * 2 + ci])
              expected[((co * 3 + ky) * 3 + kx) * 2 + ci] += a * eps * value
            }
          }
        }
      }
    }
    #expect(record.gradient.contains { $0 != 0 } && L == 3)
    sim.withGradient(layer: 0) { g in
      for i in expected.indices {
        #expect(abs(Double(g[i]) - expected[i]) <= 1e-5 * max(1, abs(expected[i])))
      }
    }
  }

  // Spec A8.3: with the factor 1, the gradients received by a layer's input spikes sum to
  // the gradients of its output spikes (when G > 0), pooling included.
  @Test func gradientSumIsInvariantAcrossLayers() {
    var checkedLayers = 0
    for seed in 1...10 {
      let testCase = SRMCase.make(seed: UInt64(seed), frames: false)
      let net = testCase.network
      let reference = SRMReference(network: net, weights: testCase.weights)
      let f = reference.forward(input: testCase.input, frames: false)
      let outputGradient = [0.5, -0.25, 0.75]
      // Double reference with G recomputed exactly: the identity holds to 1e-9.
      let r = reference.backward(f, outputGradient: outputGradient, decay: 1, exactG: true)
      // The fp32 engine (G from its Float traces): to fp32 accuracy.
      let sim = SRMSimulator(network: net)
      testCase.channelsLast.withUnsafeBufferPointer { sim.forward(input: $0) }
      sim.setOutputGradients(outputGradient.map(Float.init))
      sim.backward(options: SRMSimulator.BackwardOptions(layerDecay: 1))
      for l in 1..<net.layers.count {
        // Output spikes of layer l that sent gradient: those with D ≠ 0 and G > 0.
        var sent = 0.0, received = 0.0
        for t in 0..<net.timeSteps {
          for n in 0..<net.layers[l].output.count where f.spikes[l][t][n] && f.g[l][t][n] > 0 {
            sent += r.spikeGradient[l][t][n]
          }
          for n in 0..<net.layers[l - 1].output.count where f.spikes[l - 1][t][n] {
            received += r.spikeGradient[l - 1][t][n]
          }
        }
        // Only when every spike that carried gradient had G > 0 (else the identity breaks, A7).
        var allPositive = true
        for t in 0..<net.timeSteps {
          for n in 0..<net.layers[l].output.count
          where f.spikes[l][t][n] && r.spikeGradient[l][t][n] != 0 && f.g[l][t][n] <= 0 {
            allPositive = false
          }
        }
        guard allPositive, sent != 0 else { continue }
        #expect(abs(sent - received) <= 1e-9 * max(1, abs(sent)), "seed \(seed) layer \(l)")
        let engineSent = sim.spikes(layer: l)
        let engineReceived = sim.spikes(layer: l - 1)
        var es = 0.0, er = 0.0
        for k in 0..<engineSent.count where engineSent.g[k] > 0 {
          es += Double(engineSent.gradient[k])
        }
        for k in 0..<engineReceived.count { er += Double(engineReceived.gradient[k]) }
        #expect(abs(es - er) <= 1e-4 * max(1, abs(es)), "engine seed \(seed) layer \(l)")
        checkedLayers += 1
      }
    }
    #expect(checkedLayers >= 10)
  }

  // Spec A8.4: every synaptic contribution has the sign of w·D (when G > 0).
  @Test func contributionsHaveTheSignOfWeightTimesGradient() {
    var checked = 0
    for seed in 1...6 {
      let testCase = SRMCase.make(seed: UInt64(seed), frames: false)
      let reference = SRMReference(network: testCase.network, weights: testCase.weights)
      let f = reference.forward(input: testCase.input, frames: false)
      let r = reference.backward(f, outputGradient: [0.5, -0.25, 0.75])
      for c in r.contributions where c.value != 0 {
        // A contribution is γ·w·B·(−(1−θ_g)^k)·x with B = D·(−1/G): sign(w)·sign(D) for G > 0.
        #expect((c.value > 0) == (c.w * c.d > 0))
        checked += 1
      }
    }
    #expect(checked > 1000)
  }

  // Spec A8.6: with the trick, the label neuron has a gradient-carrying spike whenever some
  // Δu > 0.05.
  @Test func supervisoryTrickLeavesTheLabelAGradientCarryingSpike() {
    var forced = 0, eligible = 0
    for seed in 1...40 {
      let testCase = SRMCase.make(seed: UInt64(seed), frames: false, scale: 0.6)
      let sim = SRMSimulator(network: testCase.network)
      testCase.channelsLast.withUnsafeBufferPointer { sim.forward(input: $0) }
      for label in 0..<3 {
        let trajectory = sim.outputTrajectory(neuron: label)
        // The replayed trajectory has the forward's spikes.
        let record = sim.spikes(layer: 3)
        for k in 0..<record.count where record.neuron[k] == Int32(label) && !record.forced[k] {
          #expect(trajectory.spike[Int(record.step[k])])
        }
        guard trajectory.du.contains(where: { $0 > 0.05 }) else { continue }
        eligible += 1
        testCase.channelsLast.withUnsafeBufferPointer { sim.forward(input: $0) }
        if sim.applySupervisoryTrick(label: label) { forced += 1 }
        let after = sim.spikes(layer: 3)
        let mine = (0..<after.count).filter { after.neuron[$0] == Int32(label) }
        #expect(!mine.isEmpty)
        // The forced spike sits at the last step with Δu > 0.05 and carries its Δu and G.
        let last = (0..<trajectory.du.count).last { trajectory.du[$0] > 0.05 }!
        #expect(mine.contains { Int(after.step[$0]) == last })
        var gradients = [Float](repeating: 0, count: 3)
        gradients[label] = -0.8
        sim.setOutputGradients(gradients)
        sim.backward()
        #expect(mine.contains { sim.spikes(layer: 3).gradient[$0] != 0 })
        // Windows follow the step order of the label's spikes.
        let steps = mine.map { Int(after.step[$0]) }.sorted()
        for k in mine {
          let step = Int(after.step[k])
          let earlier = steps.filter { $0 < step }.last ?? -1
          #expect(Int(after.previousStep[k]) == earlier)
        }
      }
    }
    #expect(eligible > 20 && forced > 5, "eligible \(eligible), forced \(forced)")
  }
}
