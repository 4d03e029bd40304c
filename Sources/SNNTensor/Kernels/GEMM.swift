import SNNBase

/// Single-precision general matrix multiply on row-major storage.
///
/// `C = alpha · op(A) · op(B) + beta · C`, where `op(X)` is `X` or `Xᵀ`, `op(A)` is m×k,
/// `op(B)` is k×n and `C` is m×n. Leading dimensions are row strides (elements between the
/// starts of consecutive rows of the stored matrix). With `beta == 0`, `C` is not read
/// (it may hold NaN).
///
/// This is the one entry point every dense layer uses; its implementation (packing, SIMD
/// register tiles, threads) can change without touching callers. Results for a given
/// `threads` value are deterministic.
///
/// The implementation follows the Goto/BLIS scheme (see Docs/DenseKernels.md): `op(B)` is
/// packed into `kc × 16` column panels and `op(A)` into `6 × kc` row panels, both
/// zero-padded to whole panels, and a 6×16 register tile of twelve `SIMD8<Float>`
/// accumulators is updated with one fused multiply-add per accumulator and step of `k`.
/// Threads get disjoint rectangles of `C`, and every element of `C` is summed in the same
/// order (blocks of `kc` in increasing `k`, sequential FMAs within a block) whatever the
/// rectangle, so results are reproducible run to run.
public enum GEMM {
  /// `C = alpha · op(A) · op(B) + beta · C` (see the type's documentation).
  ///
  /// - Precondition: `m, n, k ≥ 0`; `lda ≥ (transA ? m : k)`, `ldb ≥ (transB ? k : n)`,
  ///   `ldc ≥ n` (each at least 1); `threads ≥ 1`. `C` must not overlap `A` or `B`.
  /// - Parameter threads: the most threads to use. Small products use fewer (the choice
  ///   depends only on the shape and `threads`), so the result is a function of the
  ///   operands and `threads` alone.
  public static func sgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = Parallel.defaultThreads
  ) {
    precondition(m >= 0 && n >= 0 && k >= 0, "GEMM: negative dimension")
    precondition(lda >= max(1, transA ? m : k), "GEMM: lda smaller than the rows of A")
    precondition(ldb >= max(1, transB ? k : n), "GEMM: ldb smaller than the rows of B")
    precondition(ldc >= max(1, n), "GEMM: ldc smaller than n")
    precondition(threads >= 1, "GEMM: threads must be at least 1")
    guard m > 0 && n > 0 else { return }
    if k == 0 || alpha == 0 {
      scale(m: m, n: n, beta: beta, c: c, ldc: ldc)
      return
    }
    if !transA && transB && prefersDotProducts(m: m, n: n, k: k) {
      dotProducts(
        m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c,
        ldc: ldc, threads: threads)
      return
    }
    // op(A)[i, p] = a[i · rowStride + p · columnStride], likewise for op(B)[p, j].
    let opA = Operand(base: a, rowStride: transA ? 1 : lda, columnStride: transA ? lda : 1)
    let opB = Operand(base: b, rowStride: transB ? 1 : ldb, columnStride: transB ? ldb : 1)
    let plan = ThreadPlan(m: m, n: n, k: k, threads: threads)
    Parallel.forEachChunk(count: plan.count, chunks: plan.count) { tile, _ in
      let rows = plan.rows(tile), columns = plan.columns(tile)
      guard !rows.isEmpty && !columns.isEmpty else { return }
      blocked(
        m: rows.count, n: columns.count, k: k, alpha: alpha,
        a: opA.offset(row: rows.lowerBound, column: 0),
        b: opB.offset(row: 0, column: columns.lowerBound), beta: beta,
        c: c + rows.lowerBound * ldc + columns.lowerBound, ldc: ldc)
    }
  }

  /// The straightforward triple loop (Float accumulation in k order): the correctness
  /// reference for tests.
  public static func reference(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    for i in 0..<m {
      for j in 0..<n {
        var sum: Float = 0
        for p in 0..<k {
          let av = transA ? a[p * lda + i] : a[i * lda + p]
          let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
          sum += av * bv
        }
        let old = beta == 0 ? 0 : beta * c[i * ldc + j]
        c[i * ldc + j] = alpha * sum + old
      }
    }
  }

  /// `C = beta · C` (zero when `beta == 0`, without reading C).
  static func scale(m: Int, n: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    guard beta != 1 else { return }
    for i in 0..<m {
      let row = c + i * ldc
      if beta == 0 {
        row.update(repeating: 0, count: n)
      } else {
        for j in 0..<n { row[j] *= beta }
      }
    }
  }

  /// One thread's product on its rectangle of C: the five loops of the Goto/BLIS scheme
  /// around the micro-kernel.
  static func blocked(
    m: Int, n: Int, k: Int, alpha: Float, a: Operand, b: Operand, beta: Float,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    let mr = MicroKernel.rows, nr = MicroKernel.columns
    let kcMax = min(Blocking.kc, k)
    let mcMax = min(Blocking.mc, roundUp(m, to: mr))
    let ncMax = min(Blocking.nc, roundUp(n, to: nr))
    // With few panels of B, each panel of A would be packed to be read only a few times:
    // read A in place instead. Measured, one thread, GFLOP/s unpacked vs packed:
    // 1024×10×800 NN 63 vs 34, 800×10×1024 TN 56 vs 34, 1024×32×800 NN 108 vs 75,
    // 512×64×512 NN 110 vs 90, 1024×96×800 NN 110 vs 97 (TN 97 vs 97); for wide products
    // the two are within noise, with packed ahead for TN 512³ (100–107 vs 94–99).
    let unpackedA = n <= 6 * nr
    let aFloats = roundUp(mcMax * kcMax, to: 16)
    let bFloats = roundUp(kcMax * ncMax, to: 16)
    ScratchPool.withBuffer(floats: aFloats + bFloats + mr * nr) { scratch in
      let packedA = scratch, packedB = scratch + aFloats, edge = scratch + aFloats + bFloats
      var jc = 0
      while jc < n {
        let nc = min(Blocking.nc, n - jc)
        var pc = 0
        while pc < k {
          let kc = min(Blocking.kc, k - pc)
          // Later blocks of k add to what the earlier ones stored.
          let blockBeta: Float = pc == 0 ? beta : 1
          Packing.packB(b, rows: pc, depth: kc, columns: jc, width: nc, into: packedB)
          var ic = 0
          while ic < m {
            let mc = min(Blocking.mc, m - ic)
            if unpackedA {
              macroKernelUnpackedA(
                m: mc, n: nc, kc: kc, alpha: alpha, a: a.offset(row: ic, column: pc),
                packedB: packedB, beta: blockBeta, c: c + ic * ldc + jc, ldc: ldc,
                scratch: packedA, edge: edge)
            } else {
              Packing.packA(a, rows: ic, height: mc, columns: pc, depth: kc, into: packedA)
              macroKernel(
                m: mc, n: nc, kc: kc, alpha: alpha, packedA: packedA, packedB: packedB,
                beta: blockBeta, c: c + ic * ldc + jc, ldc: ldc, edge: edge)
            }
            ic += mc
          }
          pc += kc
        }
        jc += nc
      }
    }
  }

  /// Runs the micro-kernel over every 6×16 tile of an `m × n` block of C, from packed
  /// panels. Partial tiles at the right and bottom edges go through `edge` (one tile of
  /// scratch), so that the micro-kernel always computes whole tiles.
  @inline(__always)
  static func macroKernel(
    m: Int, n: Int, kc: Int, alpha: Float, packedA: UnsafePointer<Float>,
    packedB: UnsafePointer<Float>, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
    edge: UnsafeMutablePointer<Float>
  ) {
    let mr = MicroKernel.rows, nr = MicroKernel.columns
    var jr = 0
    while jr < n {
      let width = min(nr, n - jr)
      let panelB = packedB + jr * kc
      var ir = 0
      while ir < m {
        let height = min(mr, m - ir)
        let panelA = packedA + ir * kc
        let tile = c + ir * ldc + jr
        if height == mr && width == nr {
          MicroKernel.run(kc: kc, a: panelA, b: panelB, alpha: alpha, beta: beta, c: tile, ldc: ldc)
        } else {
          MicroKernel.run(kc: kc, a: panelA, b: panelB, alpha: 1, beta: 0, c: edge, ldc: nr)
          MicroKernel.storeEdge(
            edge, rows: height, columns: width, alpha: alpha, beta: beta, c: tile, ldc: ldc)
        }
        ir += mr
      }
      jr += nr
    }
  }

  /// `macroKernel` reading whole 6-row panels of A in place (`MicroKernel.runStrided`);
  /// only a last partial panel is packed, into `scratch`, so that no row past the matrix
  /// is read.
  static func macroKernelUnpackedA(
    m: Int, n: Int, kc: Int, alpha: Float, a: Operand, packedB: UnsafePointer<Float>,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, scratch: UnsafeMutablePointer<Float>,
    edge: UnsafeMutablePointer<Float>
  ) {
    let mr = MicroKernel.rows, nr = MicroKernel.columns
    let fullRows = m / mr * mr
    if fullRows < m {
      Packing.packA(a, rows: fullRows, height: m - fullRows, columns: 0, depth: kc, into: scratch)
    }
    var jr = 0
    while jr < n {
      let width = min(nr, n - jr)
      let panelB = packedB + jr * kc
      var ir = 0
      while ir < m {
        let height = min(mr, m - ir)
        let tile = c + ir * ldc + jr
        let full = height == mr && width == nr
        let target = full ? tile : edge
        let targetStride = full ? ldc : nr
        let (tileAlpha, tileBeta): (Float, Float) = full ? (alpha, beta) : (1, 0)
        if height == mr {
          MicroKernel.runStrided(
            kc: kc, a: a.base + ir * a.rowStride, rowStride: a.rowStride,
            columnStride: a.columnStride, b: panelB, alpha: tileAlpha, beta: tileBeta,
            c: target, ldc: targetStride)
        } else {
          MicroKernel.run(
            kc: kc, a: scratch, b: panelB, alpha: tileAlpha, beta: tileBeta, c: target,
            ldc: targetStride)
        }
        if !full {
          MicroKernel.storeEdge(
            edge, rows: height, columns: width, alpha: alpha, beta: beta, c: tile, ldc: ldc)
        }
        ir += mr
      }
      jr += nr
    }
  }

  @inline(__always)
  static func roundUp(_ x: Int, to multiple: Int) -> Int {
    (x + multiple - 1) / multiple * multiple
  }
}

extension GEMM {
  /// Cache blocking of the packed product.
  ///
  /// Measured on the build machine (AMD EPYC Zen 4: 32 KiB L1d and 1 MiB L2 per core,
  /// 32 MiB shared L3); see Docs/DenseKernels.md. A `kc × 16` panel of B (16 KiB at
  /// `kc = 256`) stays in L1 while the micro-kernel sweeps the `mc × kc` block of A held
  /// in L2; the `kc × nc` block of B lives in L3.
  enum Blocking {
    /// Depth of one block of k.
    static let kc = 256
    /// Rows of A per packed block (a multiple of the micro-kernel's 6 rows).
    static let mc = 144
    /// Columns of B per packed block (a multiple of the micro-kernel's 16 columns).
    static let nc = 4096
  }

  /// A strided view of a stored matrix: element (i, j) is `base[i · rowStride + j ·
  /// columnStride]`. One of the strides is 1 for the operands of `sgemm`.
  struct Operand {
    var base: UnsafePointer<Float>
    var rowStride: Int
    var columnStride: Int

    @inline(__always)
    func offset(row: Int, column: Int) -> Operand {
      Operand(
        base: base + row * rowStride + column * columnStride, rowStride: rowStride,
        columnStride: columnStride)
    }
  }
}
