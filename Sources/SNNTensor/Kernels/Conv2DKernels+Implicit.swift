import SNNBase

/// Implicit-GEMM convolution: the products of `Conv2DKernels` without a column matrix.
///
/// For a stride-1 convolution without padding, entry (p, j) of an image's column matrix,
/// with p = (c, ky, kx) and output pixel j = (oy, ox), is the input value at
/// `offset[p] + oy·W + ox` where `offset[p] = (c·H + ky)·W + kx`. When the output width is a
/// multiple of 8, eight consecutive pixels of one output row are eight *adjacent* input
/// values, so every `SIMD8<Float>` the packed products would read from a packed panel of
/// the column matrix can be loaded straight from the input image instead (or, for the
/// input gradient, from the output gradient). The kernels here do that:
///
/// - **forward**: a 6×16 register tile (as `GEMM.MicroKernel`) over packed weight panels,
///   whose B vectors are read from the image at `offset[p]` + the base of the tile's two
///   half-rows of eight pixels; the tile is stored straight into the output layout
///   `[B, O, outH·outW]`, bias added. No unfold, no packing of B, no copy of the product.
/// - **weight gradient**: the output gradient transposed once to `[B, pixels, O′]`, then
///   6×16 register tiles of `(∂L/∂W)ᵀ` (six patch rows × sixteen channels) adding one outer
///   product per pixel: six input values broadcast from the image, two gradient vectors.
/// - **input gradient**: the 6×16 tile of `Wᵀ·∂L/∂y` reading B straight from `∂L/∂y` (row o
///   at `o·pixels`), into one image's column-gradient matrix, then folded back row by row
///   (``foldAddingRows(_:columns:image:)``).
///
/// Every output element is summed by one thread in an order that does not depend on the
/// thread count (patch order for the forward, output-channel order and then a fixed fold
/// order for the input gradient, pixel order for the weight gradient), so all three
/// results are the same for any `threads` value. ``supportsImplicit(_:)`` tells which
/// geometries qualify (the MNIST network's 1×28×28 → 15C5 and 15×12×12 → 40C5 both do);
/// `Conv2DKernels.forward`, `backwardData` and `backwardWeights` dispatch here on their own.
extension Conv2DKernels {
  /// Whether `geometry` takes the implicit kernels: stride 1, no padding, output rows a
  /// multiple of 8 wide and a multiple of 16 pixels per image (so that a 16-pixel tile
  /// never straddles two images).
  public static func supportsImplicit(_ geometry: ConvGeometry) -> Bool {
    geometry.stride == 1 && geometry.padding == 0 && geometry.outWidth % 8 == 0
      && geometry.outputPixels % 16 == 0
  }

  /// The Floats of scratch space that hold `count` Ints.
  static func intFloats(_ count: Int) -> Int {
    count * MemoryLayout<Int>.stride / MemoryLayout<Float>.stride
  }

  /// `offset[p]` for every patch row p = (c, ky, kx): `(c·H + ky)·W + kx`.
  static func patchOffsets(_ g: ConvGeometry, into offsets: UnsafeMutablePointer<Int>) {
    var p = 0
    for c in 0..<g.inChannels {
      for ky in 0..<g.kernelHeight {
        for kx in 0..<g.kernelWidth {
          offsets[p] = (c * g.height + ky) * g.width + kx
          p += 1
        }
      }
    }
  }

  /// The input offset `oy·W + ox` of the first pixel of each run of eight output pixels.
  static func segmentOffsets(_ g: ConvGeometry, into offsets: UnsafeMutablePointer<Int>) {
    for s in 0..<(g.outputPixels / 8) {
      let j = 8 * s
      offsets[s] = (j / g.outWidth) * g.width + j % g.outWidth
    }
  }

  /// Packs the rows of a row-major `rows × depth` matrix (or, `transposed`, of its
  /// transpose stored `depth × rows`) into 6-row panels, zero-padded: element (r, p) of
  /// panel q at `q·6·depth + p·6 + r`.
  static func packPanels(
    _ source: UnsafePointer<Float>, rows: Int, depth: Int, transposed: Bool,
    into destination: UnsafeMutablePointer<Float>
  ) {
    let mr = GEMM.MicroKernel.rows
    let panels = (rows + mr - 1) / mr
    for q in 0..<panels {
      let out = destination + q * mr * depth
      for p in 0..<depth {
        for r in 0..<mr {
          let i = q * mr + r
          out[p * mr + r] =
            i < rows ? (transposed ? source[p * rows + i] : source[i * depth + p]) : 0
        }
      }
    }
  }

