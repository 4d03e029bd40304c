import SNNBase

/// One population of exact continuous-time LIF neurons (``LIF``), with its threshold
/// schedule.
///
/// **Representation.** Each neuron's trajectory is stored as coefficients against a
/// reference time T₀ of its own frame (frames are multiples of a span):
/// `V(t) = V_∞ + A·e^{−(t−T₀)/τ_m} + Σ_k c_k·G_k·e^{−(t−T₀)/τ_k}` and
/// `g_k(t) = G_k·e^{−(t−T₀)/τ_k}`. An input at time s then costs two multiply-adds per
/// target with factors `e^{(s−T₀)/τ}` computed once per spike for the whole fan-out:
/// `G_k += w·e^{(s−T₀)/τ_k}`, `A −= c_k·w·e^{(s−T₀)/τ_m}` (V stays continuous). Neurons
/// that receive nothing are never touched. A neuron moves to the current frame (its
/// coefficients rescaled) only when its trajectory changes, so its coefficients — and the
/// spike times solved from them — depend on its inputs alone.
///
/// **Threshold schedule.** Each neuron has at most one current entry in ``schedule`` (a
/// calendar queue with lazy deletion; the slot's generation tells current from stale): a
/// *check* (a time before which it provably cannot reach threshold without new
/// excitation), its exact next *crossing*, or the end of its refractory period. An
/// excitatory input computes a one-division lower bound on the new crossing time and
/// moves the entry earlier only when needed; an inhibitory input can only delay the
/// crossing, so it merely demotes an exact crossing to a check. Exact crossings are
/// solved from the trajectory's origin (its last input or reset), never from the time of
/// the check that asked: spike times do not depend on how checks were scheduled.
final class LIFPopulation {
  enum Mode: UInt32 { case idle = 0, check = 1, crossing = 2, refractoryEnd = 3 }

  /// Everything an input touches, in one 64-byte cache line.
  struct Slot {
    /// Membrane coefficient A (mV, against the neuron's frame).
    var a: Double
    /// The end of the refractory period while refractory; otherwise the time of the last
    /// change of the trajectory (an input, the reset). So `t < origin` tests refractoriness.
    var origin: Double
    /// The time of the current schedule entry (+∞ when none).
    var scheduled: Double
    /// Generation (bumped at every reschedule; entries of another generation are stale) in
    /// the high 30 bits, ``Mode`` in the low 2.
    var tag: UInt32
    /// The frame of the coefficients: T₀ = frame × span.
    var frame: UInt32
    /// Channel current coefficients G_k (mV, against the neuron's frame).
    var g: SIMD4<Double>

    @inline(__always) var mode: Mode {
      get { Mode(rawValue: tag & 3)! }
      set { tag = (tag & ~3) | newValue.rawValue }
    }
    @inline(__always) var generation: UInt32 { tag >> 2 }
  }

  let parameters: LIF.Parameters
  let propagators: LIF.Propagators
  let count: Int
  let slots: UnsafeMutablePointer<Slot>
  let schedule: CalendarTimeQueue
  /// The span of a frame (ms): 40 of the fastest time constants, so e^{(t−T₀)/τ} stays
  /// below e^{40} for the current frame.
  let frameSpan: Double
  /// Below this lower bound (ms) on the time to threshold, solve for the exact crossing
  /// instead of scheduling another check.
  let refineSpan: Double

  /// Work counters (for benchmarks and the cost analysis in Docs/Engine.md).
  var checkEvents = 0
  var exactSolves = 0
  var earlierChecks = 0

