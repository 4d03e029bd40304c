import SNNBase

extension Conv2DKernels {
  /// Below this fraction of active inputs `forwardSpikes` beats `forward`, and
  /// `backwardWeightsSpikes` beats `backwardWeights` (measured with
  /// `snn bench conv --spikes 0.1 --sweep`; see Docs/Benchmarks.md).
  ///
  /// Measured on the build machine, one thread, for 40C5 on 15×12×12 inputs at batch 64
  /// (the second convolution of the MNIST network): crossovers at density 0.07 (forward) and
  /// 0.08 (weight gradient); at 0.02 the spike kernels are 3× and 2.2× faster. The default,
  /// 0.05, stays below both. The crossover depends on the geometry: convolutions with few
  /// input channels and small kernels (C·kh·kw below about 50) are cheap as a GEMM and gain
  /// little or nothing from the spike kernels.
  nonisolated(unsafe) public static var spikeCrossoverDensity: Double = 0.05

  /// `forward` for {0, 1} spike inputs (nonzero counts as 1): visits only active inputs.
  ///
  /// Each active input `(c, y, x)` adds the weight vector `w[:, c, ky, kx]` (kept
  /// transposed, output channels contiguous, up to eight `SIMD8<Float>` in registers) to the
  /// channels-last sums of every output pixel it reaches; the sums start at the bias and are
  /// transposed into the `[O, outH, outW]` output at the end of each image. Work is
  /// proportional to the active inputs times kh·kw·O, against B·O·outH·outW·C·kh·kw
  /// multiply-adds for `forward`, and no column matrix is built. Inputs are visited in
  /// (c, y, ky, kx, x) order, a fixed order per output element; images are split across
  /// threads, each output element computed by one thread, so results do not depend on
  /// `threads`.
  public static func forwardSpikes(
    _ geometry: ConvGeometry, batch: Int, input: UnsafePointer<Float>,
    weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outChannels: Int,
    output: UnsafeMutablePointer<Float>, threads: Int = Parallel.defaultThreads
  ) {
    precondition(batch >= 0 && outChannels > 0 && threads >= 1, "Conv2DKernels: bad arguments")
    guard batch > 0 else { return }
    let g = geometry
    let patch = g.patchSize, pixels = g.outputPixels
    let lanes = GEMM.roundUp(outChannels, to: 8)
    ScratchPool.withBuffer(floats: patch * lanes + lanes) { transposed in
      transposeWeights(
        weights, outChannels: outChannels, patch: patch, lanes: lanes, into: transposed)
      let biasRow = transposed + patch * lanes
      for o in 0..<lanes { biasRow[o] = o < outChannels ? (bias?[o] ?? 0) : 0 }
      let perThread = pixels * lanes + GEMM.roundUp(g.width, to: 16)
      Parallel.forEachChunk(count: batch, chunks: min(threads, batch)) { _, images in
        ScratchPool.withBytes(perThread * 4) { raw in
          let sums = raw.bindMemory(to: Float.self, capacity: pixels * lanes)
          let active = (raw + pixels * lanes * 4).bindMemory(to: Int32.self, capacity: g.width)
          for b in images {
            for p in 0..<pixels { (sums + p * lanes).update(from: biasRow, count: lanes) }
            let image = input + b * g.inputSize
            var o0 = 0
            while o0 < lanes {
              let vectors = min(8, (lanes - o0) / 8)
              scatter(
                g, image: image, active: active, weights: transposed + o0, lanes: lanes,
                vectors: vectors, sums: sums + o0)
              o0 += vectors * 8
            }
            let out = output + b * outChannels * pixels
            for o in 0..<outChannels {
              let dst = out + o * pixels
              for p in 0..<pixels { dst[p] = sums[p * lanes + o] }
            }
          }
        }
      }
    }
  }

