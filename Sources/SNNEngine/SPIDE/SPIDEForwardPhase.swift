import SNNBase

/// The forward phase of SPIDE, event-driven: T steps of the feedback network in fixed
/// point, giving each neuron's spike count (rate a = count/T, or the λ-weighted rate for
/// leaky neurons) and gate m = 1[0 < a < 1].
///
/// What costs work:
/// - a **spike** delivers its fan-out through the projection's runs (`SIMD8` adds into
///   the target layer's input buffer) and marks the target blocks for evaluation;
/// - a **block evaluation** (one pixel's channels) integrates the idle steps since its last
///   evaluation in closed form (`v + k·c`; leaky: k single steps), the step's input, fires,
///   resets, and predicts the block's next drive-only crossing, which it schedules in a
///   ``BucketEventQueue``;
/// - nothing else: blocks without input or due crossing are not touched, and steps without
///   any event are skipped.
///
/// **Busy layers.** When most of a layer's blocks are active (they fired or received
/// input) at a step, predicting each block's next crossing costs more than it saves: the
/// block is evaluated at the next step anyway. Such a layer then evaluates every block at
/// the next step and skips the predictions and the queue; it predicts again, for every
/// block, at the first step after its activity falls below ``busyFraction``. Evaluating a
/// block that has nothing to do is exact (it integrates its idle steps), so spike counts do
/// not depend on this choice; only the work does.
///
/// Within a step layers are evaluated in order, so spikes of layer l reach layer l + 1 in the
/// same step; spikes of layer L reach layer 0 at the next step through the feedback. Integer
/// arithmetic makes the result independent of the order of events.
///
/// A phase object owns its buffers and is reused for many samples (one per thread).
public final class SPIDEForwardPhase {
  public let layers: [SPIDELayer]
  public let timeSteps: Int
  public let leak: Double
  var populations: UnsafeMutablePointer<SPIDEPopulation>
  /// Per layer, the delivery of its spikes to the next layer (index L: the feedback).
  var deliveries: UnsafeMutablePointer<SPIDEDelivery?>
  var schedules: [BucketEventQueue<Int32>]
  var timeBase = 0
  /// Spikes of layer L at the current step, for the feedback.
  var feedbackSpikes: [Int32] = []
  /// The channels that fired in the block being evaluated (scratch, largest block size).
  let firedChannels: UnsafeMutablePointer<Int32>
  let leakMultiplier: Int64
  /// λ^{T−t} for t = 0…T.
  let spikeWeights: [Double]
  /// Synaptic events delivered into each layer during the last run (index 0: feedback).
  public private(set) var synapticEvents: [Int]
  /// Input events (event inputs) delivered into layer 0 during the last run.
  public private(set) var inputEvents = 0
  /// Steps at which anything happened in the last run.
  public private(set) var activeSteps = 0
  /// The share of a layer's blocks that must be active at a step for the layer to evaluate
  /// all its blocks at the next step without predictions (> 1: never; 0: always).
  public var busyFraction = 0.75
  /// Per layer: every block must be evaluated at the current step (no predictions were
  /// made at the previous one).
  var committed: [Bool]
  /// Per layer: whether at least `busyFraction` of its blocks were active at the previous
  /// evaluated step.
  var busy: [Bool]