  /// `refineFraction`: solve exactly once the bound falls below this fraction of the
  /// fastest time constant (a speed trade-off only: spike times do not depend on it).
  init(parameters: LIF.Parameters, initialPotentials: [Double], refineFraction: Double = 0.25) {
    self.parameters = parameters
    propagators = LIF.Propagators(parameters)
    count = initialPotentials.count
    // One slot per cache line: Swift aligns `Slot` to 16 bytes only, which would split
    // most slots over two lines (two misses per input instead of one).
    slots = UnsafeMutableRawPointer.allocate(
      byteCount: max(count, 1) * MemoryLayout<Slot>.stride, alignment: 64
    ).bindMemory(to: Slot.self, capacity: max(count, 1))
    let vInfinity = propagators.vInfinity
    for (j, v) in initialPotentials.enumerated() {
      (slots + j).initialize(
        to: Slot(a: v - vInfinity, origin: 0, scheduled: .infinity, tag: 0, frame: 0, g: .zero))
    }
    let fastest = max(propagators.rateMem, propagators.channelRates.max())
    frameSpan = 40 / fastest
    refineSpan = refineFraction / fastest
    // Buckets of 1% of the fastest time constant.
    schedule = CalendarTimeQueue(bucketWidth: 0.01 / fastest, bucketCount: 4096)
    checkWidth = 0.01 / fastest
    checkInverseWidth = 1 / checkWidth
    checkMask = 4095
    checkRing = .allocate(capacity: 4096)
    checkRing.initialize(repeating: RawBuffer(), count: 4096)
    checkHorizon = 4000 * checkWidth
  }

  deinit {
    UnsafeMutableRawPointer(slots).deallocate()
    for i in 0...checkMask { checkRing[i].deallocate() }
    checkRing.deinitialize(count: checkMask + 1)
    checkRing.deallocate()
  }

  /// Schedules every neuron from its initial state at time 0.
  func start() {
    for j in 0..<count { scheduleFromState(j, time: 0) }
  }

  // MARK: The schedule
  //
  // Two structures. Exact events (crossings, ends of refractory periods) go to `schedule`,
  // a calendar queue that returns them in exact order. Checks only need to happen no
  // later than their bound, so they go to `checkRing`, a ring of unordered buckets of
  // width `checkWidth`: a check is run at the start of its bucket (a little early, which
  // is always allowed), the whole bucket at once, with no ordering work at all.

  struct CheckEntry {
    var item: Int32
    var generation: UInt32
  }

  let checkWidth: Double
  let checkInverseWidth: Double
  let checkMask: Int
  let checkRing: UnsafeMutablePointer<RawBuffer<CheckEntry>>
  /// Checks further ahead than this are moved earlier to fit the ring.
  let checkHorizon: Double
  var checkCount = 0
  /// The absolute index of the last check bucket run (⌊t / width⌋).
  var drainedBucket = -1
  /// The first bucket after `drainedBucket` that may hold entries (a lower bound).
  var nextCheckBucket = 0

  /// The earliest current exact entry, kept up to date by every schedule change (`nil`
  /// inside means "none"), or not known (`cacheValid == false`).
  var cachedMinimum: (time: Double, item: Int)? = nil
  var cacheValid = false

  /// Schedules an exact event (a crossing or the end of the refractory period).
  @inline(__always)
  func setSchedule(_ j: Int, time: Double, mode: Mode) {
    let slot = slots + j
    slot.pointee.scheduled = time
    slot.pointee.tag = (slot.pointee.tag &+ 4) & ~3 | mode.rawValue
    schedule.push(time: time, item: j, generation: slot.pointee.generation)
    if cacheValid {
      if let c = cachedMinimum {
        if c.item == j {
          cacheValid = false  // the cached entry just went stale
        } else if time < c.time || (time == c.time && j < c.item) {
          cachedMinimum = (time, j)
        }
      } else {
        cachedMinimum = (time, j)
      }
    }
  }

  /// Schedules a check at `time` (from an event at `now`); returns false when that would
  /// fall in a bucket already run — the caller then solves for the exact crossing at once.
  @inline(__always)
  func setCheck(_ j: Int, time: Double, now: Double) -> Bool {
    let t = min(time, now + checkHorizon)
    let b = Int((t * checkInverseWidth).rounded(.down))
    if b <= drainedBucket { return false }
    let slot = slots + j
    if cacheValid, let c = cachedMinimum, c.item == j { cacheValid = false }
    slot.pointee.scheduled = t
    slot.pointee.tag = (slot.pointee.tag &+ 4) & ~3 | Mode.check.rawValue
    checkRing[b & checkMask].append(CheckEntry(item: Int32(j), generation: slot.pointee.generation))
    checkCount += 1
    if b < nextCheckBucket { nextCheckBucket = b }
    return true
  }

