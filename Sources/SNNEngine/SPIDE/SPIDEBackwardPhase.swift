import SNNBase

/// The backward phase of SPIDE, event-driven: T_b steps of ternary neurons ("neuron
/// couples") on the transposed graph, whose rates β approach the implicit adjoint
///
///     δ_L = g + W_fbᵀ(D_0 ⊙ m_0 ⊙ δ_0)/q,   δ_{l−1} = W_lᵀ(D_l ⊙ m_l ⊙ δ_l)/q
///
/// while |δ| < A (and saturate at ±A beyond). Per step t = 1…T_b, layers L…0 in order:
/// layer L integrates g plus the feedback spikes of layer 0 from step t − 1; layer l − 1
/// integrates layer l's spikes of the same step. A neuron fires +A at v ≥ V_b and −A at
/// v ≤ −V_b and subtracts its spike.
///
/// Gated-off neurons (m = 0) are not simulated: their input and drive are masked, so they
/// never fire. This is exactly equivalent to dropping their spikes (what the spec
/// describes), because a gated-off neuron's β is multiplied by m = 0 wherever it is used
/// and its spikes would be dropped; only the count of spikes nobody receives differs.
///
/// Cost: ternary spikes deliver through the projections' transposed runs; a block is
/// evaluated only when it received input or when layer L's constant drive g brings one of
/// its neurons to ±V_b (predicted in closed form and scheduled); silent steps are skipped.
public final class SPIDEBackwardPhase {
  public let layers: [SPIDELayer]
  public let timeSteps: Int
  public let leak: Double
  var populations: UnsafeMutablePointer<SPIDEPopulation>
  /// Per layer, the delivery of its spikes to the previous layer (index 0: the feedback).
  var deliveries: UnsafeMutablePointer<SPIDEDelivery?>
  var schedules: [BucketEventQueue<Int32>]
  var timeBase = 0
  /// Spikes of layer 0 at the current step with their sign, for the feedback.
  var feedbackSpikes: [Int32] = []
  let leakMultiplier: Int64
  /// λ^{T_b−t}.
  let spikeWeights: [Double]
  /// Synaptic events delivered into each layer in the last run (layer L: from the feedback).
  public private(set) var synapticEvents: [Int]
  public private(set) var activeSteps = 0

  public init(layers: [SPIDELayer], timeSteps: Int, leak: Double = 1) {
    precondition(!layers.isEmpty && timeSteps >= 1)
    self.layers = layers
    self.timeSteps = timeSteps
    self.leak = leak
    populations = .allocate(capacity: layers.count)
    for (l, layer) in layers.enumerated() { (populations + l).initialize(to: SPIDEPopulation(layer)) }
    deliveries = .allocate(capacity: layers.count)
    deliveries.initialize(repeating: nil, count: layers.count)
    schedules = layers.map { _ in BucketEventQueue<Int32>(horizon: timeSteps + 2) }
    leakMultiplier = SPIDEFixedPoint.leakMultiplier(leak)
    spikeWeights = (0...timeSteps).map { GridLIF.power(leak, timeSteps - $0) }
    synapticEvents = Array(repeating: 0, count: layers.count)
  }

  public convenience init(network: SPIDENetwork, timeSteps: Int) {
    self.init(layers: network.layers, timeSteps: timeSteps, leak: network.neuron.leak)
  }

  deinit {
    for l in 0..<layers.count { populations[l].deallocate() }
    populations.deinitialize(count: layers.count)
    populations.deallocate()
    deliveries.deinitialize(count: layers.count)
    deliveries.deallocate()
  }