  // MARK: Forward

  static func forwardImplicit(
    _ g: ConvGeometry, batch: Int, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, outChannels: Int, output: UnsafeMutablePointer<Float>,
    threads: Int
  ) {
    let patch = g.patchSize, pixels = g.outputPixels, imageSize = g.inputSize
    let outSize = outChannels * pixels
    let mr = GEMM.MicroKernel.rows
    let panels = (outChannels + mr - 1) / mr
    let packedFloats = GEMM.roundUp(panels * mr * patch, to: 16)
    ScratchPool.withBuffer(floats: packedFloats + intFloats(patch + pixels / 8)) { scratch in
      let packed = scratch
      let offsets = UnsafeMutableRawPointer(scratch + packedFloats).bindMemory(
        to: Int.self, capacity: patch + pixels / 8)
      let segments = offsets + patch
      packPanels(weights, rows: outChannels, depth: patch, transposed: false, into: packed)
      patchOffsets(g, into: offsets)
      segmentOffsets(g, into: segments)
      Parallel.forEachChunk(count: batch, chunks: threads) { _, images in
        for b in images {
          let x = input + b * imageSize, y = output + b * outSize
          for q in 0..<panels {
            let rows = min(mr, outChannels - q * mr)
            let panel = UnsafePointer(packed + q * mr * patch)
            let rowBias = bias.map { $0 + q * mr }
            var j0 = 0
            while j0 < pixels {
              implicitTile(
                depth: patch, a: panel, b0: x + segments[j0 / 8], b1: x + segments[j0 / 8 + 1],
                offsets: offsets, rows: rows, bias: rowBias, c: y + q * mr * pixels + j0,
                ldc: pixels)
              j0 += 16
            }
          }
        }
      }
    }
  }

  /// One 6×16 tile: `c[r, 0..<8] = bias[r] + Σ_p a[p·6 + r]·b0[offsets[p] + 0..<8]` and
  /// likewise `c[r, 8..<16]` from `b1`, for the first `rows` rows (the others are not
  /// stored). Products are summed in p order with fused multiply-adds; the bias is added
  /// last.
  @inline(never)
  static func implicitTile(
    depth: Int, a: UnsafePointer<Float>, b0: UnsafePointer<Float>, b1: UnsafePointer<Float>,
    offsets: UnsafePointer<Int>, rows: Int, bias: UnsafePointer<Float>?,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    typealias V = SIMD8<Float>
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    let r0 = UnsafeRawPointer(b0), r1 = UnsafeRawPointer(b1)
    var pa = a
    for p in 0..<depth {
      let o = offsets[p] &* 4
      let v0 = r0.loadUnaligned(fromByteOffset: o, as: V.self)
      let v1 = r1.loadUnaligned(fromByteOffset: o, as: V.self)
      var x = V(repeating: pa[0])
      c00 = c00.addingProduct(x, v0)
      c01 = c01.addingProduct(x, v1)
      x = V(repeating: pa[1])
      c10 = c10.addingProduct(x, v0)
      c11 = c11.addingProduct(x, v1)
      x = V(repeating: pa[2])
      c20 = c20.addingProduct(x, v0)
      c21 = c21.addingProduct(x, v1)
      x = V(repeating: pa[3])
      c30 = c30.addingProduct(x, v0)
      c31 = c31.addingProduct(x, v1)
      x = V(repeating: pa[4])
      c40 = c40.addingProduct(x, v0)
      c41 = c41.addingProduct(x, v1)
      x = V(repeating: pa[5])
      c50 = c50.addingProduct(x, v0)
      c51 = c51.addingProduct(x, v1)
      pa += 6
    }
    let out = UnsafeMutableRawPointer(c)
    let stride = ldc * MemoryLayout<Float>.stride
    @inline(__always) func put(_ r: Int, _ u: V, _ v: V) {
      let beta = V(repeating: bias?[r] ?? 0)
      let row = out + r * stride
      row.storeBytes(of: u + beta, as: V.self)
      row.storeBytes(of: v + beta, toByteOffset: 32, as: V.self)
    }
    put(0, c00, c01)
    if rows > 1 { put(1, c10, c11) }
    if rows > 2 { put(2, c20, c21) }
    if rows > 3 { put(3, c30, c31) }
    if rows > 4 { put(4, c40, c41) }
    if rows > 5 { put(5, c50, c51) }
  }