  /// `backwardWeights` for {0, 1} spike inputs: `weightGradient += ∂L/∂W`,
  /// `biasGradient += ∂L/∂bias`, visiting only active inputs.
  ///
  /// The output gradient is transposed to `[B, pixels, O]` once; then each weight column
  /// `w[:, c, ky, kx]` sums, in registers, the output-gradient vectors of the pixels whose
  /// input at offset (ky, kx) was active, over images and rows in order. Weight columns
  /// are split across threads, so results do not depend on `threads`.
  public static func backwardWeightsSpikes(
    _ geometry: ConvGeometry, batch: Int, input: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, outChannels: Int,
    weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?,
    threads: Int = Parallel.defaultThreads
  ) {
    precondition(batch >= 0 && outChannels > 0 && threads >= 1, "Conv2DKernels: bad arguments")
    guard batch > 0 else { return }
    let g = geometry
    let patch = g.patchSize, pixels = g.outputPixels
    let lanes = GEMM.roundUp(outChannels, to: 8)
    let rows = batch * g.inChannels * g.height
    let transposedCount = GEMM.roundUp(batch * pixels * lanes, to: 16)
    let listInts = (rows + 1) + rows * g.width
    ScratchPool.withBytes(transposedCount * 4 + listInts * 4) { raw in
      let dyT = raw.bindMemory(to: Float.self, capacity: transposedCount)
      let lists = RowLists(raw + transposedCount * 4, rows: rows, width: g.width)
      // dyT[b, pixel, o] = dy[b, o, pixel], zero-padded to `lanes` channels.
      Parallel.forEachChunk(count: batch, chunks: threads) { _, images in
        for b in images {
          let src = outputGradient + b * outChannels * pixels
          let dst = dyT + b * pixels * lanes
          for p in 0..<pixels {
            let row = dst + p * lanes
            for o in 0..<outChannels { row[o] = src[o * pixels + p] }
            for o in outChannels..<lanes { row[o] = 0 }
          }
        }
      }
      lists.build(input, rows: rows, width: g.width)
      Parallel.forEachChunk(count: patch, chunks: min(threads, patch)) { _, columns in
        ScratchPool.withBuffer(floats: lanes) { sums in
          for k in columns {
            var o0 = 0
            while o0 < lanes {
              let vectors = min(8, (lanes - o0) / 8)
              columnSum(
                g, batch: batch, column: k, lists: lists, gradient: dyT + o0, lanes: lanes,
                vectors: vectors, into: sums + o0)
              o0 += vectors * 8
            }
            for o in 0..<outChannels { weightGradient[o * patch + k] += sums[o] }
          }
        }
      }
    }
    if let biasGradient {
      for o in 0..<outChannels {
        var total: Float = 0
        for b in 0..<batch {
          total += sum(outputGradient + (b * outChannels + o) * pixels, count: pixels)
        }
        biasGradient[o] += total
      }
    }
  }

  // MARK: Implementation

  @inline(__always)
  static func scatter(
    _ g: ConvGeometry, image: UnsafePointer<Float>, active: UnsafeMutablePointer<Int32>,
    weights: UnsafePointer<Float>, lanes: Int, vectors: Int, sums: UnsafeMutablePointer<Float>
  ) {
    switch vectors {
    case 1: scatter(g, image, active, weights, lanes, 1, sums)
    case 2: scatter(g, image, active, weights, lanes, 2, sums)
    case 3: scatter(g, image, active, weights, lanes, 3, sums)
    case 4: scatter(g, image, active, weights, lanes, 4, sums)
    case 5: scatter(g, image, active, weights, lanes, 5, sums)
    case 6: scatter(g, image, active, weights, lanes, 6, sums)
    case 7: scatter(g, image, active, weights, lanes, 7, sums)
    default: scatter(g, image, active, weights, lanes, 8, sums)
    }
  }

  @inline(__always)
  static func scatter(
    _ g: ConvGeometry, _ image: UnsafePointer<Float>, _ active: UnsafeMutablePointer<Int32>,
    _ weights: UnsafePointer<Float>, _ lanes: Int, _ vectors: Int,
    _ sums: UnsafeMutablePointer<Float>
  ) {
    typealias V = SIMD8<Float>
    let rowBytes = lanes * MemoryLayout<Float>.stride
    let s = g.stride, p = g.padding
    let wBase = UnsafeRawPointer(weights), sBase = UnsafeMutableRawPointer(sums)
    for c in 0..<g.inChannels {
      for y in 0..<g.height {
        let count = SpikeGEMM.activeIndices(
          image + (c * g.height + y) * g.width, count: g.width, into: active)
        guard count > 0 else { continue }
        for ky in 0..<g.kernelHeight {
          let oyScaled = y + p - ky
          guard oyScaled >= 0 && oyScaled % s == 0 else { continue }
          let oy = oyScaled / s
          guard oy < g.outHeight else { continue }
          let sRow = sBase + oy * g.outWidth * rowBytes
          for kx in 0..<g.kernelWidth {
            // One weight vector set in registers, added to the pixels ox = (x + p − kx)/s
            // of all active x: consecutive updates hit different pixels.
            let w = SIMDAccumulators(
              loading: wBase + ((c * g.kernelHeight + ky) * g.kernelWidth + kx) * rowBytes,
              vectors: vectors)
            for q in 0..<count {
              let oxScaled = Int(active[q]) + p - kx
              guard oxScaled >= 0 else { continue }
              if s != 1 && oxScaled % s != 0 { continue }
              let ox = oxScaled / s
              guard ox < g.outWidth else { break }
              w.add(into: sRow + ox * rowBytes, vectors: vectors)
            }
          }
        }
      }
    }
  }

