import SNNBase

/// 2-D convolution (cross-correlation) with zero padding, via im2col and GEMM.
///
/// Input `[T, B, C_in, H, W]` (channels-first), output `[T, B, C_out, H_out, W_out]` with
/// H_out = ⌊(H + 2p − k)/s⌋ + 1. Each of the T·B images is unfolded to its column matrix
/// X_col `[C_in·k·k, H_out·W_out]` and multiplied: Y = W·X_col + b, with the weight
/// `[C_out, C_in, k, k]` viewed as `[C_out, C_in·k·k]`. Fan-in is C_in·k², fan-out C_out·k².
///
/// Backward per image: ∂L/∂W += G·X_colᵀ, ∂L/∂b += Σ_pixels G, ∂L/∂x = fold(Wᵀ·G). Images
/// are split over threads in fixed contiguous chunks; each chunk accumulates its own weight
/// gradient, and the chunks are added in chunk order, so results are deterministic for a
/// given thread count. Columns are recomputed in backward rather than stored.
///
/// ``forwardStatic(_:steps:)`` convolves a time-constant input `[B, C, H, W]` once and
/// broadcasts over T; its backward sums the output gradient over time first (the same
/// mathematics, 1/T of the weight-gradient work).
public final class Conv2d: DenseLayer {
  public let name: String
  public let inChannels: Int
  public let outChannels: Int
  public let kernelSize: Int
  public let stride: Int
  public let padding: Int
  /// `[C_out, C_in, k, k]`.
  public let weight: Parameter
  /// `[C_out]`, or nil.
  public let bias: Parameter?
  public var isTraining = true
  /// When false, `backward` skips ∂L/∂x and returns an empty tensor.
  public var computesInputGradient = true
  /// Threads for the image loop (defaults to `Parallel.defaultThreads` at init).
  public var threads: Int

  var input = Tensor(shape: [0])
  var output = Tensor(shape: [0])
  var gradInput = Tensor(shape: [0])
  var gradSum = Tensor(shape: [0])
  var staticSteps: Int? = nil
  var geometry: ConvGeometry? = nil
  let columnScratch = ChunkedScratch()
  let gradColumnScratch = ChunkedScratch()
  let weightGradScratch = ChunkedScratch()

  public init(
    name: String = "conv", inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1,
    padding: Int = 0, initializer: Initializer = .pytorchDefault,
    biasInitializer: Initializer? = .pytorchDefault,
    threads: Int = Parallel.defaultThreads,
    using generator: inout some RandomNumberGenerator
  ) {
    precondition(inChannels > 0 && outChannels > 0, "Conv2d needs positive channel counts")
    precondition(kernelSize > 0 && stride > 0 && padding >= 0, "Conv2d: bad kernel geometry")
    self.name = name
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.kernelSize = kernelSize
    self.stride = stride
    self.padding = padding
    self.threads = max(1, threads)
    let fanIn = inChannels * kernelSize * kernelSize
    let fanOut = outChannels * kernelSize * kernelSize
    weight = Parameter(
      name: name + ".weight", role: .weight,
      value: initializer.make(
        shape: [outChannels, inChannels, kernelSize, kernelSize], fanIn: fanIn, fanOut: fanOut,
        using: &generator))
    bias = biasInitializer.map {
      Parameter(
        name: name + ".bias", role: .bias,
        value: $0.make(shape: [outChannels], fanIn: fanIn, fanOut: fanOut, using: &generator))
    }
  }

  public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

  /// The output shape `[C_out, H_out, W_out]` for an image of `[C_in, H, W]`.
  public func outputShape(height: Int, width: Int) -> [Int] {
    let g = ConvGeometry(
      inChannels: inChannels, height: height, width: width, kernelHeight: kernelSize,
      kernelWidth: kernelSize, stride: stride, padding: padding)
    return [outChannels, g.outHeight, g.outWidth]
  }

  /// Convolves every image of `[T, B, C_in, H, W]` (or any `[…, C_in, H, W]`).
  public func forward(_ input: Tensor) -> Tensor {
    precondition(
      input.rank >= 3 && input.shape[input.rank - 3] == inChannels,
      "\(name): expected input [..., \(inChannels), H, W], got \(input.shape)")
    staticSteps = nil
    self.input = input
    let lead = Array(input.shape.dropLast(3))
    convolve(lead: lead)
    return output
  }