  // MARK: Input gradient

  static func backwardDataImplicit(
    _ g: ConvGeometry, batch: Int, outputGradient: UnsafePointer<Float>,
    weights: UnsafePointer<Float>, outChannels: Int, inputGradient: UnsafeMutablePointer<Float>,
    threads: Int
  ) {
    let patch = g.patchSize, pixels = g.outputPixels, imageSize = g.inputSize
    let outSize = outChannels * pixels
    let mr = GEMM.MicroKernel.rows
    let panels = (patch + mr - 1) / mr
    let packedFloats = GEMM.roundUp(panels * mr * outChannels, to: 16)
    ScratchPool.withBuffer(floats: packedFloats + intFloats(outChannels)) { scratch in
      let packed = scratch
      let offsets = UnsafeMutableRawPointer(scratch + packedFloats).bindMemory(
        to: Int.self, capacity: outChannels)
      // Wᵀ (patch × O) in 6-row panels; B row o of an image's gradient at o·pixels.
      packPanels(weights, rows: patch, depth: outChannels, transposed: true, into: packed)
      for o in 0..<outChannels { offsets[o] = o * pixels }
      Parallel.forEachChunk(count: batch, chunks: threads) { _, images in
        ScratchPool.withBuffer(floats: patch * pixels) { columns in
          for b in images {
            let dy = outputGradient + b * outSize
            for q in 0..<panels {
              let rows = min(mr, patch - q * mr)
              let panel = UnsafePointer(packed + q * mr * outChannels)
              var j0 = 0
              while j0 < pixels {
                implicitTile(
                  depth: outChannels, a: panel, b0: dy + j0, b1: dy + j0 + 8, offsets: offsets,
                  rows: rows, bias: nil, c: columns + q * mr * pixels + j0, ldc: pixels)
                j0 += 16
              }
            }
            let image = inputGradient + b * imageSize
            image.update(repeating: 0, count: imageSize)
            foldAddingRows(g, columns: columns, image: image)
          }
        }
      }
    }
  }

  // MARK: Weight gradient

  /// Images per block of the weight gradient: about 1024 pixels, so that a block's input
  /// images and transposed output gradients stay in L2 while all tiles sweep over them.
  static func implicitImageBlock(pixels: Int) -> Int { max(1, 1024 / pixels) }