  /// Runs T_b steps for one sample.
  ///
  /// - Parameters:
  ///   - gradient: g = ∂(s·L)/∂a_L per neuron of layer L (engine layout), injected at every
  ///     step.
  ///   - gates: per layer, m = 1[0 < a < 1] from the forward phase (one byte per neuron).
  ///   - feedbackMask: layer 0's dropout mask on the feedback current (nil: all kept):
  ///     spikes of layer 0 reach the feedback only where it is 1.
  public func run(
    _ network: SPIDECompiledNetwork, gradient: UnsafeBufferPointer<Float>,
    gates: [UnsafeBufferPointer<UInt8>], feedbackMask: UnsafeBufferPointer<UInt8>? = nil
  ) {
    let net = network.network
    precondition(net.layers == layers && network.backwardTimeSteps == timeSteps)
    precondition(net.neuron.leak == leak && gates.count == layers.count)
    let last = layers.count - 1
    precondition(gradient.count == layers[last].neuronCount, "gradient size mismatch")
    let leaky = leak < 1
    let steps = Int32(timeSteps)
    timeBase += timeSteps + 2
    synapticEvents = Array(repeating: 0, count: layers.count)
    activeSteps = 0
    feedbackSpikes.removeAll(keepingCapacity: true)
    let limit = network.backwardDriveLimit
    for l in 0...last {
      deliveries[l] = l == 0 ? network.feedbackBackwardDelivery : network.backwardDelivery[l]
    }

    for l in 0...last {
      let pop = populations + l
      pop.pointee.clear(leaky: leaky)
      schedules[l].removeAll()
      schedules[l].advance(to: timeBase)
      let s = network.backwardShift[l]
      pop.pointee.threshold = SPIDEFixedPoint.quantize(net.neuron.vBackward, shift: s)
      pop.pointee.reset = SPIDEFixedPoint.quantize(net.neuron.amplitude, shift: s)
      let gate = gates[l]
      precondition(gate.count >= layers[l].neuronCount)
      let factor = Double(1 << s)
      let mask = pop.pointee.mask
      let drive = pop.pointee.drive
      let n = layers[l].neuronCount
      for i in 0..<n { mask[i] = gate[i] != 0 ? -1 : 0 }
      if l == last {
        var any: Int32 = 0
        for i in 0..<n {
          let c = min(max(Double(gradient[i]), -limit), limit)
          drive[i] = Int32((c * factor).rounded()) & mask[i]
          any |= drive[i]
        }
        pop.pointee.hasDrive = any != 0
        if pop.pointee.hasDrive {
          for b in 0..<layers[l].pixelCount { predict(pop, block: b, after: 0, layer: l) }
        }
      } else {
        drive.update(repeating: 0, count: n)
        pop.pointee.hasDrive = false
      }
    }

    var t: Int32 = nextStep(after: 0, feedbackPending: false)
    while t <= steps {
      activeSteps += 1
      for l in stride(from: last, through: 0, by: -1) {
        let pop = populations + l
        collectDue(pop, layer: l, step: t)
        if pop.pointee.allTouched {
          for b in 0..<pop.pointee.blockCount {
            evaluate(network, pop, layer: l, block: b, step: t, leaky: leaky)
          }
        } else {
          var i = 0
          while i < pop.pointee.touchedCount {
            evaluate(
              network, pop, layer: l, block: Int(pop.pointee.touched[i]), step: t, leaky: leaky)
            i += 1
          }
        }
        pop.pointee.touchedCount = 0
        pop.pointee.allTouched = false
      }
      let pending = !feedbackSpikes.isEmpty && t < steps
      if pending { deliverFeedback(network, feedbackMask, step: t + 1) }
      feedbackSpikes.removeAll(keepingCapacity: true)
      t = nextStep(after: t, feedbackPending: pending)
    }
  }

  func nextStep(after t: Int32, feedbackPending: Bool) -> Int32 {
    if feedbackPending { return t + 1 }
    var best = Int32(timeSteps + 1)
    for l in 0..<layers.count {
      if let key = schedules[l].minimumKey { best = min(best, Int32(key.time - timeBase)) }
    }
    return max(best, t + 1)
  }

  @inline(__always)
  func collectDue(_ pop: UnsafeMutablePointer<SPIDEPopulation>, layer l: Int, step t: Int32) {
    let due = timeBase + Int(t)
    while let key = schedules[l].minimumKey, key.time <= due {
      let (k, b) = schedules[l].pop()!
      if k.time == due && pop.pointee.next[Int(b)] == t { pop.pointee.touch(block: Int(b), step: t) }
    }
  }

