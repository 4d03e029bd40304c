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

  /// How a batch is cut into groups of images and spread over threads.
  ///
  /// When there are at least as many groups as threads, each thread takes a contiguous run
  /// of groups and works on them alone (one Dispatch round per call; measured: splitting
  /// each small group's im2col and GEMM across threads instead cost more in synchronization
  /// than it saved). Otherwise the groups run one after another with the threads inside.
  struct Schedule {
    let group: Int, groupCount: Int
    /// Threads over groups, and threads inside each group's kernels.
    let outer: Int, inner: Int

    init(batch: Int, floatsPerImage: Int, threads: Int) {
      group = Conv2DKernels.groupSize(batch: batch, floatsPerImage: floatsPerImage)
      groupCount = (batch + group - 1) / group
      outer = groupCount >= threads ? threads : 1
      inner = outer == 1 ? threads : 1
    }

    /// Runs `body(chunk, images)` for each group, `images` being its image range.
    func run(batch: Int, _ body: (_ chunk: Int, _ images: Range<Int>) -> Void) {
      Parallel.forEachChunk(count: groupCount, chunks: outer) { chunk, groups in
        for index in groups {
          let start = index * group
          body(chunk, start..<min(batch, start + group))
        }
      }
    }
  }

  /// `output = conv(input, weights) + bias` (see the type's documentation).
  ///
  /// Every output element is one GEMM dot product over C·kh·kw in a fixed order, so the
  /// result does not depend on `threads`.
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
    guard batch > 0 else { return }
    if supportsImplicit(geometry) {
      forwardImplicit(
        geometry, batch: batch, input: input, weights: weights, bias: bias,
        outChannels: outChannels, output: output, threads: threads)
    } else {
      forwardColumns(
        geometry, batch: batch, input: input, weights: weights, bias: bias,
        outChannels: outChannels, output: output, threads: threads)
    }
  }

  /// `forward` through an explicit column matrix (any geometry).
  static func forwardColumns(
    _ geometry: ConvGeometry, batch: Int, input: UnsafePointer<Float>,
    weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outChannels: Int,
    output: UnsafeMutablePointer<Float>, threads: Int
  ) {
    let g = geometry
    let patch = g.patchSize, pixels = g.outputPixels
    let outSize = outChannels * pixels
    let schedule = Schedule(
      batch: batch, floatsPerImage: (patch + outChannels) * pixels, threads: threads)
    let productOffset = GEMM.roundUp(patch * schedule.group * pixels, to: 16)
    let workspaceFloats = productOffset + outChannels * schedule.group * pixels
    let inner = schedule.inner
    schedule.run(batch: batch) { _, images in
      ScratchPool.withBuffer(floats: workspaceFloats) { workspace in
        let columns = workspace, product = workspace + productOffset
        let b0 = images.lowerBound, count = images.count
        let width = count * pixels
        unfoldImages(g, input: input, images: images, columns: columns, threads: inner)
        // One image: the product already has the output's layout.
        let target = count == 1 ? output + b0 * outSize : product
        GEMM.sgemm(
          transA: false, transB: false, m: outChannels, n: width, k: patch, a: weights,
          lda: patch, b: columns, ldb: width, c: target, ldc: width, threads: inner)
        Parallel.forEachChunk(count: count, chunks: count == 1 ? 1 : inner) { _, range in
          for b in range {
            let out = output + (b0 + b) * outSize
            for o in 0..<outChannels {
              let dst = out + o * pixels
              let value = bias?[o] ?? 0
              if count == 1 {
                if bias != nil { for p in 0..<pixels { dst[p] += value } }
              } else {
                let src = product + o * width + b * pixels
                for p in 0..<pixels { dst[p] = src[p] + value }
              }
            }
          }
        }
      }
    }
  }

  /// `inputGradient = ∂L/∂x` from `outputGradient = ∂L/∂y`: the transposed convolution
  /// `fold(Wᵀ · ∂L/∂y)`. The result does not depend on `threads`.
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
    guard batch > 0 else { return }
    if supportsImplicit(geometry) {
      backwardDataImplicit(
        geometry, batch: batch, outputGradient: outputGradient, weights: weights,
        outChannels: outChannels, inputGradient: inputGradient, threads: threads)
    } else {
      backwardDataColumns(
        geometry, batch: batch, outputGradient: outputGradient, weights: weights,
        outChannels: outChannels, inputGradient: inputGradient, threads: threads)
    }
  }

  /// `backwardData` through an explicit column-gradient matrix (any geometry).
  static func backwardDataColumns(
    _ geometry: ConvGeometry, batch: Int, outputGradient: UnsafePointer<Float>,
    weights: UnsafePointer<Float>, outChannels: Int, inputGradient: UnsafeMutablePointer<Float>,
    threads: Int
  ) {
    let g = geometry
    let patch = g.patchSize, pixels = g.outputPixels, imageSize = g.inputSize
    let outSize = outChannels * pixels
    let schedule = Schedule(
      batch: batch, floatsPerImage: (patch + outChannels) * pixels, threads: threads)
    let gradientOffset = GEMM.roundUp(patch * schedule.group * pixels, to: 16)
    let workspaceFloats = gradientOffset + outChannels * schedule.group * pixels
    let inner = schedule.inner
    schedule.run(batch: batch) { _, images in
      ScratchPool.withBuffer(floats: workspaceFloats) { workspace in
        let columns = workspace, gathered = workspace + gradientOffset
        let b0 = images.lowerBound, count = images.count
        let width = count * pixels
        let dy: UnsafePointer<Float>
        if count == 1 {
          dy = outputGradient + b0 * outSize
        } else {
          gatherChannels(
            outputGradient + b0 * outSize, images: count, channels: outChannels, pixels: pixels,
            into: gathered, threads: inner)
          dy = UnsafePointer(gathered)
        }
        GEMM.sgemm(
          transA: true, transB: false, m: patch, n: width, k: outChannels, a: weights,
          lda: patch, b: dy, ldb: width, c: columns, ldc: width, threads: inner)
        Parallel.forEachChunk(count: count, chunks: inner) { _, range in
          for b in range {
            let image = inputGradient + (b0 + b) * imageSize
            image.update(repeating: 0, count: imageSize)
            Im2Col.foldAdding(g, columns: columns + b * pixels, rowStride: width, image: image)
          }
        }
      }
    }
  }

  /// `weightGradient += ∂L/∂W` and `biasGradient += ∂L/∂bias` for a batch:
  /// `∂L/∂W = Σ_b ∂L/∂y_b · unfold(x_b)ᵀ`, `∂L/∂bias[o] = Σ_{b, pixels} ∂L/∂y[b, o]`.
  ///
  /// With several threads over groups of images, each thread sums its groups into a private
  /// gradient, and the private gradients are added in thread order at the end: results are
  /// reproducible for a given `threads` value (not across thread counts).
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
    guard batch > 0 else { return }
    if supportsImplicit(geometry) {
      backwardWeightsImplicit(
        geometry, batch: batch, input: input, outputGradient: outputGradient,
        outChannels: outChannels, weightGradient: weightGradient, biasGradient: biasGradient,
        threads: threads)
    } else {
      backwardWeightsColumns(
        geometry, batch: batch, input: input, outputGradient: outputGradient,
        outChannels: outChannels, weightGradient: weightGradient, biasGradient: biasGradient,
        threads: threads)
    }
  }

  /// `backwardWeights` through an explicit column matrix (any geometry).
  static func backwardWeightsColumns(
    _ geometry: ConvGeometry, batch: Int, input: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, outChannels: Int,
    weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?,
    threads: Int
  ) {
    let g = geometry
    let patch = g.patchSize, pixels = g.outputPixels
    let outSize = outChannels * pixels
    let schedule = Schedule(
      batch: batch, floatsPerImage: (patch + outChannels) * pixels, threads: threads)
    let gradientOffset = GEMM.roundUp(patch * schedule.group * pixels, to: 16)
    let workspaceFloats = gradientOffset + outChannels * schedule.group * pixels
    let inner = schedule.inner
    // Private sums per thread (weights, then bias), only with threads over groups.
    let partialFloats = GEMM.roundUp(outChannels * patch + outChannels, to: 16)
    let partialCount = schedule.outer > 1 ? schedule.outer : 0
    ScratchPool.withBuffer(floats: max(1, partialCount * partialFloats)) { partials in
      partials.update(repeating: 0, count: partialCount * partialFloats)
      schedule.run(batch: batch) { chunk, images in
        let dW = partialCount > 0 ? partials + chunk * partialFloats : weightGradient
        let dBias: UnsafeMutablePointer<Float>? =
          partialCount > 0 ? dW + outChannels * patch : biasGradient
        ScratchPool.withBuffer(floats: workspaceFloats) { workspace in
          let columns = workspace, gathered = workspace + gradientOffset
          let b0 = images.lowerBound, count = images.count
          let width = count * pixels
          unfoldImages(g, input: input, images: images, columns: columns, threads: inner)
          let dy: UnsafePointer<Float>
          if count == 1 {
            dy = outputGradient + b0 * outSize
          } else {
            gatherChannels(
              outputGradient + b0 * outSize, images: count, channels: outChannels,
              pixels: pixels, into: gathered, threads: inner)
            dy = UnsafePointer(gathered)
          }
          GEMM.sgemm(
            transA: false, transB: true, m: outChannels, n: patch, k: width, a: dy, lda: width,
            b: columns, ldb: width, beta: 1, c: dW, ldc: patch, threads: inner)
          if let dBias {
            for o in 0..<outChannels { dBias[o] += sum(dy + o * width, count: width) }
          }
        }
      }
      for chunk in 0..<partialCount {
        let partial = partials + chunk * partialFloats
        for i in 0..<(outChannels * patch) { weightGradient[i] += partial[i] }
        if let biasGradient {
          for o in 0..<outChannels { biasGradient[o] += partial[outChannels * patch + o] }
        }
      }
    }
  }

  /// Unfolds `images` of the batch side by side into `columns` (row stride
  /// `images.count · outputPixels`).
  static func unfoldImages(
    _ g: ConvGeometry, input: UnsafePointer<Float>, images: Range<Int>,
    columns: UnsafeMutablePointer<Float>, threads: Int
  ) {
    let width = images.count * g.outputPixels
    Parallel.forEachChunk(count: images.count, chunks: threads) { _, range in
      for b in range {
        Im2Col.unfold(
          g, image: input + (images.lowerBound + b) * g.inputSize,
          columns: columns + b * g.outputPixels, rowStride: width)
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
