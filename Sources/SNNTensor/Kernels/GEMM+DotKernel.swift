import SNNBase

extension GEMM {
  /// `C = alpha · A · Bᵀ + beta · C` without packing, for A (m×k) and B (n×k) both stored
  /// row-major, i.e. contiguous along k: every element of C is a dot product of two
  /// contiguous rows.
  ///
  /// This is the shape of weight gradients of convolutions (`∂L/∂y · unfold(x)ᵀ`: m = output
  /// channels, n = C·kh·kw, k = batch·pixels) and of small fully connected outputs
  /// (`X · Wᵀ` with 10 outputs). There m·n/(m + n), the multiply-adds per packed element, is
  /// small, so the packed path would spend most of its time packing. Here a 4×3 block of C
  /// keeps twelve `SIMD8<Float>` partial sums over a block of k (1024 deep, 8 lanes apart),
  /// loading four vectors of A and three of B per twelve FMAs; the lanes are summed at the
  /// end of each k block and added to C. Each C element is computed by one thread, in the
  /// same order whatever the thread count.
  static func dotProducts(
    m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
    threads: Int
  ) {
    let macs = m.multipliedReportingOverflow(by: n).partialValue
      .multipliedReportingOverflow(by: k).partialValue
    let wanted = min(threads, max(1, macs / ThreadPlan.minimumMACsPerThread))
    let rowBlocks = (m + 3) / 4, columnBlocks = (n + 2) / 3
    // Split the longer side of C, in whole 4×3 blocks.
    if rowBlocks >= columnBlocks {
      Parallel.forEachChunk(count: rowBlocks, chunks: min(wanted, rowBlocks)) { _, blocks in
        let rows = (blocks.lowerBound * 4)..<min(m, blocks.upperBound * 4)
        dotBlock(
          rows: rows, columns: 0..<n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
          beta: beta, c: c, ldc: ldc)
      }
    } else {
      Parallel.forEachChunk(count: columnBlocks, chunks: min(wanted, columnBlocks)) { _, blocks in
        let columns = (blocks.lowerBound * 3)..<min(n, blocks.upperBound * 3)
        dotBlock(
          rows: 0..<m, columns: columns, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
          beta: beta, c: c, ldc: ldc)
      }
    }
  }

  /// Whether `dotProducts` beats the packed path for `A · Bᵀ` of this shape: when each
  /// packed element would feed fewer than about 48 multiply-adds (m·n/(m + n) < 48) and k is
  /// deep enough (≥ 256) to amortize the lane sums. Measured on the build machine, one
  /// thread: 15×25×36864 54 vs 26 GFLOP/s, 128×10×800 62 vs 31, 40×375×1024 88 vs 70,
  /// 100×100×1000 70 vs 65; the packed path wins at 128×800×784 (91 vs 85), 512³ (91 vs 62)
  /// and for k ≤ 128 (see Docs/DenseKernels.md).
  static func prefersDotProducts(m: Int, n: Int, k: Int) -> Bool {
    k >= 256 && m * n < 48 * (m + n)
  }

  /// Depth of one block of k in `dotProducts` (a multiple of 8): four rows of A (16 KiB)
  /// stay in L1 while the rows of B stream through.
  static let dotDepth = 1024