  /// `∂L/∂W += Σ_b ∂L/∂y_b · unfold(x_b)ᵀ` as `(∂L/∂W)ᵀ = Σ_j unfold(x)[:, j] ⊗ ∂L/∂y[:, j]`:
  /// the output gradient is transposed once to `[B, pixels, O′]` (O′ = O rounded up to 8),
  /// then 6×16 register tiles of `(∂L/∂W)ᵀ` (six patch rows × sixteen output channels)
  /// accumulate one outer product per pixel: six input values broadcast from the image at
  /// `offset[p] + oy·W + ox`, two vectors of the transposed gradient. A tile is owned by one
  /// thread and summed over every pixel of every image in order (image blocks only reload
  /// its accumulators), so the result does not depend on the thread count.
  static func backwardWeightsImplicit(
    _ g: ConvGeometry, batch: Int, input: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, outChannels: Int,
    weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?,
    threads: Int
  ) {
    let patch = g.patchSize, pixels = g.outputPixels, imageSize = g.inputSize
    let outSize = outChannels * pixels
    let mr = GEMM.MicroKernel.rows
    let width = GEMM.roundUp(outChannels, to: 8)  // O′: row length of the transposed gradient
    let rowPanels = (patch + mr - 1) / mr
    let columnPanels = (width + 15) / 16
    let tileCount = rowPanels * columnPanels
    let block = implicitImageBlock(pixels: pixels)
    let macs = outChannels * patch * batch * pixels
    let chunks = max(1, min(threads, macs / GEMM.ThreadPlan.minimumMACsPerThread, tileCount))
    let transposedFloats = GEMM.roundUp(batch * pixels * width, to: 16)
    let sumFloats = GEMM.roundUp(rowPanels * mr * width, to: 16)
    let scratchFloats = transposedFloats + sumFloats + intFloats(patch + pixels)
    ScratchPool.withBuffer(floats: scratchFloats) { scratch in
      let transposed = scratch, sums = scratch + transposedFloats
      let offsets = UnsafeMutableRawPointer(sums + sumFloats).bindMemory(
        to: Int.self, capacity: patch + pixels)
      let bases = offsets + patch
      patchOffsets(g, into: offsets)
      for j in 0..<pixels { bases[j] = (j / g.outWidth) * g.width + j % g.outWidth }
      sums.update(repeating: 0, count: rowPanels * mr * width)
      // [B, O, pixels] → [B, pixels, O′] (padding channels zero).
      Parallel.forEachChunk(count: batch, chunks: chunks) { _, images in
        for b in images {
          let src = outputGradient + b * outSize, dst = transposed + b * pixels * width
          for j in 0..<pixels {
            let row = dst + j * width
            for o in 0..<outChannels { row[o] = src[o * pixels + j] }
            for o in outChannels..<width { row[o] = 0 }
          }
        }
      }
      Parallel.forEachChunk(count: tileCount, chunks: chunks) { chunk, tiles in
        var b0 = 0
        while b0 < batch {
          let images = min(block, batch - b0)
          let x = input + b0 * imageSize
          let dy = UnsafePointer(transposed + b0 * pixels * width)
          for t in tiles {
            let p0 = (t / columnPanels) * mr, o0 = (t % columnPanels) * 16
            // Rows past the patch repeat its last row; their sums land in padding rows.
            var rowOffsets = (0, 0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &rowOffsets) { raw in
              let r = raw.bindMemory(to: Int.self)
              for i in 0..<mr { r[i] = offsets[min(p0 + i, patch - 1)] }
            }
            let c = sums + p0 * width + o0
            if width - o0 >= 16 {
              outerTileWide(
                images, pixels, x, imageSize, rowOffsets, bases, dy + o0, pixels * width, width,
                c)
            } else {
              outerTileNarrow(
                images, pixels, x, imageSize, rowOffsets, bases, dy + o0, pixels * width, width,
                c)
            }
          }
          b0 += images
        }
        if let biasGradient {
          let channels = Parallel.chunkRange(chunk, of: chunks, count: outChannels)
          for o in channels {
            var total: Float = 0
            for b in 0..<batch {
              total += sum(outputGradient + b * outSize + o * pixels, count: pixels)
            }
            biasGradient[o] += total
          }
        }
      }
      for o in 0..<outChannels {
        let dst = weightGradient + o * patch
        for p in 0..<patch { dst[p] += sums[p * width + o] }
      }
    }
  }

  typealias RowOffsets = (Int, Int, Int, Int, Int, Int)

  @inline(never)
  static func outerTileWide(
    _ images: Int, _ pixels: Int, _ x: UnsafePointer<Float>, _ xImageStride: Int,
    _ rowOffsets: RowOffsets, _ bases: UnsafePointer<Int>, _ dy: UnsafePointer<Float>,
    _ dyImageStride: Int, _ dyRowStride: Int, _ c: UnsafeMutablePointer<Float>
  ) {
    outerTile(
      2, images, pixels, x, xImageStride, rowOffsets, bases, dy, dyImageStride, dyRowStride, c)
  }

  @inline(never)
  static func outerTileNarrow(
    _ images: Int, _ pixels: Int, _ x: UnsafePointer<Float>, _ xImageStride: Int,
    _ rowOffsets: RowOffsets, _ bases: UnsafePointer<Int>, _ dy: UnsafePointer<Float>,
    _ dyImageStride: Int, _ dyRowStride: Int, _ c: UnsafeMutablePointer<Float>
  ) {
    outerTile(
      1, images, pixels, x, xImageStride, rowOffsets, bases, dy, dyImageStride, dyRowStride, c)
  }