  @inline(__always)
  func clearSchedule(_ j: Int) {
    let slot = slots + j
    slot.pointee.scheduled = .infinity
    slot.pointee.tag = (slot.pointee.tag &+ 4) & ~3
    if cacheValid, let c = cachedMinimum, c.item == j { cacheValid = false }
  }

  /// The earliest event: an exact one, or (item −1) the start of the next bucket of checks.
  @inline(__always)
  func nextEvent() -> (time: Double, item: Int)? {
    if !cacheValid {
      let slots = self.slots
      cachedMinimum = schedule.minimum { slots[Int($0.item)].generation == $0.generation }.map { ($0.time, Int($0.item)) }
      cacheValid = true
    }
    guard checkCount > 0 else { return cachedMinimum }
    while checkRing[nextCheckBucket & checkMask].count == 0 { nextCheckBucket += 1 }
    let checkTime = Double(nextCheckBucket) * checkWidth
    if let exact = cachedMinimum, exact.time <= checkTime { return exact }
    return (checkTime, -1)
  }

  /// Runs the bucket of checks due at `time` (its start); returns the neurons that fired
  /// (only when rounding put a check at a crossing).
  func runChecks(at time: Double) -> [Int32] {
    let b = nextCheckBucket
    drainedBucket = b
    nextCheckBucket = b + 1
    var entries = RawBuffer<CheckEntry>()
    swap(&entries, &checkRing[b & checkMask])
    checkCount -= entries.count
    // Touch every slot first: the loads are independent, so their cache misses overlap
    // (the loop below runs a long computation per entry and would take them one by one).
    var touched: UInt32 = 0
    for k in 0..<entries.count { touched &+= slots[Int(entries[k].item)].tag }
    touchSink = touched
    var fired: [Int32] = []
    // Checks run in pairs: the two neurons' state and bound computations are independent
    // dependency chains in straight-line code, so the core overlaps them.
    var waiting = -1
    for k in 0..<entries.count {
      let e = entries[k]
      let j = Int(e.item)
      guard slots[j].generation == e.generation else { continue }  // rescheduled since
      checkEvents += 1
      clearSchedule(j)
      if waiting < 0 {
        waiting = j
        continue
      }
      let (first, second) = scheduleFromState(waiting, j, time: time)
      if first { fired.append(Int32(waiting)) }
      if second { fired.append(e.item) }
      waiting = -1
    }
    if waiting >= 0 && scheduleFromState(waiting, time: time) { fired.append(Int32(waiting)) }
    entries.removeAll()
    swap(&entries, &checkRing[b & checkMask])  // give the memory back to the ring
    entries.deallocate()
    return fired
  }

  // MARK: Frames and exponential factors

  /// The frame containing `time`.
  @inline(__always)
  func frame(at time: Double) -> UInt32 { UInt32((time / frameSpan).rounded(.down)) }

  /// `e^{(t−T₀)/τ}` for the membrane and the channels (1 for delta channels) in `frame`.
  @inline(__always)
  func growth(at time: Double, frame: UInt32) -> (mem: Double, channels: SIMD4<Double>) {
    let dt = time - Double(frame) * frameSpan
    // Delta channels and unused lanes have rate 0: e^0 = 1. With up to three channels the
    // membrane rides in lane 3, so one vector exponential serves all.
    if parameters.channels.count <= 3 {
      var rates = propagators.channelRates
      rates[3] = propagators.rateMem
      var e = Math.portableExp(dt * rates)
      let mem = e[3]
      e[3] = 1
      return (mem, e)
    }
    return (Math.portableExp(dt * propagators.rateMem), Math.portableExp(dt * propagators.channelRates))
  }

  /// Moves neuron `j`'s coefficients into `frame` (later than its own). Rare (once per
  /// neuron and frame), so kept out of line.
  @inline(never)
  func move(_ j: Int, to frame: UInt32) {
    let slot = slots + j
    guard slot.pointee.frame != frame else { return }
    let (gm, gc) = growth(at: Double(frame) * frameSpan, frame: slot.pointee.frame)
    slot.pointee.a /= gm
    slot.pointee.g /= gc
    slot.pointee.frame = frame
  }