  /// Predicts block b's next crossing of ±V_b under its constant drive alone.
  @inline(__always)
  func predict(
    _ pop: UnsafeMutablePointer<SPIDEPopulation>, block b: Int, after t: Int32, layer l: Int
  ) {
    let k = pop.pointee.predictedSteps(block: b, leak: leak, twoSided: true)
    if let step = pop.pointee.recordPrediction(block: b, steps: k, after: t, phaseSteps: timeSteps) {
      schedules[l].push(time: timeBase + Int(step), phase: .threshold, Int32(b))
    }
  }

  @inline(__always)
  func evaluate(
    _ network: SPIDECompiledNetwork, _ pop: UnsafeMutablePointer<SPIDEPopulation>, layer l: Int,
    block b: Int, step t: Int32, leaky: Bool
  ) {
    let size = pop.pointee.blockSize
    let base = b * size
    let idle = t - pop.pointee.last[b]
    pop.pointee.last[b] = t
    pop.pointee.blockEvaluations += 1
    let vb = pop.pointee.threshold
    let amplitude = pop.pointee.reset
    if leaky {
      let weight = spikeWeights[Int(t)]
      for n in base..<(base + size) {
        let c = pop.pointee.drive[n]
        var u = pop.pointee.v[n]
        var k: Int32 = 1
        while k < idle {
          u = SPIDEFixedPoint.leak(u &+ c, leakMultiplier)
          k += 1
        }
        u = u &+ c &+ (pop.pointee.acc[n] & pop.pointee.mask[n])
        pop.pointee.acc[n] = 0
        if u >= vb {
          u = u &- amplitude
          pop.pointee.count[n] &+= 1
          pop.pointee.weighted[n] += weight
          pop.pointee.spikes += 1
          emit(network, layer: l, neuron: n, positive: true, step: t)
        } else if u <= 0 &- vb {
          u = u &+ amplitude
          pop.pointee.count[n] &-= 1
          pop.pointee.weighted[n] -= weight
          pop.pointee.spikes += 1
          emit(network, layer: l, neuron: n, positive: false, step: t)
        }
        pop.pointee.v[n] = SPIDEFixedPoint.leak(u, leakMultiplier)
      }
    } else {
      let vbV = SIMD8<Int32>(repeating: vb)
      let minusVb = SIMD8<Int32>(repeating: 0 &- vb)
      let amplitudeV = SIMD8<Int32>(repeating: amplitude)
      let idleV = SIMD8<Int32>(repeating: idle)
      let zero = SIMD8<Int32>(repeating: 0)
      // A pooling layer sends its spikes back to the k² pixels of its window, lane for lane:
      // one vector add per window pixel and 8 lanes (no per-spike work).
      let pooled = l > 0 && deliveries[l]?.route.pattern == .poolBackward
      var poolWeight = zero
      var poolKernel = 0
      var route: SPIDERoute? = nil
      if pooled, let d = deliveries[l] {
        poolWeight = SIMD8<Int32>(repeating: d.poolWeight)
        poolKernel = d.route.kernel
        route = d.route
      }
      var spikeLanes = zero
      var g = 0
      while g < size {
        let i = base + g
        var u = Lanes.load(pop.pointee.v, i)
        let c = Lanes.load(pop.pointee.drive, i)
        u = u &+ c &* idleV &+ (Lanes.load(pop.pointee.acc, i) & Lanes.load(pop.pointee.mask, i))
        let up = Lanes.atLeast(u, vbV)
        let down = Lanes.atLeast(minusVb, u)
        u = u &- (amplitudeV & up) &+ (amplitudeV & down)
        Lanes.store(u, pop.pointee.v, i)
        Lanes.store(zero, pop.pointee.acc, i)
        if Lanes.anyNonzero(up | down) {
          Lanes.store(Lanes.load(pop.pointee.count, i) &- up &+ down, pop.pointee.count, i)
          if let route {
            spikeLanes = spikeLanes &- (up | down)
            let value = (poolWeight & up) &- (poolWeight & down)
            let target = populations + (l - 1)
            for dy in 0..<poolKernel {
              for dx in 0..<poolKernel {
                let j = route.poolSource(ofBlock: b, dy, dx) * size + g
                Lanes.store(Lanes.load(target.pointee.acc, j) &+ value, target.pointee.acc, j)
              }
            }
          } else {
            for lane in 0..<8 where up[lane] != 0 || down[lane] != 0 {
              pop.pointee.spikes += 1
              emit(network, layer: l, neuron: i + lane, positive: up[lane] != 0, step: t)
            }
          }
        }
        g += 8
      }
      if let route {
        let spikes = Lanes.sum(spikeLanes)
        pop.pointee.spikes += spikes
        if spikes > 0 {
          for dy in 0..<poolKernel {
            for dx in 0..<poolKernel {
              populations[l - 1].touch(block: route.poolSource(ofBlock: b, dy, dx), step: t)
            }
          }
          synapticEvents[l - 1] += spikes * poolKernel * poolKernel
        }
      }
    }
    predict(pop, block: b, after: t, layer: l)
  }