  /// Static-input forward: `input` is `[B, C_in, H, W]`, constant over `steps` steps; the
  /// result `[steps, B, C_out, H_out, W_out]` is computed once and repeated.
  public func forwardStatic(_ input: Tensor, steps: Int) -> Tensor {
    precondition(
      input.rank == 4 && input.shape[1] == inChannels,
      "\(name): expected static input [B, \(inChannels), H, W], got \(input.shape)")
    precondition(steps > 0, "\(name): steps must be positive")
    self.input = input
    convolve(lead: [input.shape[0]])
    let once = output
    output.prepare(shape: [steps] + once.shape)
    let n = once.count
    once.withUnsafeBufferPointer { src in
      output.withUnsafeMutableBufferPointer { dst in
        for t in 0..<steps { (dst.baseAddress! + t * n).update(from: src.baseAddress!, count: n) }
      }
    }
    staticSteps = steps
    return output
  }

  private func prepareGeometry() -> ConvGeometry {
    let h = input.shape[input.rank - 2], w = input.shape[input.rank - 1]
    let g = ConvGeometry(
      inChannels: inChannels, height: h, width: w, kernelHeight: kernelSize,
      kernelWidth: kernelSize, stride: stride, padding: padding)
    precondition(g.outHeight > 0 && g.outWidth > 0, "\(name): kernel larger than padded input")
    geometry = g
    return g
  }

  private func convolve(lead: [Int]) {
    let g = prepareGeometry()
    let images = lead.reduce(1, *)
    let inSize = inChannels * g.height * g.width
    let pixels = g.outputPixels, patch = g.patchSize, cOut = outChannels
    output.prepare(shape: lead + [cOut, g.outHeight, g.outWidth])
    let chunks = max(1, min(threads, images))
    columnScratch.reserve(chunks: chunks, size: patch * pixels)
    let columns = columnScratch
    input.withUnsafeBufferPointer { x in
      weight.value.withUnsafeBufferPointer { w in
        let bPtr = bias?.value.scalars
        output.withUnsafeMutableBufferPointer { y in
          let xb = UncheckedSendable(x.baseAddress!), wb = UncheckedSendable(w.baseAddress!)
          let yb = UncheckedSendable(y.baseAddress!)
          Parallel.forEachChunk(count: images, chunks: chunks) { chunk, range in
            let cols = columns.region(chunk)
            for img in range {
              Im2Col.unfold(g, image: xb.value + img * inSize, columns: cols)
              let out = yb.value + img * cOut * pixels
              GEMM.sgemm(
                transA: false, transB: false, m: cOut, n: pixels, k: patch, a: wb.value,
                lda: patch, b: cols, ldb: pixels, beta: 0, c: out, ldc: pixels, threads: 1)
              if let bPtr {
                for c in 0..<cOut {
                  let bv = bPtr[c], row = out + c * pixels
                  for p in 0..<pixels { row[p] += bv }
                }
              }
            }
          }
        }
      }
    }
  }

