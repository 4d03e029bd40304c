import SNNBase

/// Event-driven products for binary spike inputs: only active (nonzero) inputs are visited.
///
/// Inside the dense backend, a layer whose input is a {0, 1} spike matrix of low density
/// does less work by accumulating the weight rows of the active inputs than by a full
/// GEMM. The results equal `GEMM.sgemm` on the same operands up to floating-point summation
/// order. Callers choose between the two by the measured density (`crossoverDensity`).
///
/// Both kernels first list the active entries (a vectorized scan that skips eight zeros at
/// a time), then sum whole rows of the dense operand with `SIMD8<Float>` accumulators, 64
/// columns (eight vectors) at a time. Each output element is summed by one thread, over the
/// active inputs in increasing index order, starting from its initial value; the result is
/// therefore the same for every `threads` value and run. See Docs/DenseKernels.md.
public enum SpikeGEMM {
  /// Below this fraction of active inputs the spike kernels beat `GEMM.sgemm` for wide
  /// layers (a few hundred outputs or more); see `crossoverDensity(outputs:)` for a value
  /// that follows the layer width. Measured by `snn bench gemm --spikes 0.1 --sweep`; see
  /// Docs/Benchmarks.md.
  ///
  /// Measured on the build machine, one thread, k = 784–800 inputs, m = 128 rows: the spike
  /// kernels win below density 0.28 (`multiply`) and 0.30 (`accumulateTransposed`) for
  /// n = 800 outputs, 0.20 and 0.15 for n = 300, 0.03 and 0.01 for n = 10 (GEMM reads the
  /// narrow product's A in place and is fast there). The default, 0.15, is below the
  /// crossovers of layers with 300 or more outputs.
  nonisolated(unsafe) public static var crossoverDensity: Double = 0.15

  /// The density below which the spike kernels are expected to beat `GEMM.sgemm` for a
  /// product with `n` outputs (columns of C, or of G): 0.8 · (0.0106·√n − 0.014), clamped
  /// to [0.005, 0.25].
  ///
  /// The formula fits the crossovers measured for n = 10, 300 and 800 (0.02, 0.17 and 0.29
  /// averaged over both kernels; see `crossoverDensity`); the factor 0.8 keeps the choice on
  /// the side where the spike kernels are clearly faster. Wider outputs amortize the
  /// per-input overhead (listing, loop control) over more columns.
  public static func crossoverDensity(outputs n: Int) -> Double {
    let fit = 0.0106 * Double(max(1, n)).squareRoot() - 0.014
    return min(0.25, max(0.005, 0.8 * fit))
  }

  /// `C = S · W + beta · C`: S is m×k row-major with entries 0 or 1 (stride `lds`), W is
  /// k×n row-major (stride `ldw`), C is m×n (stride `ldc`). Nonzero entries of S are
  /// treated as 1. With `beta == 0`, C is not read.
  ///
  /// Cost: one pass over S plus `nnz(S) · n` additions, against `m · n · k` multiply-adds
  /// for `GEMM.sgemm`.
  public static func multiply(
    spikes s: UnsafePointer<Float>, lds: Int, m: Int, k: Int,
    weights w: UnsafePointer<Float>, ldw: Int, n: Int, beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = Parallel.defaultThreads
  ) {
    precondition(m >= 0 && n >= 0 && k >= 0, "SpikeGEMM: negative dimension")
    precondition(lds >= max(1, k) && ldw >= max(1, n) && ldc >= max(1, n), "SpikeGEMM: bad stride")
    precondition(threads >= 1, "SpikeGEMM: threads must be at least 1")
    guard m > 0 && n > 0 else { return }
    let chunks = chunkCount(work: m * k + assumedActive(m * k) * n, threads: threads)
    if m >= 2 * chunks || chunks == 1 {
      Parallel.forEachChunk(count: m, chunks: chunks) { _, rows in
        multiplyBlock(
          s: s, lds: lds, rows: rows, k: k, w: w, ldw: ldw, columns: 0..<n, beta: beta, c: c,
          ldc: ldc)
      }
    } else {
      // Few rows: split the columns instead, in whole 64-column strips.
      let strips = (n + strip - 1) / strip
      Parallel.forEachChunk(count: strips, chunks: chunks) { _, range in
        let columns = (range.lowerBound * strip)..<min(n, range.upperBound * strip)
        multiplyBlock(
          s: s, lds: lds, rows: 0..<m, k: k, w: w, ldw: ldw, columns: columns, beta: beta, c: c,
          ldc: ldc)
      }
    }
  }

