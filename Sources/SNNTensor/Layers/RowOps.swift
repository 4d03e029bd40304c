import SNNBase

/// Small row-wise helpers shared by the layers (bias broadcast and column sums).
enum RowOps {
  /// `m[r, j] += v[j]` for every row r of the rows×n matrix `m`.
  @inline(__always)
  static func addRowVector(
    _ m: UnsafeMutablePointer<Float>, rows: Int, columns n: Int, _ v: UnsafePointer<Float>
  ) {
    for r in 0..<rows {
      let row = m + r * n
      for j in 0..<n { row[j] += v[j] }
    }
  }

  /// `acc[j] += Σ_r m[r, j]` (rows summed in order).
  @inline(__always)
  static func accumulateColumnSums(
    _ m: UnsafePointer<Float>, rows: Int, columns n: Int, into acc: UnsafeMutablePointer<Float>
  ) {
    for r in 0..<rows {
      let row = m + r * n
      for j in 0..<n { acc[j] += row[j] }
    }
  }

  /// The fraction of nonzero values when every value is exactly 0 or 1, else nil (the
  /// input is analog and the spike kernels do not apply).
  static func binaryDensity(_ x: UnsafePointer<Float>, count: Int) -> Double? {
    guard count > 0 else { return 0 }
    return binaryCount(x, count: count).map { Double($0) / Double(count) }
  }

  /// The number of ones when every value is exactly 0 or 1 (−0 counts as 0), else nil.
  ///
  /// One vectorized pass: for binary values the sum is the count of ones and
  /// v² − v = 0; any other value (NaN included; subnormals too, as v² − v = −v) makes
  /// Σ|v² − v| nonzero or NaN. |·| clears the sign bit. Lane sums stay below 2²⁴ (blocks of
  /// 32 768 values), so they are exact.
  ///
  /// Large inputs (≥ 4 blocks) are split over `Parallel.defaultThreads` threads in whole
  /// blocks; the count is an exact integer, so the split does not change it. A block with
  /// a non-binary value ends that thread's scan early.
  static func binaryCount(_ x: UnsafePointer<Float>, count: Int) -> Int? {
    let blocks = (count + blockSize - 1) / blockSize
    let chunks = Swift.min(Parallel.defaultThreads, blocks / 4)
    guard chunks > 1 else { return binaryCountSerial(x, count: count) }
    var results = [Int](repeating: 0, count: chunks)
    results.withUnsafeMutableBufferPointer { r in
      let out = UncheckedSendable(r.baseAddress!), input = UncheckedSendable(x)
      Parallel.forEachChunk(count: blocks, chunks: chunks) { chunk, range in
        let start = range.lowerBound * blockSize
        let end = Swift.min(count, range.upperBound * blockSize)
        out.value[chunk] = binaryCountSerial(input.value + start, count: end - start) ?? -1
      }
    }
    return results.contains(-1) ? nil : results.reduce(0, +)
  }

  /// Values per block of ``binaryCountSerial(_:count:)`` (lane sums stay exact).
  static let blockSize = 32_768

  static func binaryCountSerial(_ x: UnsafePointer<Float>, count: Int) -> Int? {
    var ones = 0
    var i = 0
    let raw = UnsafeRawPointer(x)
    let magnitude = SIMD8<UInt32>(repeating: 0x7FFF_FFFF)
    while count - i >= 8 {
      let end = i + Swift.min(blockSize, (count - i) & ~7)
      var s = SIMD8<Float>(), e = SIMD8<Float>()
      var j = i
      while j < end {
        let v = raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
        s += v
        let d = v * v - v
        e += unsafeBitCast(
          unsafeBitCast(d, to: SIMD8<UInt32>.self) & magnitude, to: SIMD8<Float>.self)
        j += 8
      }
      ones += Int(s.sum())
      // A NaN or a positive sum: some value was not 0 or 1.
      if !(e.sum() == 0) { return nil }
      i = end
    }
    while i < count {
      let v = x[i]
      if v == 1 { ones += 1 } else if v != 0 { return nil }
      i += 1
    }
    return ones
  }

