extension GEMM {
  /// The 6×16 register tile: `C[0..<6, 0..<16] = alpha · Ã·B̃ + beta · C` over one packed
  /// A panel (6 × kc) and one packed B panel (kc × 16).
  ///
  /// Twelve `SIMD8<Float>` accumulators (6 rows × 2 vectors) live in registers; each step
  /// of k loads two vectors of B, broadcasts six scalars of A and issues twelve fused
  /// multiply-adds (`vfmadd231ps` with `-target-cpu haswell`): 12 of the 16 AVX registers
  /// hold C, two hold B and one the broadcast. Twelve independent FMA chains cover the
  /// FMA latency (4 cycles) times the two FMA pipes with room to spare.
  enum MicroKernel {
    static let rows = 6
    static let columns = 16

    /// Computes a whole tile. `b` must be 32-byte aligned (packed panels are).
    ///
    /// Stores: `beta == 0`: `C = alpha·acc` (C is not read); `beta == 1`:
    /// `C = fma(alpha, acc, C)`; otherwise `C = fma(alpha, acc, beta·C)`.
    ///
    /// Not inlined on purpose: compiled on its own, the loop keeps all twelve accumulators
    /// in registers; inlined into the tile loops, register pressure from the surrounding
    /// code made the compiler spill one accumulator and shuffle the rest every step.
    static func run(
      kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, alpha: Float, beta: Float,
      c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
      typealias V = SIMD8<Float>
      var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
      var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
      var pa = a
      var pb = UnsafeRawPointer(b)
      for _ in 0..<kc {
        let b0 = pb.load(as: V.self)
        let b1 = pb.load(fromByteOffset: 32, as: V.self)
        var x = V(repeating: pa[0])
        c00 = c00.addingProduct(x, b0)
        c01 = c01.addingProduct(x, b1)
        x = V(repeating: pa[1])
        c10 = c10.addingProduct(x, b0)
        c11 = c11.addingProduct(x, b1)
        x = V(repeating: pa[2])
        c20 = c20.addingProduct(x, b0)
        c21 = c21.addingProduct(x, b1)
        x = V(repeating: pa[3])
        c30 = c30.addingProduct(x, b0)
        c31 = c31.addingProduct(x, b1)
        x = V(repeating: pa[4])
        c40 = c40.addingProduct(x, b0)
        c41 = c41.addingProduct(x, b1)
        x = V(repeating: pa[5])
        c50 = c50.addingProduct(x, b0)
        c51 = c51.addingProduct(x, b1)
        pa += 6
        pb += 64
      }
      storeTile(
        (c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51), alpha: alpha, beta: beta,
        c: c, ldc: ldc)
    }

    /// `run` reading A straight from its strided storage instead of a packed panel: element
    /// (r, p) of the 6-row panel is `a[r · rowStride + p · columnStride]`. Used when a
    /// packed A would be read only a few times (n ≤ 96), so that packing it would cost
    /// more than it saves. The arithmetic is the same as `run`'s, in the same order.
    @inline(never)
    static func runStrided(
      kc: Int, a: UnsafePointer<Float>, rowStride rs: Int, columnStride cs: Int,
      b: UnsafePointer<Float>, alpha: Float, beta: Float, c: UnsafeMutablePointer<Float>,
      ldc: Int
    ) {
      typealias V = SIMD8<Float>
      var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
      var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
      let a0 = a, a1 = a + rs, a2 = a + 2 * rs, a3 = a + 3 * rs, a4 = a + 4 * rs, a5 = a + 5 * rs
      var offset = 0
      var pb = UnsafeRawPointer(b)
      for _ in 0..<kc {
        let b0 = pb.load(as: V.self)
        let b1 = pb.load(fromByteOffset: 32, as: V.self)
        var x = V(repeating: a0[offset])
        c00 = c00.addingProduct(x, b0)
        c01 = c01.addingProduct(x, b1)
        x = V(repeating: a1[offset])
        c10 = c10.addingProduct(x, b0)
        c11 = c11.addingProduct(x, b1)
        x = V(repeating: a2[offset])
        c20 = c20.addingProduct(x, b0)
        c21 = c21.addingProduct(x, b1)
        x = V(repeating: a3[offset])
        c30 = c30.addingProduct(x, b0)
        c31 = c31.addingProduct(x, b1)
        x = V(repeating: a4[offset])
        c40 = c40.addingProduct(x, b0)
        c41 = c41.addingProduct(x, b1)
        x = V(repeating: a5[offset])
        c50 = c50.addingProduct(x, b0)
        c51 = c51.addingProduct(x, b1)
        offset += cs
        pb += 64
      }
      storeTile(
        (c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51), alpha: alpha, beta: beta,
        c: c, ldc: ldc)
    }

    typealias Tile = (
      SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>,
      SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>
    )

    /// Stores the twelve accumulators (row r in `t.2r`, `t.2r+1`) with alpha and beta.
    @inline(__always)
    static func storeTile(
      _ t: Tile, alpha: Float, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
      let out = UnsafeMutableRawPointer(c)
      let stride = ldc * MemoryLayout<Float>.stride
      if beta == 0 {
        let s = SIMD8<Float>(repeating: alpha)
        store(t.0 * s, t.1 * s, out)
        store(t.2 * s, t.3 * s, out + stride)
        store(t.4 * s, t.5 * s, out + 2 * stride)
        store(t.6 * s, t.7 * s, out + 3 * stride)
        store(t.8 * s, t.9 * s, out + 4 * stride)
        store(t.10 * s, t.11 * s, out + 5 * stride)
      } else {
        update(t.0, t.1, out, alpha: alpha, beta: beta)
        update(t.2, t.3, out + stride, alpha: alpha, beta: beta)
        update(t.4, t.5, out + 2 * stride, alpha: alpha, beta: beta)
        update(t.6, t.7, out + 3 * stride, alpha: alpha, beta: beta)
        update(t.8, t.9, out + 4 * stride, alpha: alpha, beta: beta)
        update(t.10, t.11, out + 5 * stride, alpha: alpha, beta: beta)
      }
    }

    @inline(__always)
    static func store(_ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ p: UnsafeMutableRawPointer) {
      p.storeBytes(of: v0, as: SIMD8<Float>.self)
      p.storeBytes(of: v1, toByteOffset: 32, as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func update(
      _ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ p: UnsafeMutableRawPointer, alpha: Float,
      beta: Float
    ) {
      let s = SIMD8<Float>(repeating: alpha)
      var o0 = p.loadUnaligned(as: SIMD8<Float>.self)
      var o1 = p.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
      if beta != 1 {
        o0 *= beta
        o1 *= beta
      }
      store(o0.addingProduct(s, v0), o1.addingProduct(s, v1), p)
    }

    /// Writes the top-left `rows × columns` part of a tile computed into `tile` (with
    /// alpha 1, beta 0, row stride 16) into C, with the same arithmetic as `run`'s stores,
    /// so that an element's value does not depend on whether it sat in an edge tile.
    static func storeEdge(
      _ tile: UnsafePointer<Float>, rows: Int, columns: Int, alpha: Float, beta: Float,
      c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
      for r in 0..<rows {
        let src = tile + r * Self.columns, dst = c + r * ldc
        if beta == 0 {
          for j in 0..<columns { dst[j] = src[j] * alpha }
        } else if beta == 1 {
          for j in 0..<columns { dst[j] = dst[j].addingProduct(alpha, src[j]) }
        } else {
          for j in 0..<columns { dst[j] = (dst[j] * beta).addingProduct(alpha, src[j]) }
        }
      }
    }
  }
}