  /// The membrane potential of neuron `j` at `time` (mV).
  func potential(_ j: Int, at time: Double) -> Double {
    if time < slots[j].origin { return parameters.vReset }
    let (gm, gc) = growth(at: time, frame: slots[j].frame)
    return propagators.vInfinity + slots[j].a / gm + (propagators.channelGains * slots[j].g / gc).sum()
  }

  // MARK: Inputs

  /// The exponential factors of one delivery time, shared by a spike's whole fan-out.
  struct Delivery {
    let time: Double
    let frame: UInt32
    let channel: Int
    /// Added to G_channel per unit weight: e^{(t−T₀)/τ_k} (0 for a delta channel).
    let currentGain: Double
    /// Added to A per unit weight: −c_k·e^{(t−T₀)/τ_m}, or e^{(t−T₀)/τ_m} for delta.
    let membraneGain: Double
    /// e^{−(t−T₀)/τ_m} and e^{−(t−T₀)/τ_k}: evaluate V and g at t.
    let decayMem: Double
    let decayChannels: SIMD4<Double>
  }

  /// Prepares a delivery on `channel` at `time`.
  @inline(__always)
  func beginDelivery(at time: Double, channel: Int) -> Delivery {
    let frame = frame(at: time)
    let (gm, gc) = growth(at: time, frame: frame)
    let delta = propagators.isDelta[channel]
    return Delivery(
      time: time, frame: frame, channel: channel, currentGain: delta ? 0 : gc[channel],
      membraneGain: delta ? gm : -propagators.channelGains[channel] * gm,
      decayMem: 1 / gm, decayChannels: 1 / gc)
  }

  /// Delivers `weights[i]` to targets `targets[i]` (a CSR row). `inhibitoryOnly` promises
  /// that no weight is positive.
  @inline(__always)
  func receive(
    _ d: Delivery, targets: UnsafePointer<Int32>, weights: UnsafePointer<Float>, count: Int, inhibitoryOnly: Bool
  ) {
    if inhibitoryOnly {
      // Inhibition never moves a crossing earlier: one pass.
      touch(targets, count: count)
      for i in 0..<count { addInhibition(Int(targets[i]), Double(weights[i]), d) }
      return
    }
    // Pass 0: touch the slots (a short loop of independent loads: as many cache misses in
    // flight as the core allows). Pass 1: coefficient updates only. Pass 2: threshold
    // bookkeeping on now-cached slots.
    touch(targets, count: count)
    for i in 0..<count { addInput(Int(targets[i]), Double(weights[i]), d) }
    for i in 0..<count { afterInput(Int(targets[i]), Double(weights[i]), d) }
  }

  /// Delivers `weights[i]` to targets `first + i` (a dense row or a convolution run).
  @inline(__always)
  func receive(_ d: Delivery, first: Int, weights: UnsafePointer<Float>, count: Int, inhibitoryOnly: Bool) {
    if inhibitoryOnly {
      for i in 0..<count { addInhibition(first + i, Double(weights[i]), d) }
      return
    }
    for i in 0..<count { addInput(first + i, Double(weights[i]), d) }
    for i in 0..<count { afterInput(first + i, Double(weights[i]), d) }
  }

  /// Loads the slots of `targets` (so that their cache misses overlap) and keeps a
  /// checksum in ``touchSink`` so that the loads are not optimized away.
  @inline(__always)
  func touch(_ targets: UnsafePointer<Int32>, count: Int) {
    var touched: UInt32 = 0
    for i in 0..<count { touched &+= slots[Int(targets[i])].frame }
    touchSink = touched
  }

  /// Excitatory current (mV) that new inputs may add before a scheduled check has to move:
  /// checks are scheduled from a bound computed as if this much more excitation were already
  /// present. A speed trade-off only (spike times do not depend on it): 0 places checks as
  /// late as possible, but then almost every excitatory input moves the check earlier (a
  /// bound computation, a queue entry and a stale entry later); a typical weight or two
  /// lets most inputs pass with the quick test alone. Set by the simulator from the
  /// incoming weights.
  var allowance: Double = 0

  /// Written by the touch loops (see ``touch(_:count:)``); never read.
  var touchSink: UInt32 = 0