  /// The number of nonzero values (−0 is zero; one vectorized pass on the bit patterns:
  /// with a = |bits|, (a + 0x7FFFFFFF) >> 31 is 1 exactly when a ≠ 0).
  static func nonzeroCount(_ x: UnsafePointer<Float>, count: Int) -> Int {
    var n = 0
    var i = 0
    let raw = UnsafeRawPointer(x)
    let magnitude = SIMD8<UInt32>(repeating: 0x7FFF_FFFF)
    while count - i >= 8 {
      let end = i + Swift.min(32_768, (count - i) & ~7)
      var s = SIMD8<UInt32>()
      var j = i
      while j < end {
        let bits = raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<UInt32>.self)
        s &+= ((bits & magnitude) &+ magnitude) &>> 31
        j += 8
      }
      n += Int(s.wrappedSum())
      i = end
    }
    while i < count {
      n &+= x[i] != 0 ? 1 : 0
      i += 1
    }
    return n
  }

  /// `out[i] = Σ_t x[t, i]` for a `[T, n]` buffer.
  @inline(__always)
  static func sumOverTime(
    _ x: UnsafePointer<Float>, steps: Int, count n: Int, into out: UnsafeMutablePointer<Float>
  ) {
    out.update(repeating: 0, count: n)
    for t in 0..<steps {
      let row = x + t * n
      for i in 0..<n { out[i] += row[i] }
    }
  }

  /// `out[j, i] = x[i, j]` for a row-major `[rows, columns]` matrix (blocked for cache).
  static func transpose(
    _ x: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>
  ) {
    let block = 32
    for i0 in stride(from: 0, to: rows, by: block) {
      for j0 in stride(from: 0, to: columns, by: block) {
        for i in i0..<Swift.min(i0 + block, rows) {
          for j in j0..<Swift.min(j0 + block, columns) { out[j * rows + i] = x[i * columns + j] }
        }
      }
    }
  }

  /// `out[j, i] += x[i, j]` for a row-major `[rows, columns]` matrix.
  static func addTransposed(
    _ x: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>
  ) {
    let block = 32
    for i0 in stride(from: 0, to: rows, by: block) {
      for j0 in stride(from: 0, to: columns, by: block) {
        for i in i0..<Swift.min(i0 + block, rows) {
          for j in j0..<Swift.min(j0 + block, columns) { out[j * rows + i] += x[i * columns + j] }
        }
      }
    }
  }

  /// Σ p[i] in Float with eight lanes (lane sums added at the end), then a scalar tail.
  @inline(__always)
  static func sum(_ p: UnsafePointer<Float>, count: Int) -> Float {
    let raw = UnsafeRawPointer(p)
    var acc = SIMD8<Float>()
    var i = 0
    while count - i >= 8 {
      acc += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
      i += 8
    }
    var s = acc.sum()
    while i < count {
      s += p[i]
      i += 1
    }
    return s
  }

  /// Σ (p[i] − mean)², eight lanes then a scalar tail.
  @inline(__always)
  static func squaredDeviations(_ p: UnsafePointer<Float>, count: Int, mean: Float) -> Float {
    let raw = UnsafeRawPointer(p)
    let m = SIMD8<Float>(repeating: mean)
    var acc = SIMD8<Float>()
    var i = 0
    while count - i >= 8 {
      let d = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - m
      acc += d * d
      i += 8
    }
    var s = acc.sum()
    while i < count {
      let d = p[i] - mean
      s += d * d
      i += 1
    }
    return s
  }

  /// (Σ p[i], Σ p[i]·q[i]), eight lanes then a scalar tail.
  @inline(__always)
  static func sumAndDot(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, count: Int) -> (
    Float, Float
  ) {
    let rp = UnsafeRawPointer(p), rq = UnsafeRawPointer(q)
    var a = SIMD8<Float>(), b = SIMD8<Float>()
    var i = 0
    while count - i >= 8 {
      let x = rp.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
      a += x
      b += x * rq.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
      i += 8
    }
    var s = a.sum(), d = b.sum()
    while i < count {
      s += p[i]
      d += p[i] * q[i]
      i += 1
    }
    return (s, d)
  }
}