  /// `G += Sᵀ · D`: the weight gradient of `multiply`. S is m×k (stride `lds`, entries 0 or
  /// 1), D is m×n (stride `ldd`), G is k×n (stride `ldg`).
  ///
  /// Row p of G gains the sum of the rows of D at the samples i where input p was active.
  public static func accumulateTransposed(
    spikes s: UnsafePointer<Float>, lds: Int, m: Int, k: Int,
    gradient d: UnsafePointer<Float>, ldd: Int, n: Int,
    into g: UnsafeMutablePointer<Float>, ldg: Int, threads: Int = Parallel.defaultThreads
  ) {
    precondition(m >= 0 && n >= 0 && k >= 0, "SpikeGEMM: negative dimension")
    precondition(lds >= max(1, k) && ldd >= max(1, n) && ldg >= max(1, n), "SpikeGEMM: bad stride")
    precondition(threads >= 1, "SpikeGEMM: threads must be at least 1")
    guard m > 0 && n > 0 && k > 0 else { return }
    let chunks = chunkCount(work: 2 * m * k + k * n + assumedActive(m * k) * n, threads: threads)
    Parallel.forEachChunk(count: k, chunks: chunks) { _, inputs in
      accumulateBlock(s: s, lds: lds, m: m, inputs: inputs, d: d, ldd: ldd, n: n, g: g, ldg: ldg)
    }
  }

  /// The fraction of nonzero entries among the first `count` values.
  public static func density(_ values: UnsafePointer<Float>, count: Int) -> Double {
    guard count > 0 else { return 0 }
    var active = 0
    var i = 0
    while i + 8 <= count {
      // Scalar re-reads in the rare nonzero case: extracting mask lanes made the compiler
      // lower `any` lane by lane instead of `vtestps`.
      let v = UnsafeRawPointer(values + i).loadUnaligned(as: SIMD8<Float>.self)
      if any(v .!= 0) {
        for q in 0..<8 where values[i + q] != 0 { active += 1 }
      }
      i += 8
    }
    while i < count {
      if values[i] != 0 { active += 1 }
      i += 1
    }
    return Double(active) / Double(count)
  }

  // MARK: Implementation

  /// Columns summed per pass over an active list: eight `SIMD8<Float>` accumulators.
  static let strip = 64
  /// Bytes of the dense operand's active rows a column panel aims to keep in L2.
  static let panelBytes = 512 * 1024
  /// Below this much work (elements scanned plus added) per thread, use fewer threads.
  static let minimumWorkPerThread = 1 << 17

  /// Active entries assumed when choosing the thread count, before S has been scanned:
  /// 1 % of `count` (the low end of the densities where these kernels are used).
  static func assumedActive(_ count: Int) -> Int { count / 100 }

  static func chunkCount(work: Int, threads: Int) -> Int {
    min(threads, max(1, work / minimumWorkPerThread))
  }

  /// Columns per panel so that `rows` rows of a panel fit in `panelBytes` (whole strips).
  static func panelWidth(rows: Int, columns: Int) -> Int {
    let fit = panelBytes / (max(1, rows) * MemoryLayout<Float>.stride) / strip * strip
    return max(strip, min(fit, columns))
  }

  /// Writes the indices p in `0..<count` where `row[p * stride] != 0` to `list`; returns
  /// how many. Contiguous rows (stride 1) skip eight zeros per vector compare.
  @inline(__always)
  static func activeIndices(
    _ row: UnsafePointer<Float>, count: Int, into list: UnsafeMutablePointer<Int32>
  ) -> Int {
    var found = 0
    var p = 0
    while p + 8 <= count {
      let v = UnsafeRawPointer(row + p).loadUnaligned(as: SIMD8<Float>.self)
      if any(v .!= 0) {
        for q in 0..<8 {
          list[found] = Int32(truncatingIfNeeded: p + q)
          found &+= row[p + q] != 0 ? 1 : 0
        }
      }
      p += 8
    }
    while p < count {
      list[found] = Int32(truncatingIfNeeded: p)
      found &+= row[p] != 0 ? 1 : 0
      p += 1
    }
    return found
  }

