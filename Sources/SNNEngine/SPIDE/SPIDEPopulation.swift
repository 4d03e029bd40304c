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

  /// Marks block `b` for evaluation at step `t`.
  @inline(__always)
  mutating func touch(block b: Int, step t: Int32) {
    if stamp[b] != t {
      stamp[b] = t
      touched[touchedCount] = Int32(b)
      touchedCount += 1
    }
  }

  /// Marks the blocks reached by a run of `count` neurons from `first`.
  @inline(__always)
  mutating func touch(first: Int, count n: Int, step t: Int32) {
    if n >= neuronCount && blockCount > 1 {
      allTouched = true
    } else {
      touch(block: first / blockSize, step: t)
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

  /// The smallest k ≥ 1 with `u + k·c ≥ θ` for c > 0, as a lower bound computed in Float
  /// (never later than the exact step; a wake-up that comes early is harmless); for c ≤ 0,
  /// 1 when `u + c ≥ θ`, else +∞. Per lane.
  @inline(__always) @usableFromInline
  static func stepsToReach(_ theta: Int32, from u: SIMD8<Int32>, drive c: SIMD8<Int32>)
    -> SIMD8<Float>
  {
    let thetaV = SIMD8<Int32>(repeating: theta)
    let positive = c .> 0
    let ratio = SIMD8<Float>(thetaV &- u) / SIMD8<Float>(c) * 0.999_999_6
    var k = ratio.rounded(.up)
    k.replace(with: 1, where: k .< 1)
    let now = (u &+ c) .>= thetaV
    var idle = SIMD8<Float>(repeating: .infinity)
    idle.replace(with: 1, where: now)
    return idle.replacing(with: k, where: positive)
  }
}
