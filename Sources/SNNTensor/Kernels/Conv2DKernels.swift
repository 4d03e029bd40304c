import SNNBase

/// Batched 2-D convolution (cross-correlation, as in deep-learning frameworks) in
/// channels-first layout, built from `Im2Col` and `GEMM.sgemm`.
///
/// Shapes: input `[B, C, H, W]`, weights `[O, C, kh, kw]` (row-major, i.e. an
/// `O × C·kh·kw` matrix), bias `[O]`, output `[B, O, outH, outW]`:
///
///     y[b, o, oy, ox] = bias[o] + Σ_{c, ky, kx} w[o, c, ky, kx] ·
///                       x[b, c, oy·stride − padding + ky, ox·stride − padding + kx]
///
/// with x = 0 outside the image. The images of a batch are unfolded side by side into one
/// `[C·kh·kw, B′·outH·outW]` column matrix, so that each product is a single large GEMM
/// (`m = O`, `n = B′·outH·outW`, `k = C·kh·kw`) instead of B small ones. Images are taken
/// in groups of B′ whose column matrix and product fit in about 512 KiB, half of the L2
/// cache, so that the column matrix is still in L2 when the GEMM packs it (measured: 20–40%
/// faster than one group for the whole batch, see Docs/DenseKernels.md). The group size
/// depends on the geometry only, so results are deterministic for a given `threads` value.
public enum Conv2DKernels {
  /// Workspace budget (Floats) for one group of images: column matrix plus product.
  static let workspaceFloats = 128 << 10

  /// Images per group for `floatsPerImage` workspace Floats per image.
  static func groupSize(batch: Int, floatsPerImage: Int) -> Int {
    max(1, min(batch, workspaceFloats / max(1, floatsPerImage)))
  }

  /// `output = conv(input, weights) + bias` (see the type's documentation).
  ///
  /// - Parameters:
  ///   - batch: images B (for time-major tensors, T·B).
  ///   - weights: `[outChannels, C, kh, kw]`.
  ///   - bias: `[outChannels]`, or nil for none.
  ///   - output: `[B, outChannels, outH, outW]`, overwritten.
  public static func forward(
    _ geometry: ConvGeometry, batch: Int, input: UnsafePointer<Float>,
    weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outChannels: Int,
    output: UnsafeMutablePointer<Float>, threads: Int = Parallel.defaultThreads
  ) {
    precondition(batch >= 0 && outChannels > 0 && threads >= 1, "Conv2DKernels: bad arguments")
    let g = geometry
    let patch = g.patchSize, pixels = g.outputPixels, imageSize = g.inputSize
    let outSize = outChannels * pixels
    let group = groupSize(batch: batch, floatsPerImage: (patch + outChannels) * pixels)
    let productOffset = GEMM.roundUp(patch * group * pixels, to: 16)
    ScratchPool.withBuffer(floats: productOffset + outChannels * group * pixels) { workspace in
      let columns = workspace, product = workspace + productOffset
      var b0 = 0
      while b0 < batch {
        let images = min(group, batch - b0)
        let width = images * pixels
        Parallel.forEachChunk(count: images, chunks: threads) { _, range in
          for b in range {
            Im2Col.unfold(
              g, image: input + (b0 + b) * imageSize, columns: columns + b * pixels,
              rowStride: width)
          }
        }
        // One image: the product already has the output's layout.
        let target = images == 1 ? output + b0 * outSize : product
        GEMM.sgemm(
          transA: false, transB: false, m: outChannels, n: width, k: patch, a: weights,
          lda: patch, b: columns, ldb: width, c: target, ldc: width, threads: threads)
        Parallel.forEachChunk(count: images, chunks: images == 1 ? 1 : threads) { _, range in
          for b in range {
            let out = output + (b0 + b) * outSize
            for o in 0..<outChannels {
              let dst = out + o * pixels
              let value = bias?[o] ?? 0
              if images == 1 {
                if bias != nil { for p in 0..<pixels { dst[p] += value } }
              } else {
                let src = product + o * width + b * pixels
                for p in 0..<pixels { dst[p] = src[p] + value }
              }
            }
          }
        }
        b0 += images
      }
    }
  }