  @inline(__always)
  func addInput(_ j: Int, _ w: Double, _ d: Delivery) {
    let slot = slots + j
    if slot.pointee.frame != d.frame { move(j, to: d.frame) }
    slot.pointee.g[d.channel] += w * d.currentGain
    slot.pointee.a += w * d.membraneGain
  }

  /// A non-positive input: update, and demote an exact crossing (it can only come later).
  @inline(__always)
  func addInhibition(_ j: Int, _ w: Double, _ d: Delivery) {
    addInput(j, w, d)
    let slot = slots + j
    if d.time >= slot.pointee.origin {
      slot.pointee.origin = d.time
      if slot.pointee.mode == .crossing { slot.pointee.mode = .check }
    }
  }

  @inline(__always)
  func afterInput(_ j: Int, _ w: Double, _ d: Delivery) {
    let slot = slots + j
    let time = d.time
    if time < slot.pointee.origin { return }
    slot.pointee.origin = time
    if w <= 0 {
      // Inhibition can only delay the crossing: an exact crossing becomes a check.
      if slot.pointee.mode == .crossing { slot.pointee.mode = .check }
      return
    }
    // Excitation: lower bound on the time to threshold from the current state.
    let gNow = slot.pointee.g * d.decayChannels
    let v = propagators.vInfinity + slot.pointee.a * d.decayMem + (propagators.channelGains * gNow).sum()
    let vTh = parameters.vThreshold
    if v >= vTh {
      setSchedule(j, time: time, mode: .crossing)
      return
    }
    if slot.pointee.mode == .crossing { slot.pointee.mode = .check }
    // (Lanes of delta channels and unused lanes always hold g = 0.)
    let u = propagators.vInfinity + Self.positivePart(gNow).sum()
    if u <= vTh { return }  // cannot reach threshold before further input
    // V ≤ W(τ) = U + (V − U)·e^{−τ/τ_m}, which reaches V_th at τ_m·ln y with
    // y = (U − V)/(U − V_th) ≥ 1; ln y = 2·atanh f ≥ 2f with f = (y − 1)/(y + 1) = a/b,
    // b > 0: the test τ_m·2f < S (S: time to the pending entry) is 2τ_m·a < S·b, without a
    // division.
    let b = 2 * u - v - vTh
    let scheduled = slot.pointee.scheduled
    if 2 * parameters.tauMem * (vTh - v) < (scheduled - time) * b {
      let f = (vTh - v) / b
      // Possibly earlier than the pending entry: more terms of the series, then a bound
      // that also counts the decaying inhibitory currents.
      var bound =
        time + tightenedBound(v: v, currents: gNow, u0: u, f0: f, before: scheduled - time)
      if bound < scheduled {
        earlierChecks += 1
        // Moving anyway: leave room for the next inputs (see `allowance`).
        if allowance > 0 { bound = time + lowerBound(v: v, currents: gNow, allowance: allowance) }
        if !setCheck(j, time: bound, now: time) { solveCrossing(j, time: time) }
      }
    }
  }

  /// A lower bound on the time until V reaches threshold without further input, from
  /// potential `v` and channel currents `currents` now (+∞ when it cannot).
  ///
  /// On [0, h] every positive current is at most its present value and every negative
  /// current at most its value at h, `g_k·e^{−h/τ_k}`; so V stays below the solution W of
  /// `τ_m dW/dt = U_h − W`, which reaches V_th at `τ_h = τ_m·ln((U_h − V)/(U_h − V_th))`,
  /// and min(τ_h, h) bounds the crossing time. h is twice the bound that ignores negative
  /// currents. The logarithm and exponential are replaced by rigorous cheap lower bounds
  /// (``atanhSeries(_:)``, ``expLowerBound(_:)``): a bound only has to be valid, and this
  /// one runs for every excitatory input that might move a neuron's schedule.
  ///
  /// With an `allowance` > 0 (mV), the bound also holds if that much more positive current
  /// arrives later (U grows by it): inputs summing to less do not have to move the check.
  @inline(__always)
  func lowerBound(v: Double, currents g: SIMD4<Double>, allowance: Double = 0) -> Double {
    // (Lanes of delta channels and unused lanes always hold g = 0.)
    let u0 = propagators.vInfinity + Self.positivePart(g).sum() + allowance
    let vTh = parameters.vThreshold
    if u0 <= vTh { return .infinity }
    return tightenedBound(v: v, currents: g, u0: u0, f0: (vTh - v) / (2 * u0 - v - vTh), before: .infinity)
  }

