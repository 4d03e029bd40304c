extension GEMM {
  /// Copies blocks of the operands into the contiguous, zero-padded panel layouts the
  /// micro-kernel streams through.
  ///
  /// - Packed A: panels of `MicroKernel.rows` (6) rows; inside a panel, the 6 values of
  ///   one column `p` are adjacent: element (r, p) of panel q sits at `q·6·kc + p·6 + r`.
  /// - Packed B: panels of `MicroKernel.columns` (16) columns; element (p, j) of panel q sits
  ///   at `q·16·kc + p·16 + j`, so one step of k reads two aligned `SIMD8<Float>`.
  ///
  /// Rows or columns past the edge of the matrix are filled with zeros, which contribute
  /// nothing to the sums.
  enum Packing {
    /// Packs `op(A)[rows ..< rows + height, columns ..< columns + depth]`.
    static func packA(
      _ a: Operand, rows: Int, height: Int, columns: Int, depth: Int,
      into destination: UnsafeMutablePointer<Float>
    ) {
      let mr = MicroKernel.rows
      let rs = a.rowStride, cs = a.columnStride
      var out = destination
      var q = 0
      while q < height {
        let h = min(mr, height - q)
        let src = a.base + (rows + q) * rs + columns * cs
        if cs == 1 && h == mr {
          // A stored row-major: six row streams, interleaved.
          let r0 = src, r1 = src + rs, r2 = src + 2 * rs
          let r3 = src + 3 * rs, r4 = src + 4 * rs, r5 = src + 5 * rs
          for p in 0..<depth {
            let o = out + p * mr
            o[0] = r0[p]
            o[1] = r1[p]
            o[2] = r2[p]
            o[3] = r3[p]
            o[4] = r4[p]
            o[5] = r5[p]
          }
        } else if rs == 1 && h == mr {
          // A stored transposed: each column of the panel is six adjacent values.
          for p in 0..<depth {
            let s = src + p * cs, o = out + p * mr
            o[0] = s[0]
            o[1] = s[1]
            o[2] = s[2]
            o[3] = s[3]
            o[4] = s[4]
            o[5] = s[5]
          }
        } else {
          for p in 0..<depth {
            let o = out + p * mr
            for r in 0..<h { o[r] = src[r * rs + p * cs] }
            for r in h..<mr { o[r] = 0 }
          }
        }
        out += mr * depth
        q += mr
      }
    }

    /// Packs `op(B)[rows ..< rows + depth, columns ..< columns + width]`.
    static func packB(
      _ b: Operand, rows: Int, depth: Int, columns: Int, width: Int,
      into destination: UnsafeMutablePointer<Float>
    ) {
      let nr = MicroKernel.columns
      let rs = b.rowStride, cs = b.columnStride
      var out = destination
      var q = 0
      while q < width {
        let w = min(nr, width - q)
        let src = b.base + rows * rs + (columns + q) * cs
        if cs == 1 && w == nr {
          // B stored row-major: 16 adjacent values per step of k.
          let o = UnsafeMutableRawPointer(out)
          for p in 0..<depth {
            let s = UnsafeRawPointer(src + p * rs)
            let v0 = s.loadUnaligned(as: SIMD8<Float>.self)
            let v1 = s.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
            o.storeBytes(of: v0, toByteOffset: p * 64, as: SIMD8<Float>.self)
            o.storeBytes(of: v1, toByteOffset: p * 64 + 32, as: SIMD8<Float>.self)
          }
        } else if rs == 1 && w == nr {
          // B stored transposed: 16 column streams, each contiguous in k.
          for j in 0..<nr {
            let s = src + j * cs
            for p in 0..<depth { out[p * nr + j] = s[p] }
          }
        } else {
          for p in 0..<depth {
            let o = out + p * nr
            for j in 0..<w { o[j] = src[p * rs + j * cs] }
            for j in w..<nr { o[j] = 0 }
          }
        }
        out += nr * depth
        q += nr
      }
    }
  }
}
