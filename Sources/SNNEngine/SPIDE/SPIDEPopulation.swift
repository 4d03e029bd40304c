import SNNBase

/// The state of one layer during an event-driven SPIDE phase: struct-of-arrays in manually
/// allocated, 32-byte aligned memory (no copy-on-write, no retain in the hot loops), plus
/// the bookkeeping of which blocks (pixels) must be evaluated at the current step.
///
/// A *block* is the `paddedChannels` neurons of one pixel (``SPIDELayer``). Blocks are
/// evaluated as a whole with `SIMD8` lanes: every neuron of a block has been brought up to
/// the same step, so one `last` per block suffices.
@usableFromInline
struct SPIDEPopulation {
  let neuronCount: Int
  let blockSize: Int
  let blockCount: Int
  /// Potential after the last evaluated step (fixed point).
  let v: UnsafeMutablePointer<Int32>
  /// Spike count (forward) or signed spike count (backward).
  let count: UnsafeMutablePointer<Int32>
  /// Input received at the current step, not yet integrated.
  let acc: UnsafeMutablePointer<Int32>
  /// Constant drive per step (fixed point).
  let drive: UnsafeMutablePointer<Int32>
  /// −1 where spike input is integrated, 0 where it is ignored (dropout, gate).
  let mask: UnsafeMutablePointer<Int32>
  /// λ-weighted spike sums (leaky neurons only).
  let weighted: UnsafeMutablePointer<Double>
  /// The last step each block was evaluated at.
  let last: UnsafeMutablePointer<Int32>
  /// The step for which a block is in the touched list.
  let stamp: UnsafeMutablePointer<Int32>
  /// The predicted step of a block's next drive-only crossing (0: none).
  let next: UnsafeMutablePointer<Int32>
  /// Blocks to evaluate at the current step.
  let touched: UnsafeMutablePointer<Int32>
  var touchedCount = 0
  /// A dense delivery reached every block: evaluate them all.
  var allTouched = false
  /// Quantized threshold and reset amount (forward: σθ and σq; backward: V_b and A).
  var threshold: Int32 = 0
  var reset: Int32 = 0
  /// Whether any neuron has a nonzero drive (otherwise predictions only check potentials
  /// already beyond threshold).
  var hasDrive = true
  /// Counters of the current run.
  var spikes = 0
  var blockEvaluations = 0

  init(_ layer: SPIDELayer) {
    neuronCount = layer.neuronCount
    blockSize = layer.paddedChannels
    blockCount = layer.pixelCount
    func ints(_ n: Int) -> UnsafeMutablePointer<Int32> {
      let raw = UnsafeMutableRawPointer.allocate(byteCount: max(n, 8) * 4, alignment: 64)
      return raw.initializeMemory(as: Int32.self, repeating: 0, count: max(n, 8))
    }
    v = ints(neuronCount)
    count = ints(neuronCount)
    acc = ints(neuronCount)
    drive = ints(neuronCount)
    mask = ints(neuronCount)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: max(neuronCount, 8) * 8, alignment: 64)
    weighted = raw.initializeMemory(as: Double.self, repeating: 0, count: max(neuronCount, 8))
    last = ints(blockCount)
    stamp = ints(blockCount)
    next = ints(blockCount)
    touched = ints(blockCount)
  }

  func deallocate() {
    for p in [v, count, acc, drive, mask, last, stamp, next, touched] {
      UnsafeMutableRawPointer(p).deallocate()
    }
    UnsafeMutableRawPointer(weighted).deallocate()
  }

  /// Clears the state for a new run (potentials 0, nothing pending).
  mutating func clear(leaky: Bool) {
    v.update(repeating: 0, count: neuronCount)
    count.update(repeating: 0, count: neuronCount)
    acc.update(repeating: 0, count: neuronCount)
    if leaky { weighted.update(repeating: 0, count: neuronCount) }
    last.update(repeating: 0, count: blockCount)
    stamp.update(repeating: -1, count: blockCount)
    next.update(repeating: 0, count: blockCount)
    touchedCount = 0
    allTouched = false
    spikes = 0
    blockEvaluations = 0
  }

  /// The number of steps after which block b's constant drive alone brings a neuron to the
  /// threshold (+∞: never), as a lower bound (an early wake-up is harmless). `twoSided`
  /// (ternary backward neurons) also counts down-crossings of −threshold. `leak` < 1 uses
  /// the leaky closed form neuron by neuron; IF neurons are predicted 8 lanes at a time.
  @inline(__always)
  func predictedSteps(block b: Int, leak: Double, twoSided: Bool) -> Float {
    let base = b * blockSize
    let theta = threshold
    if leak < 1 {
      var k = Float.infinity
      for n in base..<(base + blockSize) {
        let (u, c) = (v[n], drive[n])
        k = min(k, SPIDEFixedPoint.leakyStepsToReach(theta, from: u, drive: c, leak: leak))
        if twoSided {
          k = min(k, SPIDEFixedPoint.leakyStepsToReach(theta, from: 0 &- u, drive: 0 &- c, leak: leak))
        }
      }
      return k
    }
    // Up-crossings of θ by u (and, two-sided, of θ by −u: down-crossings of −θ).
    let thetaV = SIMD8<Int32>(repeating: theta)
    let zero = SIMD8<Int32>(repeating: 0)
    var largest = Lanes.lowest
    var ratio = Lanes.infiniteRatio
    var g = 0
    while g < blockSize {
      let u = Lanes.load(v, base + g)
      let c = Lanes.load(drive, base + g)
      if hasDrive {
        Lanes.accumulatePrediction(thetaV, u: u, c: c, largest: &largest, smallestRatio: &ratio)
        if twoSided {
          Lanes.accumulatePrediction(
            thetaV, u: zero &- u, c: zero &- c, largest: &largest, smallestRatio: &ratio)
        }
      } else {
        Lanes.accumulateLargest(u, c, largest: &largest)
        if twoSided { Lanes.accumulateLargest(zero &- u, zero &- c, largest: &largest) }
      }
      g += 8
    }
    return Lanes.predictedSteps(theta, largest: largest, smallestRatio: ratio)
  }

  /// Records block b's predicted crossing `k` steps after step `t` of a `steps`-step
  /// phase: returns the step to schedule it at, or nil (and no pending crossing) when it
  /// falls beyond the phase.
  @inline(__always)
  func recordPrediction(block b: Int, steps k: Float, after t: Int32, phaseSteps steps: Int) -> Int32? {
    if k <= Float(steps) - Float(t) {
      let step = t + Int32(k)
      next[b] = step
      return step
    }
    next[b] = 0
    return nil
  }

  /// Marks block `b` for evaluation at step `t`.
  @inline(__always)
  mutating func touch(block b: Int, step t: Int32) {
    if stamp[b] != t {
      stamp[b] = t
      touched[touchedCount] = Int32(b)
      touchedCount += 1
    }
  }

  /// Marks block `b` reached by a delivery run (−1: every block).
  @inline(__always)
  mutating func touch(run b: Int, step t: Int32) {
    if b < 0 {
      if blockCount > 1 { allTouched = true } else { touch(block: 0, step: t) }
    } else {
      touch(block: b, step: t)
    }
  }
}