  /// `inputGradient = ∂L/∂x` from `outputGradient = ∂L/∂y`: the transposed convolution
  /// `fold(Wᵀ · ∂L/∂y)`.
  ///
  /// - Parameters:
  ///   - outputGradient: `[B, outChannels, outH, outW]`.
  ///   - inputGradient: `[B, C, H, W]`, overwritten.
  public static func backwardData(
    _ geometry: ConvGeometry, batch: Int, outputGradient: UnsafePointer<Float>,
    weights: UnsafePointer<Float>, outChannels: Int, inputGradient: UnsafeMutablePointer<Float>,
    threads: Int = Parallel.defaultThreads
  ) {
    precondition(batch >= 0 && outChannels > 0 && threads >= 1, "Conv2DKernels: bad arguments")
    let g = geometry
    let patch = g.patchSize, pixels = g.outputPixels, imageSize = g.inputSize
    let outSize = outChannels * pixels
    let group = groupSize(batch: batch, floatsPerImage: (patch + outChannels) * pixels)
    let gradientOffset = GEMM.roundUp(patch * group * pixels, to: 16)
    ScratchPool.withBuffer(floats: gradientOffset + outChannels * group * pixels) { workspace in
      let columns = workspace, gathered = workspace + gradientOffset
      var b0 = 0
      while b0 < batch {
        let images = min(group, batch - b0)
        let width = images * pixels
        let dy: UnsafePointer<Float>
        if images == 1 {
          dy = outputGradient + b0 * outSize
        } else {
          gatherChannels(
            outputGradient + b0 * outSize, images: images, channels: outChannels, pixels: pixels,
            into: gathered, threads: threads)
          dy = UnsafePointer(gathered)
        }
        GEMM.sgemm(
          transA: true, transB: false, m: patch, n: width, k: outChannels, a: weights,
          lda: patch, b: dy, ldb: width, c: columns, ldc: width, threads: threads)
        Parallel.forEachChunk(count: images, chunks: threads) { _, range in
          for b in range {
            let image = inputGradient + (b0 + b) * imageSize
            image.update(repeating: 0, count: imageSize)
            Im2Col.foldAdding(g, columns: columns + b * pixels, rowStride: width, image: image)
          }
        }
        b0 += images
      }
    }
  }

  /// `weightGradient += ∂L/∂W` and `biasGradient += ∂L/∂bias` for a batch:
  /// `∂L/∂W = Σ_b ∂L/∂y_b · unfold(x_b)ᵀ`, `∂L/∂bias[o] = Σ_{b, pixels} ∂L/∂y[b, o]`.
  ///
  /// - Parameters:
  ///   - weightGradient: `[outChannels, C, kh, kw]`, accumulated into.
  ///   - biasGradient: `[outChannels]`, accumulated into; nil to skip.
  public static func backwardWeights(
    _ geometry: ConvGeometry, batch: Int, input: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, outChannels: Int,
    weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?,
    threads: Int = Parallel.defaultThreads
  ) {
    precondition(batch >= 0 && outChannels > 0 && threads >= 1, "Conv2DKernels: bad arguments")
    let g = geometry
    let patch = g.patchSize, pixels = g.outputPixels, imageSize = g.inputSize
    let outSize = outChannels * pixels
    let group = groupSize(batch: batch, floatsPerImage: (patch + outChannels) * pixels)
    let gradientOffset = GEMM.roundUp(patch * group * pixels, to: 16)
    ScratchPool.withBuffer(floats: gradientOffset + outChannels * group * pixels) { workspace in
      let columns = workspace, gathered = workspace + gradientOffset
      var b0 = 0
      while b0 < batch {
        let images = min(group, batch - b0)
        let width = images * pixels
        Parallel.forEachChunk(count: images, chunks: threads) { _, range in
          for b in range {
            Im2Col.unfold(
              g, image: input + (b0 + b) * imageSize, columns: columns + b * pixels,
              rowStride: width)
          }
        }
        let dy: UnsafePointer<Float>
        if images == 1 {
          dy = outputGradient + b0 * outSize
        } else {
          gatherChannels(
            outputGradient + b0 * outSize, images: images, channels: outChannels, pixels: pixels,
            into: gathered, threads: threads)
          dy = UnsafePointer(gathered)
        }
        GEMM.sgemm(
          transA: false, transB: true, m: outChannels, n: patch, k: width, a: dy, lda: width,
          b: columns, ldb: width, beta: 1, c: weightGradient, ldc: patch, threads: threads)
        if let biasGradient {
          for o in 0..<outChannels {
            biasGradient[o] += sum(dy + o * width, count: width)
          }
        }
        b0 += images
      }
    }
  }

  /// Rearranges `[images, channels, pixels]` into `[channels, images·pixels]`.
  static func gatherChannels(
    _ source: UnsafePointer<Float>, images: Int, channels: Int, pixels: Int,
    into destination: UnsafeMutablePointer<Float>, threads: Int
  ) {
    let width = images * pixels
    Parallel.forEachChunk(count: images, chunks: threads) { _, range in
      for b in range {
        for o in 0..<channels {
          (destination + o * width + b * pixels).update(
            from: source + (b * channels + o) * pixels, count: pixels)
        }
      }
    }
  }

  /// The sum of `count` values in a fixed order (eight interleaved partial sums).
  static func sum(_ values: UnsafePointer<Float>, count: Int) -> Float {
    var partial = SIMD8<Float>()
    var i = 0
    while i + 8 <= count {
      partial += UnsafeRawPointer(values + i).loadUnaligned(as: SIMD8<Float>.self)
      i += 8
    }
    var total = partial.sum()
    while i < count {
      total += values[i]
      i += 1
    }
    return total
  }
}