  /// Active columns of many rows: entries `offsets[r] ..< offsets[r + 1]` of `indices` are
  /// the x with `row r[x] != 0`, increasing.
  struct RowLists {
    let offsets: UnsafeMutablePointer<Int32>
    let indices: UnsafeMutablePointer<Int32>

    /// Lays the lists out at `raw`: `rows + 1` offsets, then room for `rows · width` indices.
    init(_ raw: UnsafeMutableRawPointer, rows: Int, width: Int) {
      let all = raw.bindMemory(to: Int32.self, capacity: rows + 1 + rows * width)
      offsets = all
      indices = all + rows + 1
    }

    func build(_ values: UnsafePointer<Float>, rows: Int, width: Int) {
      offsets[0] = 0
      var total = 0
      for r in 0..<rows {
        total += SpikeGEMM.activeIndices(values + r * width, count: width, into: indices + total)
        offsets[r + 1] = Int32(truncatingIfNeeded: total)
      }
    }
  }

  /// `weights [O, K]` → `transposed [K, lanes]` (zero columns past O).
  static func transposeWeights(
    _ weights: UnsafePointer<Float>, outChannels: Int, patch: Int, lanes: Int,
    into transposed: UnsafeMutablePointer<Float>
  ) {
    for k in 0..<patch {
      let row = transposed + k * lanes
      for o in 0..<outChannels { row[o] = weights[o * patch + k] }
      for o in outChannels..<lanes { row[o] = 0 }
    }
  }

  /// Sums over images and output pixels the gradient vectors (rows of `gradient`,
  /// `[B, pixels, lanes]`) of the pixels whose input at weight column `column` = (c, ky, kx)
  /// is active.
  @inline(__always)
  static func columnSum(
    _ g: ConvGeometry, batch: Int, column: Int, lists: RowLists, gradient: UnsafePointer<Float>,
    lanes: Int, vectors: Int, into sums: UnsafeMutablePointer<Float>
  ) {
    switch vectors {
    case 1: columnSum(g, batch, column, lists, gradient, lanes, 1, sums)
    case 2: columnSum(g, batch, column, lists, gradient, lanes, 2, sums)
    case 3: columnSum(g, batch, column, lists, gradient, lanes, 3, sums)
    case 4: columnSum(g, batch, column, lists, gradient, lanes, 4, sums)
    case 5: columnSum(g, batch, column, lists, gradient, lanes, 5, sums)
    case 6: columnSum(g, batch, column, lists, gradient, lanes, 6, sums)
    case 7: columnSum(g, batch, column, lists, gradient, lanes, 7, sums)
    default: columnSum(g, batch, column, lists, gradient, lanes, 8, sums)
    }
  }

  @inline(__always)
  static func columnSum(
    _ g: ConvGeometry, _ batch: Int, _ column: Int, _ lists: RowLists,
    _ gradient: UnsafePointer<Float>, _ lanes: Int, _ vectors: Int,
    _ sums: UnsafeMutablePointer<Float>
  ) {
    var acc = SIMDAccumulators()
    let kx = column % g.kernelWidth
    let ky = (column / g.kernelWidth) % g.kernelHeight
    let c = column / (g.kernelWidth * g.kernelHeight)
    let (lo, hi) = Im2Col.insideColumns(g, kx: kx)
    guard lo < hi else {
      acc.store(sums, vectors: vectors)
      return
    }
    // Output column ox reads input column x = ox·s − p + kx; inside the image exactly for
    // ox in lo..<hi, i.e. x in xLo...xHi with x ≡ xLo (mod s).
    let s = g.stride
    let xLo = Int32(truncatingIfNeeded: lo * s - g.padding + kx)
    let xHi = Int32(truncatingIfNeeded: (hi - 1) * s - g.padding + kx)
    let rowBytes = lanes * MemoryLayout<Float>.stride
    for b in 0..<batch {
      let image = UnsafeRawPointer(gradient + b * g.outputPixels * lanes)
      for oy in 0..<g.outHeight {
        let y = oy * s - g.padding + ky
        guard y >= 0 && y < g.height else { continue }
        let r = (b * g.inChannels + c) * g.height + y
        let pixelRow = image + oy * g.outWidth * rowBytes
        var q = Int(lists.offsets[r])
        let end = Int(lists.offsets[r + 1])
        while q < end {
          let x = lists.indices[q]
          q += 1
          if x < xLo { continue }
          if x > xHi { break }
          let shifted = Int(x - xLo)
          if s != 1 && shifted % s != 0 { continue }
          let ox = lo + shifted / s
          acc.add(pixelRow + ox * rowBytes, vectors: vectors)
        }
      }
    }
    acc.store(sums, vectors: vectors)
  }
}