  /// `out[j] = initial[j] + Σ_{r in list} source[list[r] · stride + j]` for j in
  /// `0..<width`, where `initial` is 0 (`beta == 0`), `out` (`beta == 1`) or `beta · out`.
  /// Sums run in list order, eight vectors at a time.
  @inline(__always)
  static func sumRows(
    _ list: UnsafePointer<Int32>, count: Int, source: UnsafePointer<Float>, stride: Int,
    width: Int, beta: Float, out: UnsafeMutablePointer<Float>
  ) {
    typealias V = SIMD8<Float>
    var j = 0
    while j + strip <= width {
      let o = UnsafeMutableRawPointer(out + j)
      var a0 = V(), a1 = V(), a2 = V(), a3 = V(), a4 = V(), a5 = V(), a6 = V(), a7 = V()
      if beta != 0 {
        a0 = o.loadUnaligned(fromByteOffset: 0, as: V.self)
        a1 = o.loadUnaligned(fromByteOffset: 32, as: V.self)
        a2 = o.loadUnaligned(fromByteOffset: 64, as: V.self)
        a3 = o.loadUnaligned(fromByteOffset: 96, as: V.self)
        a4 = o.loadUnaligned(fromByteOffset: 128, as: V.self)
        a5 = o.loadUnaligned(fromByteOffset: 160, as: V.self)
        a6 = o.loadUnaligned(fromByteOffset: 192, as: V.self)
        a7 = o.loadUnaligned(fromByteOffset: 224, as: V.self)
        if beta != 1 {
          a0 *= beta
          a1 *= beta
          a2 *= beta
          a3 *= beta
          a4 *= beta
          a5 *= beta
          a6 *= beta
          a7 *= beta
        }
      }
      let base = UnsafeRawPointer(source + j)
      for r in 0..<count {
        let row = base + Int(list[r]) * stride * MemoryLayout<Float>.stride
        a0 += row.loadUnaligned(fromByteOffset: 0, as: V.self)
        a1 += row.loadUnaligned(fromByteOffset: 32, as: V.self)
        a2 += row.loadUnaligned(fromByteOffset: 64, as: V.self)
        a3 += row.loadUnaligned(fromByteOffset: 96, as: V.self)
        a4 += row.loadUnaligned(fromByteOffset: 128, as: V.self)
        a5 += row.loadUnaligned(fromByteOffset: 160, as: V.self)
        a6 += row.loadUnaligned(fromByteOffset: 192, as: V.self)
        a7 += row.loadUnaligned(fromByteOffset: 224, as: V.self)
      }
      o.storeBytes(of: a0, toByteOffset: 0, as: V.self)
      o.storeBytes(of: a1, toByteOffset: 32, as: V.self)
      o.storeBytes(of: a2, toByteOffset: 64, as: V.self)
      o.storeBytes(of: a3, toByteOffset: 96, as: V.self)
      o.storeBytes(of: a4, toByteOffset: 128, as: V.self)
      o.storeBytes(of: a5, toByteOffset: 160, as: V.self)
      o.storeBytes(of: a6, toByteOffset: 192, as: V.self)
      o.storeBytes(of: a7, toByteOffset: 224, as: V.self)
      j += strip
    }
    // The remaining whole vectors (up to 7) in one pass over the list.
    let vectors = (width - j) / 8
    if vectors > 0 {
      let o = out + j, base = source + j
      switch vectors {
      case 1: sumVectors(1, list, count, base, stride, beta, o)
      case 2: sumVectors(2, list, count, base, stride, beta, o)
      case 3: sumVectors(3, list, count, base, stride, beta, o)
      case 4: sumVectors(4, list, count, base, stride, beta, o)
      case 5: sumVectors(5, list, count, base, stride, beta, o)
      case 6: sumVectors(6, list, count, base, stride, beta, o)
      default: sumVectors(7, list, count, base, stride, beta, o)
      }
      j += vectors * 8
    }
    while j < width {
      var a: Float = beta == 0 ? 0 : (beta == 1 ? out[j] : beta * out[j])
      for r in 0..<count { a += source[Int(list[r]) * stride + j] }
      out[j] = a
      j += 1
    }
  }

  /// `sumRows` for `vectors` (a constant after inlining) vectors of columns.
  @inline(__always)
  static func sumVectors(
    _ vectors: Int, _ list: UnsafePointer<Int32>, _ count: Int, _ source: UnsafePointer<Float>,
    _ stride: Int, _ beta: Float, _ out: UnsafeMutablePointer<Float>
  ) {
    var acc = SIMDAccumulators()
    if beta != 0 {
      acc = SIMDAccumulators(loading: UnsafeRawPointer(out), vectors: vectors)
      if beta != 1 { acc.scale(by: beta, vectors: vectors) }
    }
    let base = UnsafeRawPointer(source), rowBytes = stride * MemoryLayout<Float>.stride
    for r in 0..<count { acc.add(base + Int(list[r]) * rowBytes, vectors: vectors) }
    acc.store(out, vectors: vectors)
  }