  /// Accumulates ∂L/∂W and ∂L/∂b and returns ∂L/∂x (shaped like the forward input).
  /// Backward consumes the forward's cache (one backward per forward).
  public func backward(_ gradOutput: Tensor) -> Tensor {
    guard let g = geometry, input.count > 0 else {
      preconditionFailure("\(name): backward without a forward")
    }
    var gy = gradOutput
    if let steps = staticSteps {
      precondition(
        gradOutput.shape == [steps] + output.shape.dropFirst(),
        "\(name): expected gradient \([steps] + output.shape.dropFirst()), got \(gradOutput.shape)")
      let n = gradOutput.elementsPerStep
      gradSum.prepare(shape: Array(gradOutput.shape.dropFirst()))
      gradOutput.withUnsafeBufferPointer { src in
        gradSum.withUnsafeMutableBufferPointer { dst in
          RowOps.sumOverTime(src.baseAddress!, steps: steps, count: n, into: dst.baseAddress!)
        }
      }
      gy = gradSum
    } else {
      precondition(
        gradOutput.shape == output.shape,
        "\(name): expected gradient \(output.shape), got \(gradOutput.shape)")
    }
    let inSize = inChannels * g.height * g.width
    let pixels = g.outputPixels, patch = g.patchSize, cOut = outChannels
    let images = input.count / inSize
    let chunks = max(1, min(threads, images))
    let wantInput = computesInputGradient
    columnScratch.reserve(chunks: chunks, size: patch * pixels)
    gradColumnScratch.reserve(chunks: chunks, size: wantInput ? patch * pixels : 1)
    weightGradScratch.reserve(chunks: chunks, size: cOut * patch + cOut)
    let colScratch = columnScratch, gcolScratch = gradColumnScratch
    let gwScratch = weightGradScratch
    if wantInput {
      gradInput.prepare(shape: input.shape)
      gradInput.fill(0)
    }
    let hasBias = bias != nil
    input.withUnsafeBufferPointer { x in
      weight.value.withUnsafeBufferPointer { w in
        gy.withUnsafeBufferPointer { gyb in
          gradInput.withUnsafeMutableBufferPointer { gx in
            let xb = UncheckedSendable(x.baseAddress!), wb = UncheckedSendable(w.baseAddress!)
            let gb = UncheckedSendable(gyb.baseAddress!), gxb = UncheckedSendable(gx.baseAddress)
            Parallel.forEachChunk(count: images, chunks: chunks) { chunk, range in
              let cols = colScratch.region(chunk), gcols = gcolScratch.region(chunk)
              let gw = gwScratch.region(chunk)
              gw.update(repeating: 0, count: cOut * patch + cOut)
              for img in range {
                let gOut = gb.value + img * cOut * pixels
                Im2Col.unfold(g, image: xb.value + img * inSize, columns: cols)
                GEMM.sgemm(
                  transA: false, transB: true, m: cOut, n: patch, k: pixels, a: gOut,
                  lda: pixels, b: cols, ldb: pixels, beta: 1, c: gw, ldc: patch, threads: 1)
                if hasBias {
                  for c in 0..<cOut {
                    let row = gOut + c * pixels
                    var s: Float = 0
                    for p in 0..<pixels { s += row[p] }
                    gw[cOut * patch + c] += s
                  }
                }
                if wantInput, let gxp = gxb.value {
                  GEMM.sgemm(
                    transA: true, transB: false, m: patch, n: pixels, k: cOut, a: wb.value,
                    lda: patch, b: gOut, ldb: pixels, beta: 0, c: gcols, ldc: pixels, threads: 1)
                  Im2Col.foldAdding(g, columns: gcols, image: gxp + img * inSize)
                }
              }
            }
          }
        }
      }
    }
    weight.gradient.withUnsafeMutableBufferPointer { dw in
      for chunk in 0..<chunks {
        let part = gwScratch.region(chunk)
        for i in 0..<(cOut * patch) { dw[i] += part[i] }
      }
    }
    if let bias {
      bias.gradient.withUnsafeMutableBufferPointer { db in
        for chunk in 0..<chunks {
          let part = gwScratch.region(chunk) + cOut * patch
          for c in 0..<cOut { db[c] += part[c] }
        }
      }
    }
    input = Tensor(shape: [0])  // release the cache so its owner can reuse it
    return wantInput ? gradInput : Tensor(shape: [0])
  }
}

extension Conv2d {
  /// Replaces the input cached by the last forward with `input` (same shape), so that the
  /// next ``backward(_:)`` forms ∂L/∂W from `input` instead; ∂L/∂b and ∂L/∂x do not depend
  /// on the input and are unchanged. Online methods (OTTT, NDOT) use it to take the weight
  /// gradient against presynaptic traces, ∂L/∂W = δ ⋆ â.
  public func replaceCachedInput(_ input: Tensor) {
    precondition(
      input.shape == self.input.shape,
      "\(name): replacement input \(input.shape), expected \(self.input.shape)")
    self.input = input
  }

  /// Drops the input cached by the last forward, for a forward pass that no backward pass
  /// follows (a graph-free spike pass): the caller may then overwrite the input's buffer in
  /// place without a copy. The next backward needs a new forward first.
  public func releaseCachedInput() { input = Tensor(shape: [0]) }
}