  /// `c[r, 0..<8·vectors] += Σ_{b, j} x_b[rowOffsets.r + bases[j]] · dy_b[j, 0..<8·vectors]`
  /// for the six rows r, summed in (b, j) order onto the values already in `c` (row stride
  /// `dyRowStride`).
  @inline(__always)
  static func outerTile(
    _ vectors: Int, _ images: Int, _ pixels: Int, _ x: UnsafePointer<Float>,
    _ xImageStride: Int, _ rowOffsets: RowOffsets, _ bases: UnsafePointer<Int>,
    _ dy: UnsafePointer<Float>, _ dyImageStride: Int, _ dyRowStride: Int,
    _ c: UnsafeMutablePointer<Float>
  ) {
    typealias V = SIMD8<Float>
    let out = UnsafeMutableRawPointer(c)
    let stride = dyRowStride &* 4
    @inline(__always) func load(_ r: Int, _ v: Int) -> V {
      vectors > v ? out.loadUnaligned(fromByteOffset: r &* stride &+ 32 &* v, as: V.self) : V()
    }
    var c00 = load(0, 0), c01 = load(0, 1), c10 = load(1, 0), c11 = load(1, 1)
    var c20 = load(2, 0), c21 = load(2, 1), c30 = load(3, 0), c31 = load(3, 1)
    var c40 = load(4, 0), c41 = load(4, 1), c50 = load(5, 0), c51 = load(5, 1)
    for b in 0..<images {
      let xb = x + b &* xImageStride
      let a0 = xb + rowOffsets.0, a1 = xb + rowOffsets.1, a2 = xb + rowOffsets.2
      let a3 = xb + rowOffsets.3, a4 = xb + rowOffsets.4, a5 = xb + rowOffsets.5
      var pb = UnsafeRawPointer(dy + b &* dyImageStride)
      for j in 0..<pixels {
        let base = bases[j]
        let v0 = pb.loadUnaligned(as: V.self)
        let v1 = vectors > 1 ? pb.loadUnaligned(fromByteOffset: 32, as: V.self) : V()
        var s = V(repeating: a0[base])
        c00 = c00.addingProduct(s, v0)
        if vectors > 1 { c01 = c01.addingProduct(s, v1) }
        s = V(repeating: a1[base])
        c10 = c10.addingProduct(s, v0)
        if vectors > 1 { c11 = c11.addingProduct(s, v1) }
        s = V(repeating: a2[base])
        c20 = c20.addingProduct(s, v0)
        if vectors > 1 { c21 = c21.addingProduct(s, v1) }
        s = V(repeating: a3[base])
        c30 = c30.addingProduct(s, v0)
        if vectors > 1 { c31 = c31.addingProduct(s, v1) }
        s = V(repeating: a4[base])
        c40 = c40.addingProduct(s, v0)
        if vectors > 1 { c41 = c41.addingProduct(s, v1) }
        s = V(repeating: a5[base])
        c50 = c50.addingProduct(s, v0)
        if vectors > 1 { c51 = c51.addingProduct(s, v1) }
        pb += stride
      }
    }
    @inline(__always) func put(_ r: Int, _ u: V, _ v: V) {
      out.storeBytes(of: u, toByteOffset: r &* stride, as: V.self)
      if vectors > 1 { out.storeBytes(of: v, toByteOffset: r &* stride &+ 32, as: V.self) }
    }
    put(0, c00, c01)
    put(1, c10, c11)
    put(2, c20, c21)
    put(3, c30, c31)
    put(4, c40, c41)
    put(5, c50, c51)
  }

  // MARK: Fold

  /// `image += fold(columns)` for a stride-1, unpadded geometry whose output rows are whole
  /// vectors (``supportsImplicit(_:)``): for each channel and kernel column kx, each image
  /// row iy gets Σ_ky columns[(c, ky, kx), iy − ky] summed in registers (ky ascending) and
  /// added once, eight values at a time. Compared with `Im2Col.foldAdding` this makes one
  /// read-modify-write per (c, kx, iy) instead of one per (c, ky, kx, oy), and successive
  /// writes never partly overlap one another (no failed store forwarding).
  static func foldAddingRows(
    _ g: ConvGeometry, columns: UnsafePointer<Float>, image: UnsafeMutablePointer<Float>
  ) {
    typealias V = SIMD8<Float>
    let oh = g.outHeight, ow = g.outWidth, kh = g.kernelHeight, kw = g.kernelWidth
    let pixels = oh * ow
    for c in 0..<g.inChannels {
      let plane = image + c * g.height * g.width
      for kx in 0..<kw {
        for iy in 0..<g.height {
          let lo = max(0, iy - oh + 1), hi = min(kh - 1, iy)
          guard lo <= hi else { continue }
          let dst = UnsafeMutableRawPointer(plane + iy * g.width + kx)
          var xs = 0
          while xs < ow {
            var acc = V()
            for ky in lo...hi {
              let row = ((c * kh + ky) * kw + kx) * pixels + (iy - ky) * ow + xs
              acc += UnsafeRawPointer(columns + row).loadUnaligned(as: V.self)
            }
            let o = xs &* 4
            dst.storeBytes(
              of: dst.loadUnaligned(fromByteOffset: o, as: V.self) + acc, toByteOffset: o,
              as: V.self)
            xs += 8
          }
        }
      }
    }
  }
}