  /// `C[rows, columns] = S[rows, :] · W[:, columns] + beta · C[rows, columns]`.
  static func multiplyBlock(
    s: UnsafePointer<Float>, lds: Int, rows: Range<Int>, k: Int, w: UnsafePointer<Float>,
    ldw: Int, columns: Range<Int>, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    // Rows are taken in groups whose active lists are built once, then swept panel by
    // panel of columns so that the touched part of W stays in L2.
    let group = 64
    let listCount = group * k + group
    ScratchPool.withBytes(listCount * MemoryLayout<Int32>.stride) { raw in
      let lists = raw.bindMemory(to: Int32.self, capacity: listCount)
      let counts = lists + group * k
      // Nearly every row of W is touched by some row of a group, so a panel's width is
      // chosen for all k rows to fit in L2.
      let width = panelWidth(rows: k, columns: columns.count)
      var i0 = rows.lowerBound
      while i0 < rows.upperBound {
        let rowCount = min(group, rows.upperBound - i0)
        for r in 0..<rowCount {
          counts[r] = Int32(activeIndices(s + (i0 + r) * lds, count: k, into: lists + r * k))
        }
        var j0 = columns.lowerBound
        while j0 < columns.upperBound {
          let panel = min(width, columns.upperBound - j0)
          for r in 0..<rowCount {
            sumRows(
              lists + r * k, count: Int(counts[r]), source: w + j0, stride: ldw, width: panel,
              beta: beta, out: c + (i0 + r) * ldc + j0)
          }
          j0 += panel
        }
        i0 += rowCount
      }
    }
  }

  /// `G[inputs, :] += S[:, inputs]ᵀ · D`.
  static func accumulateBlock(
    s: UnsafePointer<Float>, lds: Int, m: Int, inputs: Range<Int>, d: UnsafePointer<Float>,
    ldd: Int, n: Int, g: UnsafeMutablePointer<Float>, ldg: Int
  ) {
    let inputCount = inputs.count
    // Column lists of S restricted to `inputs`, in compressed form: the samples i where
    // input p is active are indices[offsets[p] ..< offsets[p + 1]], in increasing order.
    // Pass 1 counts, pass 2 fills; both skip zero vectors.
    let offsetBytes = (inputCount + 1) * MemoryLayout<Int32>.stride
    ScratchPool.withBytes(offsetBytes) { raw in
      let offsets = raw.bindMemory(to: Int32.self, capacity: inputCount + 1)
      offsets.update(repeating: 0, count: inputCount + 1)
      let counts = offsets + 1
      for i in 0..<m {
        let row = s + i * lds + inputs.lowerBound
        forEachActive(row, count: inputCount) { p in counts[p] &+= 1 }
      }
      for p in 0..<inputCount { offsets[p + 1] &+= offsets[p] }
      let total = Int(offsets[inputCount])
      ScratchPool.withBytes(max(1, total) * MemoryLayout<Int32>.stride) { rawIndices in
        let indices = rawIndices.bindMemory(to: Int32.self, capacity: max(1, total))
        // Fill, advancing offsets[p] to the end of list p; afterwards list p is
        // indices[offsets[p - 1] ..< offsets[p]] (with offsets[-1] = 0).
        for i in 0..<m {
          let row = s + i * lds + inputs.lowerBound
          let sample = Int32(truncatingIfNeeded: i)
          forEachActive(row, count: inputCount) { p in
            indices[Int(offsets[p])] = sample
            offsets[p] &+= 1
          }
        }
        let width = panelWidth(rows: m, columns: n)
        var j0 = 0
        while j0 < n {
          let panel = min(width, n - j0)
          var start = 0
          for p in 0..<inputCount {
            let end = Int(offsets[p])
            if end > start {
              sumRows(
                indices + start, count: end - start, source: d + j0, stride: ldd, width: panel,
                beta: 1, out: g + (inputs.lowerBound + p) * ldg + j0)
            }
            start = end
          }
          j0 += panel
        }
      }
    }
  }

  /// Calls `body(p)` for each p in `0..<count` with `row[p] != 0`, in increasing order.
  @inline(__always)
  static func forEachActive(_ row: UnsafePointer<Float>, count: Int, _ body: (Int) -> Void) {
    var p = 0
    while p + 8 <= count {
      let v = UnsafeRawPointer(row + p).loadUnaligned(as: SIMD8<Float>.self)
      if any(v .!= 0) {
        for q in 0..<8 where row[p + q] != 0 { body(p + q) }
      }
      p += 8
    }
    while p < count {
      if row[p] != 0 { body(p) }
      p += 1
    }
  }
}
