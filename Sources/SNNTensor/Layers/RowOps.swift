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
    var ones = 0
    var i = 0
    while i < count {
      let end = Swift.min(i + 4096, count)
      var blockOnes = 0
      var bad = false
      for j in i..<end {
        let v = x[j]
        bad = bad || (v != 0 && v != 1)
        blockOnes &+= v == 1 ? 1 : 0
      }
      if bad { return nil }
      ones += blockOnes
      i = end
    }
    return Double(ones) / Double(count)
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
}