/// Vector loads and stores on the populations' aligned arrays.
@usableFromInline
enum Lanes {
  @inline(__always) @usableFromInline
  static func load(_ p: UnsafeMutablePointer<Int32>, _ i: Int) -> SIMD8<Int32> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Int32>.self)
  }
  @inline(__always) @usableFromInline
  static func load(_ p: UnsafePointer<Int32>, _ i: Int) -> SIMD8<Int32> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Int32>.self)
  }
  @inline(__always) @usableFromInline
  static func store(_ x: SIMD8<Int32>, _ p: UnsafeMutablePointer<Int32>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: x, as: SIMD8<Int32>.self)
  }

  /// `acc[0..<n] += w[0..<n]` (wrapping; the fixed point guarantees no overflow).
  @inline(__always) @usableFromInline
  static func add(_ acc: UnsafeMutablePointer<Int32>, _ w: UnsafePointer<Int32>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
      store(load(acc, i) &+ load(w, i), acc, i)
      i += 8
    }
    while i < n {
      acc[i] &+= w[i]
      i += 1
    }
  }

  /// `acc[0..<width] += Σ_r w[rows[r] · stride ..< rows[r] · stride + width]` over the
  /// `rowCount` listed rows (`width` a multiple of 8): each accumulator vector is loaded and
  /// stored once for all rows, four vectors at a time.
  @inline(__always) @usableFromInline
  static func addRows(
    _ acc: UnsafeMutablePointer<Int32>, _ w: UnsafePointer<Int32>, stride: Int,
    rows: UnsafePointer<Int32>, rowCount: Int, width: Int
  ) {
    var g = 0
    while g + 32 <= width {
      var a0 = load(acc, g), a1 = load(acc, g + 8), a2 = load(acc, g + 16), a3 = load(acc, g + 24)
      for r in 0..<rowCount {
        let p = w + (Int(rows[r]) * stride + g)
        a0 = a0 &+ load(p, 0)
        a1 = a1 &+ load(p, 8)
        a2 = a2 &+ load(p, 16)
        a3 = a3 &+ load(p, 24)
      }
      store(a0, acc, g)
      store(a1, acc, g + 8)
      store(a2, acc, g + 16)
      store(a3, acc, g + 24)
      g += 32
    }
    while g < width {
      var a = load(acc, g)
      for r in 0..<rowCount { a = a &+ load(w, Int(rows[r]) * stride + g) }
      store(a, acc, g)
      g += 8
    }
  }

  /// `acc[0..<n] -= w[0..<n]`.
  @inline(__always) @usableFromInline
  static func subtract(_ acc: UnsafeMutablePointer<Int32>, _ w: UnsafePointer<Int32>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
      store(load(acc, i) &- load(w, i), acc, i)
      i += 8
    }
    while i < n {
      acc[i] &-= w[i]
      i += 1
    }
  }

  /// The sum of the lanes.
  @inline(__always) @usableFromInline
  static func sum(_ x: SIMD8<Int32>) -> Int {
    let h = x.lowHalf &+ x.highHalf
    return Int(h[0] &+ h[1] &+ h[2] &+ h[3])
  }

  /// Whether any lane is nonzero (four 64-bit lanes ORed: no per-lane loop).
  @inline(__always) @usableFromInline
  static func anyNonzero(_ x: SIMD8<Int32>) -> Bool {
    let w = unsafeBitCast(x, to: SIMD4<UInt64>.self)
    return (w[0] | w[1] | w[2] | w[3]) != 0
  }

  /// −1 in the lanes where `x ≥ y`, else 0 (integer arithmetic only, so it stays in vector
  /// registers; valid while `y − 1 − x` does not overflow, which the fixed point ensures).
  @inline(__always) @usableFromInline
  static func atLeast(_ x: SIMD8<Int32>, _ y: SIMD8<Int32>) -> SIMD8<Int32> {
    (y &- 1 &- x) &>> 31
  }

  /// Accumulates, over the vectors of a block, what the block's drive-only prediction needs:
  /// the largest `u + c` (a lane at or above θ fires at the next step whatever its drive)
  /// and the smallest `max(θ − u, 1)/max(c, 0)` in Float (+∞ for lanes without positive
  /// drive).
  @inline(__always) @usableFromInline
  static func accumulatePrediction(
    _ theta: SIMD8<Int32>, u: SIMD8<Int32>, c: SIMD8<Int32>, largest: inout SIMD8<Int32>,
    smallestRatio: inout SIMD8<Int32>
  ) {
    largest = maximum(largest, u &+ c)
    let numerator = maximum(theta &- u, SIMD8<Int32>(repeating: 1))
    let denominator = maximum(c, SIMD8<Int32>(repeating: 0))
    // The quotient is positive or +∞, so its IEEE bit pattern orders like an integer.
    let ratio = SIMD8<Float>(numerator) / SIMD8<Float>(denominator)
    smallestRatio = minimum(smallestRatio, unsafeBitCast(ratio, to: SIMD8<Int32>.self))
  }

  /// Lane-wise max and min by integer arithmetic (both arguments within ±2^30).
  @inline(__always) @usableFromInline
  static func maximum(_ a: SIMD8<Int32>, _ b: SIMD8<Int32>) -> SIMD8<Int32> {
    let d = b &- a
    return a &+ (d & ~(d &>> 31))
  }
  @inline(__always) @usableFromInline
  static func minimum(_ a: SIMD8<Int32>, _ b: SIMD8<Int32>) -> SIMD8<Int32> {
    let d = b &- a
    return a &+ (d & (d &>> 31))
  }

  /// The initial value of the accumulated largest `u + c`.
  @usableFromInline static let lowest = SIMD8<Int32>(repeating: -(1 << 30))

  /// The initial value of the accumulated smallest ratio (+∞ as a bit pattern).
  @usableFromInline static let infiniteRatio = SIMD8<Int32>(
    repeating: Int32(bitPattern: Float.infinity.bitPattern))

  /// Accumulates only the largest `u + c` (layers without drive: only a potential already
  /// at θ can fire without input).
  @inline(__always) @usableFromInline
  static func accumulateLargest(_ u: SIMD8<Int32>, _ c: SIMD8<Int32>, largest: inout SIMD8<Int32>) {
    largest = maximum(largest, u &+ c)
  }

  /// The predicted step count from the accumulated values: 1 when some lane is at θ after
  /// one more step of drive, else ⌈smallest ratio⌉ computed as a lower bound (the Float
  /// quotient is shrunk by 4·10⁻⁷, more than its rounding error, so the prediction is never
  /// later than the exact crossing; an early wake-up is harmless: the block is evaluated,
  /// does not fire, and predicts again).
  @inline(__always) @usableFromInline
  static func predictedSteps(_ theta: Int32, largest: SIMD8<Int32>, smallestRatio: SIMD8<Int32>)
    -> Float
  {
    if largest.max() >= theta { return 1 }
    let r = Float(bitPattern: UInt32(bitPattern: smallestRatio.min()))
    if !r.isFinite { return .infinity }
    return max(1, (r * 0.999_999_6).rounded(.up))
  }
}