  /// A phase for networks with `layers` (in order) and `timeSteps` steps; `leak` λ = 1 for
  /// IF neurons.
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
    firedChannels = .allocate(capacity: layers.map(\.paddedChannels).max()!)
    committed = Array(repeating: false, count: layers.count)
    busy = Array(repeating: false, count: layers.count)
  }

  deinit {
    firedChannels.deallocate()
    for l in 0..<layers.count { populations[l].deallocate() }
    populations.deinitialize(count: layers.count)
    populations.deallocate()
    deliveries.deinitialize(count: layers.count)
    deliveries.deallocate()
  }

  /// A phase shaped for `network`.
  public convenience init(network: SPIDENetwork, timeSteps: Int) {
    self.init(layers: network.layers, timeSteps: timeSteps, leak: network.neuron.leak)
  }

  /// Runs T steps of `network` for one sample.
  ///
  /// - Parameters:
  ///   - current: layer 0's constant input current per neuron (`F·x + b_0`, times its
  ///     dropout mask scale when dropout is on); 0 for padding.
  ///   - masks: per layer, nil or one byte per neuron: 0 where the layer's spike-input
  ///     current is dropped (for layers ≥ 1 the bias too), 1 where it is kept.
  ///   - keep: per layer, the keep probability of that dropout (the kept input is scaled
  ///     by 1/keep; implemented exactly by scaling the threshold and reset by keep).
  ///   - frames: for event inputs, T frames in the engine layout of the input
  ///     (`[T][input.neuronCount]`), integer counts delivered through the input projection
  ///     at their step (`current` then holds only the bias).
  public func run(
    _ network: SPIDECompiledNetwork, current: UnsafeBufferPointer<Float>,
    masks: [UnsafeBufferPointer<UInt8>?]? = nil, keep: [Double]? = nil,
    frames: UnsafeBufferPointer<Float>? = nil
  ) {
    let net = network.network
    precondition(net.layers == layers && network.timeSteps == timeSteps, "phase shape mismatch")
    precondition(net.neuron.leak == leak)
    precondition(current.count == layers[0].neuronCount, "current size mismatch")
    let last = layers.count - 1
    let leaky = leak < 1
    let theta = net.neuron.vThreshold
    let q = net.neuron.q
    let steps = Int32(timeSteps)
    timeBase += timeSteps + 2
    synapticEvents = Array(repeating: 0, count: layers.count)
    inputEvents = 0
    activeSteps = 0
    feedbackSpikes.removeAll(keepingCapacity: true)
    for l in 0...last {
      committed[l] = false
      busy[l] = false
      deliveries[l] = l == last ? network.feedbackForwardDelivery : network.forwardDelivery[l]
    }

    // Per-layer setup: thresholds, drives, masks, first predictions.
    for l in 0...last {
      let pop = populations + l
      pop.pointee.clear(leaky: leaky)
      schedules[l].removeAll()
      schedules[l].advance(to: timeBase)
      let s = network.forwardShift[l]
      let k = keep?[l] ?? 1
      pop.pointee.threshold = SPIDEFixedPoint.quantize(theta * k, shift: s)
      pop.pointee.reset = SPIDEFixedPoint.quantize(q * k, shift: s)
      let limits = network.forwardDriveLimits(l)
      let layer = layers[l]
      let mask = masks?[l]
      let factor = Double(1 << s)
      let drive = pop.pointee.drive
      let open = pop.pointee.mask
      if let mask {
        for n in 0..<layer.neuronCount { open[n] = mask[n] != 0 ? -1 : 0 }
      } else {
        open.update(repeating: -1, count: layer.neuronCount)
      }
      if l == 0 {
        for n in 0..<layer.neuronCount {
          let c = min(max(Double(current[n]) * k, limits.low), limits.high)
          drive[n] = Int32((c * factor).rounded())
        }
      } else {
        // The bias, quantized once per channel; dropped neurons get none.
        let bias = net.biases[l]
        let size = layer.paddedChannels
        var quantized = [Int32](repeating: 0, count: size)
        for ch in 0..<min(bias.count, layer.channels) {
          let c = min(max(Double(bias[ch]), limits.low), limits.high)
          quantized[ch] = Int32((c * factor).rounded())
        }
        quantized.withUnsafeBufferPointer { q in
          for p in 0..<layer.pixelCount {
            let base = p * size
            for ch in 0..<size { drive[base + ch] = q[ch] & open[base + ch] }
          }
        }
      }
      var any: Int32 = 0
      for n in 0..<layer.neuronCount { any |= drive[n] }
      pop.pointee.hasDrive = any != 0
      if pop.pointee.hasDrive {
        for b in 0..<layer.pixelCount { predict(pop, block: b, after: 0, layer: l) }
      }
    }

    var t: Int32 = nextStep(after: 0, feedbackPending: false, frames: frames != nil)
    while t <= steps {
      activeSteps += 1
      if let frames { deliverFrame(network, frames, step: t) }
      for l in 0...last {
        let pop = populations + l
        collectDue(pop, layer: l, step: t)
        let blockCount = pop.pointee.blockCount
        let threshold = busyFraction * Double(blockCount)
        var active = 0
        if committed[l] || pop.pointee.allTouched || Double(pop.pointee.touchedCount) >= threshold {
          // Every block: skip the predictions when the layer is busy, which commits it to
          // evaluating every block at the next step too.
          let skip = busy[l] && t < steps
          for b in 0..<blockCount {
            if evaluate(network, pop, layer: l, block: b, step: t, leaky: leaky, predictNext: !skip) {
              active += 1
            }
          }
          committed[l] = skip
        } else {
          var i = 0
          while i < pop.pointee.touchedCount {
            let b = Int(pop.pointee.touched[i])
            if evaluate(network, pop, layer: l, block: b, step: t, leaky: leaky, predictNext: true) {
              active += 1
            }
            i += 1
          }
          committed[l] = false
        }
        busy[l] = Double(active) >= threshold
        pop.pointee.touchedCount = 0
        pop.pointee.allTouched = false
      }
      // Feedback: spikes of layer L at t reach layer 0 at t + 1.
      let pending = !feedbackSpikes.isEmpty && net.feedback != nil && t < steps
      if pending { deliverFeedback(network, step: t + 1) }
      feedbackSpikes.removeAll(keepingCapacity: true)
      t = nextStep(after: t, feedbackPending: pending, frames: frames != nil)
    }
  }

  /// The next step with any event after `t` (T + 1 when none).
  func nextStep(after t: Int32, feedbackPending: Bool, frames: Bool) -> Int32 {
    if feedbackPending || frames || committed.contains(true) { return t + 1 }
    var best = Int32(timeSteps + 1)
    for l in 0..<layers.count {
      if let key = schedules[l].minimumKey {
        best = min(best, Int32(key.time - timeBase))
      }
    }
    return max(best, t + 1)
  }

  /// Moves the blocks whose predicted crossing is `t` into the touched list.
  @inline(__always)
  func collectDue(_ pop: UnsafeMutablePointer<SPIDEPopulation>, layer l: Int, step t: Int32) {
    let due = timeBase + Int(t)
    while let key = schedules[l].minimumKey, key.time <= due {
      let (k, b) = schedules[l].pop()!
      if k.time == due && pop.pointee.next[Int(b)] == t { pop.pointee.touch(block: Int(b), step: t) }
    }
  }

  /// Predicts block b's next drive-only crossing after its evaluation at step `t` and
  /// schedules it.
  @inline(__always)
  func predict(_ pop: UnsafeMutablePointer<SPIDEPopulation>, block b: Int, after t: Int32, layer l: Int) {
    let k = pop.pointee.predictedSteps(block: b, leak: leak, twoSided: false)
    if let step = pop.pointee.recordPrediction(block: b, steps: k, after: t, phaseSteps: timeSteps) {
      schedules[l].push(time: timeBase + Int(step), phase: .threshold, Int32(b))
    }
  }

  /// Evaluates block b of layer l at step t: integrates, fires, delivers, and predicts
  /// (`predictNext`) or leaves the block without a prediction. Returns whether the block was
  /// active (received input or fired).
  @inline(__always)
  func evaluate(
    _ network: SPIDECompiledNetwork, _ pop: UnsafeMutablePointer<SPIDEPopulation>, layer l: Int,
    block b: Int, step t: Int32, leaky: Bool, predictNext: Bool
  ) -> Bool {
    var active = false
    let size = pop.pointee.blockSize
    let base = b * size
    let idle = t - pop.pointee.last[b]
    pop.pointee.last[b] = t
    pop.pointee.blockEvaluations += 1
    let theta = pop.pointee.threshold
    let reset = pop.pointee.reset
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
        let input = pop.pointee.acc[n] & pop.pointee.mask[n]
        if input != 0 { active = true }
        u = u &+ c &+ input
        pop.pointee.acc[n] = 0
        if u >= theta {
          active = true
          u = u &- reset
          pop.pointee.count[n] &+= 1
          pop.pointee.weighted[n] += weight
          pop.pointee.spikes += 1
          emit(network, layer: l, neuron: n, step: t)
        }
        pop.pointee.v[n] = SPIDEFixedPoint.leak(u, leakMultiplier)
      }
    } else {
      let thetaV = SIMD8<Int32>(repeating: theta)
      let resetV = SIMD8<Int32>(repeating: reset)
      let idleV = SIMD8<Int32>(repeating: idle)
      let zero = SIMD8<Int32>(repeating: 0)
      // Average pooling next: a block's spikes all land in one target block, lane for lane,
      // so they are delivered as one vector add per 8 lanes (no per-spike work).
      var poolTarget = -1
      var poolWeight = zero
      let pooled = l + 1 < layers.count && deliveries[l]?.route.pattern == .poolForward
      if pooled, let d = deliveries[l] {
        poolTarget = d.route.poolTarget(ofBlock: b)
        poolWeight = SIMD8<Int32>(repeating: d.poolWeight)
      }
      var firedLanes = zero
      var firedCount = 0
      var received = zero
      var g = 0
      while g < size {
        let i = base + g
        var u = Lanes.load(pop.pointee.v, i)
        let c = Lanes.load(pop.pointee.drive, i)
        let input = Lanes.load(pop.pointee.acc, i) & Lanes.load(pop.pointee.mask, i)
        u = u &+ c &* idleV &+ input
        received |= input
        let fired = Lanes.atLeast(u, thetaV)
        u = u &- (resetV & fired)
        Lanes.store(u, pop.pointee.v, i)
        Lanes.store(zero, pop.pointee.acc, i)
        if Lanes.anyNonzero(fired) {
          active = true
          Lanes.store(Lanes.load(pop.pointee.count, i) &- fired, pop.pointee.count, i)
          if pooled {
            firedLanes = firedLanes &- fired
            if poolTarget >= 0 {
              let target = populations + (l + 1)
              let j = poolTarget * size + g
              Lanes.store(Lanes.load(target.pointee.acc, j) &+ (poolWeight & fired), target.pointee.acc, j)
            }
          } else {
            for lane in 0..<8 where fired[lane] != 0 {
              firedChannels[firedCount] = Int32(g + lane)
              firedCount += 1
            }
          }
        }
        g += 8
      }
      if firedCount > 0 {
        pop.pointee.spikes += firedCount
        emitBlock(network, layer: l, block: b, firedCount: firedCount, step: t)
      }
      if pooled {
        let spikes = Lanes.sum(firedLanes)
        pop.pointee.spikes += spikes
        if spikes > 0 && poolTarget >= 0 {
          populations[l + 1].touch(block: poolTarget, step: t)
          synapticEvents[l + 1] += spikes
        }
      }
      if Lanes.anyNonzero(received) { active = true }
    }
    if predictNext {
      predict(pop, block: b, after: t, layer: l)
    } else {
      pop.pointee.next[b] = 0
    }
    return active
  }

  /// Delivers a spike of neuron n of layer l at step t: at once to layer l + 1, or (layer
  /// L) to the feedback list for the next step.
  @inline(__always)
  func emit(_ network: SPIDECompiledNetwork, layer l: Int, neuron n: Int, step t: Int32) {
    if l == layers.count - 1 {
      feedbackSpikes.append(Int32(n))
      return
    }
    guard let d = deliveries[l] else { return }
    let target = populations + (l + 1)
    let acc = target.pointee.acc
    var events = 0
    if d.isPool {
      d.route.forEachRun(of: n) { first, _, count, block in
        acc[first] &+= d.poolWeight
        target.pointee.touch(run: block, step: t)
        events += count
      }
    } else {
      d.route.forEachRun(of: n) { first, offset, count, block in
        Lanes.add(acc + first, d.weights + offset, count)
        target.pointee.touch(run: block, step: t)
        events += count
      }
    }
    synapticEvents[l + 1] += events
  }

  /// Delivers the spikes of the `firedCount` channels in `firedChannels` of block b of
  /// layer l at step t. Convolutions and dense projections add the weight rows of all of
  /// them in one pass over each reached target block (integer sums: the order of the adds
  /// does not change the result); other routes deliver spike by spike.
  @inline(__always)
  func emitBlock(
    _ network: SPIDECompiledNetwork, layer l: Int, block b: Int, firedCount k: Int, step t: Int32
  ) {
    let base = b * layers[l].paddedChannels
    let pattern = l < layers.count - 1 ? deliveries[l]?.route.pattern : nil
    guard let d = deliveries[l], pattern == .scatter || pattern == .dense else {
      // Feedback (layer L), pooling and gathers: spike by spike.
      for i in 0..<k { emit(network, layer: l, neuron: base + Int(firedChannels[i]), step: t) }
      return
    }
    let target = populations + (l + 1)
    let acc = target.pointee.acc
    let rows = UnsafePointer(firedChannels)
    switch pattern {
    case .scatter:
      let width = d.route.outChannels
      var events = 0
      d.route.forEachScatterTarget(ofPixel: b) { first, weightBase, block in
        Lanes.addRows(
          acc + first, d.weights + weightBase, stride: width, rows: rows, rowCount: k, width: width)
        target.pointee.touch(block: block, step: t)
        events += k * width
      }
      synapticEvents[l + 1] += events
    case .dense:
      let width = d.route.count
      Lanes.addRows(
        acc, d.weights + base * width, stride: width, rows: rows, rowCount: k, width: width)
      target.pointee.touch(run: -1, step: t)
      synapticEvents[l + 1] += k * width
    default:
      preconditionFailure("unreachable: only scatter and dense routes get here")
    }
  }

  /// Delivers the feedback spikes of layer L (collected at t − 1) into layer 0 for step t.
  func deliverFeedback(_ network: SPIDECompiledNetwork, step t: Int32) {
    guard let d = deliveries[layers.count - 1] else { return }
    let target = populations
    let acc = target.pointee.acc
    var events = 0
    for n in feedbackSpikes {
      d.route.forEachRun(of: Int(n)) { first, offset, count, block in
        Lanes.add(acc + first, d.weights + offset, count)
        target.pointee.touch(run: block, step: t)
        events += count
      }
    }
    synapticEvents[0] += events
  }

  /// Delivers frame t of an event input (integer counts) into layer 0.
  func deliverFrame(_ network: SPIDECompiledNetwork, _ frames: UnsafeBufferPointer<Float>, step t: Int32) {
    let size = network.network.input.neuronCount
    let offset0 = (Int(t) - 1) * size
    let d = network.inputDelivery
    let target = populations
    let acc = target.pointee.acc
    var events = 0
    for s in 0..<size {
      let value = frames[offset0 + s]
      if value == 0 { continue }
      let n = Int32(value)
      d.route.forEachRun(of: s) { first, offset, count, block in
        if d.isPool {
          acc[first] &+= d.poolWeight &* n
        } else {
          for i in 0..<count { acc[first + i] &+= d.weights[offset + i] &* n }
        }
        target.pointee.touch(run: block, step: t)
        events += count
      }
    }
    inputEvents += events
  }

  // MARK: Results

  /// The spike counts of layer l (engine layout), valid until the next run.
  public func counts(_ l: Int) -> UnsafeBufferPointer<Int32> {
    UnsafeBufferPointer(start: populations[l].count, count: layers[l].neuronCount)
  }

  /// Spikes of layer l in the last run.
  public func spikeCount(_ l: Int) -> Int { populations[l].spikes }

  /// Block evaluations of layer l in the last run (each evaluates `paddedChannels` lanes).
  public func blockEvaluations(_ l: Int) -> Int { populations[l].blockEvaluations }

  /// Writes the rates a of layer l (count/T, or the λ-weighted rate for leaky neurons)
  /// and the gates m = 1[0 < a < 1].
  public func rates(
    _ l: Int, into a: UnsafeMutableBufferPointer<Float>, gates m: UnsafeMutableBufferPointer<UInt8>?
  ) {
    let pop = populations[l]
    let n = layers[l].neuronCount
    precondition(a.count >= n)
    let steps = Int32(timeSteps)
    if leak < 1 {
      var norm = 0.0
      for t in 1...timeSteps { norm += spikeWeights[t] }
      for i in 0..<n { a[i] = Float(pop.weighted[i] / norm) }
    } else {
      let inverse = 1 / Float(timeSteps)
      for i in 0..<n { a[i] = Float(pop.count[i]) * inverse }
    }
    if let m {
      for i in 0..<n { m[i] = pop.count[i] > 0 && pop.count[i] < steps ? 1 : 0 }
    }
  }
}