  static func dotBlock(
    rows: Range<Int>, columns: Range<Int>, k: Int, alpha: Float, a: UnsafePointer<Float>,
    lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>,
    ldc: Int
  ) {
    var sums = (
      Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0),
      Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0)
    )
    withUnsafeMutablePointer(to: &sums) { raw in
      let partial = UnsafeMutableRawPointer(raw).assumingMemoryBound(to: Float.self)
      var p0 = 0
      while p0 < k {
        let depth = min(dotDepth, k - p0)
        let blockBeta: Float = p0 == 0 ? beta : 1
        var i = rows.lowerBound
        while i < rows.upperBound {
          let height = min(4, rows.upperBound - i)
          var j = columns.lowerBound
          while j < columns.upperBound {
            let width = min(3, columns.upperBound - j)
            let ap = a + i * lda + p0, bp = b + j * ldb + p0
            if height == 4 && width == 3 {
              dotTileFull(depth, ap, lda, bp, ldb, partial)
            } else {
              dotTileEdge(height, width, depth, ap, lda, bp, ldb, partial)
            }
            for r in 0..<height {
              let dst = c + (i + r) * ldc + j
              for q in 0..<width {
                let s = partial[r * 4 + q]
                if blockBeta == 0 {
                  dst[q] = s * alpha
                } else if blockBeta == 1 {
                  dst[q] = dst[q].addingProduct(alpha, s)
                } else {
                  dst[q] = (dst[q] * blockBeta).addingProduct(alpha, s)
                }
              }
            }
            j += 3
          }
          i += 4
        }
        p0 += depth
      }
    }
  }

  /// The 4×3 tile, compiled on its own so that the twelve sums stay in registers (inlined
  /// into `dotBlock`, the register allocator spilled one and shuffled the others).
  @inline(never)
  static func dotTileFull(
    _ depth: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
    _ out: UnsafeMutablePointer<Float>
  ) {
    dotTile(4, 3, depth, a, lda, b, ldb, out)
  }

  /// Edge tiles (fewer than 4 rows or 3 columns), with the shape tested in the loop.
  @inline(never)
  static func dotTileEdge(
    _ rows: Int, _ columns: Int, _ depth: Int, _ a: UnsafePointer<Float>, _ lda: Int,
    _ b: UnsafePointer<Float>, _ ldb: Int, _ out: UnsafeMutablePointer<Float>
  ) {
    dotTile(rows, columns, depth, a, lda, b, ldb, out)
  }

  /// Dot products of `rows` (≤ 4) rows of A with `columns` (≤ 3) rows of B over `depth`
  /// elements, into `out[r · 4 + q]`. `rows` and `columns` are constants after inlining.
  ///
  /// A 4×3 tile uses exactly the 16 AVX registers: 12 sums, 3 vectors of B, 1 of A.
  @inline(__always)
  static func dotTile(
    _ rows: Int, _ columns: Int, _ depth: Int, _ a: UnsafePointer<Float>, _ lda: Int,
    _ b: UnsafePointer<Float>, _ ldb: Int, _ out: UnsafeMutablePointer<Float>
  ) {
    typealias V = SIMD8<Float>
    var s00 = V(), s01 = V(), s02 = V()
    var s10 = V(), s11 = V(), s12 = V()
    var s20 = V(), s21 = V(), s22 = V()
    var s30 = V(), s31 = V(), s32 = V()
    let a0 = UnsafeRawPointer(a), a1 = UnsafeRawPointer(a + lda)
    let a2 = UnsafeRawPointer(a + 2 * lda), a3 = UnsafeRawPointer(a + 3 * lda)
    let b0 = UnsafeRawPointer(b), b1 = UnsafeRawPointer(b + ldb)
    let b2 = UnsafeRawPointer(b + 2 * ldb)
    let vectorDepth = depth & ~7
    var offset = 0
    while offset < vectorDepth * 4 {
      let x0 = b0.loadUnaligned(fromByteOffset: offset, as: V.self)
      let x1 = columns > 1 ? b1.loadUnaligned(fromByteOffset: offset, as: V.self) : V()
      let x2 = columns > 2 ? b2.loadUnaligned(fromByteOffset: offset, as: V.self) : V()
      var y = a0.loadUnaligned(fromByteOffset: offset, as: V.self)
      s00 = s00.addingProduct(y, x0)
      if columns > 1 { s01 = s01.addingProduct(y, x1) }
      if columns > 2 { s02 = s02.addingProduct(y, x2) }
      if rows > 1 {
        y = a1.loadUnaligned(fromByteOffset: offset, as: V.self)
        s10 = s10.addingProduct(y, x0)
        if columns > 1 { s11 = s11.addingProduct(y, x1) }
        if columns > 2 { s12 = s12.addingProduct(y, x2) }
      }
      if rows > 2 {
        y = a2.loadUnaligned(fromByteOffset: offset, as: V.self)
        s20 = s20.addingProduct(y, x0)
        if columns > 1 { s21 = s21.addingProduct(y, x1) }
        if columns > 2 { s22 = s22.addingProduct(y, x2) }
      }
      if rows > 3 {
        y = a3.loadUnaligned(fromByteOffset: offset, as: V.self)
        s30 = s30.addingProduct(y, x0)
        if columns > 1 { s31 = s31.addingProduct(y, x1) }
        if columns > 2 { s32 = s32.addingProduct(y, x2) }
      }
      offset += 32
    }
    // Lane sums, then the last depth % 8 products in order.
    out[0] = s00.sum()
    out[1] = s01.sum()
    out[2] = s02.sum()
    out[4] = s10.sum()
    out[5] = s11.sum()
    out[6] = s12.sum()
    out[8] = s20.sum()
    out[9] = s21.sum()
    out[10] = s22.sum()
    out[12] = s30.sum()
    out[13] = s31.sum()
    out[14] = s32.sum()
    for p in vectorDepth..<depth {
      for r in 0..<rows {
        let av = a[r * lda + p]
        for q in 0..<columns { out[r * 4 + q] = out[r * 4 + q].addingProduct(av, b[q * ldb + p]) }
      }
    }
  }
}