  /// ``lowerBound(v:currents:allowance:)`` given U₀ and f₀ = (V_th − V)/(2U₀ − V − V_th);
  /// returns as soon as the bound is known to be at least `before`.
  @inline(__always)
  func tightenedBound(v: Double, currents g: SIMD4<Double>, u0: Double, f0: Double, before limit: Double) -> Double {
    let tauMem = parameters.tauMem
    var best = tauMem * Self.atanhSeries(f0)
    let negative = g - Self.positivePart(g)
    if best < limit && any(negative .< 0) {
      let vTh = parameters.vThreshold
      let h = 2 * best
      // Σ g_k·e^{−h/τ_k} over negative g_k, each factor replaced by a lower bound of the
      // exponential (a larger, hence still valid, U_h).
      let decayed = (negative * Self.expLowerBound(h * propagators.channelRates)).sum()
      let uh = u0 + decayed
      let tauH = uh <= vTh ? Double.infinity : tauMem * Self.atanhSeries((vTh - v) / (2 * uh - v - vTh))
      best = max(best, min(tauH, h))
    }
    // A hair earlier, so that rounding can never place a check after the crossing.
    return best * (1 - 1e-12)
  }

  /// A lower bound of ln y for y ≥ 1 from f = (y − 1)/(y + 1) ∈ [0, 1):
  /// 2·(f + f³/3 + f⁵/5 + f⁷/7), the first terms of ln y = 2·atanh f (all terms ≥ 0);
  /// relative error below 1e-3 for y ≤ 4.
  @inline(__always)
  static func atanhSeries(_ f: Double) -> Double {
    let f2 = f * f
    return 2 * f * (1 + f2 * (1.0 / 3 + f2 * (1.0 / 5 + f2 * (1.0 / 7))))
  }

  /// max(g, 0) lane by lane.
  @inline(__always)
  static func positivePart(_ g: SIMD4<Double>) -> SIMD4<Double> {
    SIMD4(Swift.max(g[0], 0), Swift.max(g[1], 0), Swift.max(g[2], 0), Swift.max(g[3], 0))
  }

  /// A lower bound of e^{−x} for x ≥ 0, lane by lane: max(0, 1 − x/16)^16 (within 4% of
  /// e^{−x} for x ≤ 2).
  @inline(__always)
  static func expLowerBound(_ x: SIMD4<Double>) -> SIMD4<Double> {
    var b = 1 - x * (1.0 / 16)
    b.replace(with: 0, where: b .< 0)
    b *= b
    b *= b
    b *= b
    return b * b
  }

  // MARK: Own events

  /// Handles the scheduled event of neuron `j` at `time`; returns true if it spikes.
  func handleScheduledEvent(_ j: Int, time: Double) -> Bool {
    let mode = slots[j].mode
    clearSchedule(j)
    switch mode {
    case .crossing:
      fire(j, time: time)
      return true
    case .refractoryEnd:
      // (origin already holds this time: the end of the refractory period.)
      setPotential(j, to: parameters.vReset, at: time)
      return scheduleFromState(j, time: time)
    case .check, .idle:
      checkEvents += 1
      return scheduleFromState(j, time: time)
    }
  }

  /// Sets neuron `j`'s coefficient A so that V(time) = v (moving it to the frame of `time`).
  func setPotential(_ j: Int, to v: Double, at time: Double) {
    let frame = frame(at: time)
    move(j, to: frame)
    let (gm, gc) = growth(at: time, frame: frame)
    let synaptic = (propagators.channelGains * slots[j].g / gc).sum()
    slots[j].a = (v - propagators.vInfinity - synaptic) * gm
  }

  /// Spike bookkeeping: reset and refractory period (the simulator delivers the spike).
  func fire(_ j: Int, time: Double) {
    if parameters.tauRefractory > 0 {
      slots[j].origin = time + parameters.tauRefractory
      setSchedule(j, time: time + parameters.tauRefractory, mode: .refractoryEnd)
    } else {
      slots[j].origin = time
      setPotential(j, to: parameters.vReset, at: time)
      scheduleFromState(j, time: time)
    }
  }