  /// Delivers a ternary spike of neuron n of layer l: to layer l − 1 at once, or (layer 0)
  /// to the feedback for the next step.
  @inline(__always)
  func emit(_ network: SPIDECompiledNetwork, layer l: Int, neuron n: Int, positive: Bool, step t: Int32) {
    if l == 0 {
      if deliveries[0] != nil { feedbackSpikes.append(positive ? Int32(n) : ~Int32(n)) }
      return
    }
    guard let d = deliveries[l] else { return }
    let target = populations + (l - 1)
    let acc = target.pointee.acc
    var events = 0
    if d.isPool {
      let w = positive ? d.poolWeight : 0 &- d.poolWeight
      d.route.forEachRun(of: n) { first, _, count, block in
        acc[first] &+= w
        target.pointee.touch(run: block, step: t)
        events += count
      }
    } else if positive {
      d.route.forEachRun(of: n) { first, offset, count, block in
        Lanes.add(acc + first, d.weights + offset, count)
        target.pointee.touch(run: block, step: t)
        events += count
      }
    } else {
      d.route.forEachRun(of: n) { first, offset, count, block in
        Lanes.subtract(acc + first, d.weights + offset, count)
        target.pointee.touch(run: block, step: t)
        events += count
      }
    }
    synapticEvents[l - 1] += events
  }

  /// Delivers layer 0's spikes of step t − 1 through the transposed feedback into layer L.
  func deliverFeedback(
    _ network: SPIDECompiledNetwork, _ mask: UnsafeBufferPointer<UInt8>?, step t: Int32
  ) {
    guard let d = deliveries[0] else { return }
    let last = layers.count - 1
    let target = populations + last
    let acc = target.pointee.acc
    var events = 0
    for code in feedbackSpikes {
      let positive = code >= 0
      let n = Int(positive ? code : ~code)
      if let mask, mask[n] == 0 { continue }
      d.route.forEachRun(of: n) { first, offset, count, block in
        if positive {
          Lanes.add(acc + first, d.weights + offset, count)
        } else {
          Lanes.subtract(acc + first, d.weights + offset, count)
        }
        target.pointee.touch(run: block, step: t)
        events += count
      }
    }
    synapticEvents[last] += events
  }

  // MARK: Results

  /// The signed spike counts Σ z/A of layer l, valid until the next run.
  public func counts(_ l: Int) -> UnsafeBufferPointer<Int32> {
    UnsafeBufferPointer(start: populations[l].count, count: layers[l].neuronCount)
  }

  /// Ternary spikes (of either sign) of layer l in the last run.
  public func spikeCount(_ l: Int) -> Int { populations[l].spikes }

  public func blockEvaluations(_ l: Int) -> Int { populations[l].blockEvaluations }

  /// Writes β of layer l: A·Σ z/(A·T_b) (or the λ-weighted mean for leaky neurons).
  public func rates(_ l: Int, amplitude: Double, into beta: UnsafeMutableBufferPointer<Float>) {
    let pop = populations[l]
    let n = layers[l].neuronCount
    precondition(beta.count >= n)
    if leak < 1 {
      var norm = 0.0
      for t in 1...timeSteps { norm += spikeWeights[t] }
      for i in 0..<n { beta[i] = Float(amplitude * pop.weighted[i] / norm) }
    } else {
      let scale = Float(amplitude / Double(timeSteps))
      for i in 0..<n { beta[i] = Float(pop.count[i]) * scale }
    }
  }
}