  /// Predicts neuron `j`'s next threshold event from its state at `time`; fires at once
  /// (returning true) if V is already at threshold.
  @discardableResult
  func scheduleFromState(_ j: Int, time: Double) -> Bool {
    let (v, gNow) = state(j, at: time)
    if v >= parameters.vThreshold {
      fire(j, time: time)
      return true
    }
    let bound = lowerBound(v: v, currents: gNow, allowance: allowance)
    schedule(j, time: time, v: v, currents: gNow, bound: bound)
    return false
  }

  /// ``scheduleFromState(_:time:)`` for two different neurons, computed side by side.
  @inline(__always)
  func scheduleFromState(_ j1: Int, _ j2: Int, time: Double) -> (Bool, Bool) {
    let (v1, g1) = state(j1, at: time)
    let (v2, g2) = state(j2, at: time)
    let vTh = parameters.vThreshold
    if v1 >= vTh || v2 >= vTh {
      return (scheduleFromState(j1, time: time), scheduleFromState(j2, time: time))
    }
    let bound1 = lowerBound(v: v1, currents: g1, allowance: allowance)
    let bound2 = lowerBound(v: v2, currents: g2, allowance: allowance)
    schedule(j1, time: time, v: v1, currents: g1, bound: bound1)
    schedule(j2, time: time, v: v2, currents: g2, bound: bound2)
    return (false, false)
  }

  /// Neuron `j`'s potential and channel currents at `time`.
  @inline(__always)
  func state(_ j: Int, at time: Double) -> (v: Double, currents: SIMD4<Double>) {
    // A neuron whose trajectory has not changed for hundreds of time constants could
    // overflow e^{(t−T₀)/τ}: only then is it moved to the current frame here.
    if time - Double(slots[j].frame) * frameSpan > 15 * frameSpan { move(j, to: frame(at: time)) }
    let own = slots[j].frame
    let (gm, gc) = growth(at: time, frame: own)
    let a = slots[j].a / gm
    let gNow = slots[j].g / gc
    let b = propagators.channelGains * gNow * propagators.exponentialMask
    return (propagators.vInfinity + a + b.sum(), gNow)
  }

  /// Schedules neuron `j` (below threshold at `time`, potential `v`) from `bound`, its
  /// lower bound with the allowance: a check, or the exact crossing when the bound is short.
  @inline(__always)
  func schedule(
    _ j: Int, time: Double, v: Double, currents gNow: SIMD4<Double>, bound allowed: Double
  ) {
    var bound = allowed
    if bound == .infinity {
      clearSchedule(j)
      return
    }
    // (Solve exactly only when the bound without the allowance is short too.)
    if bound <= refineSpan && allowance > 0 { bound = lowerBound(v: v, currents: gNow) }
    if bound > refineSpan && setCheck(j, time: time + bound, now: time) { return }
    solveCrossing(j, time: time)
  }

  /// Solves for neuron `j`'s exact next crossing and schedules it (a check when it lies
  /// beyond the search horizon).
  func solveCrossing(_ j: Int, time: Double) {
    let vInf = propagators.vInfinity
    let vTh = parameters.vThreshold
    let own = slots[j].frame
    // The exact crossing, solved from the trajectory's origin (its last input or reset) in
    // the neuron's own frame, so that it depends on the inputs alone.
    exactSolves += 1
    let origin = slots[j].origin
    let (gmOrigin, gcOrigin) = growth(at: origin, frame: own)
    let f = ThresholdCrossing(
      constant: vInf - vTh, membrane: slots[j].a / gmOrigin, rateMem: propagators.rateMem,
      channels: propagators.channelGains * (slots[j].g / gcOrigin) * propagators.exponentialMask,
      channelRates: propagators.channelRates)
    switch f.firstCrossing(from: 0) {
    case .crossing(let tau):
      setSchedule(j, time: max(time, origin + tau), mode: .crossing)
    case .never:
      clearSchedule(j)
    case .noneBefore(let tau):
      if !setCheck(j, time: max(time, origin + tau), now: time) {
        setSchedule(j, time: max(time, origin + tau), mode: .check)
      }
    }
  }
}
