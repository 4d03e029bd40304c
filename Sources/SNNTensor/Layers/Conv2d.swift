import SNNBase

/// 2-D convolution (cross-correlation) with zero padding, via the batched `Conv2DKernels`
/// (im2col of groups of images side by side + one GEMM per group).
///
/// Input `[T, B, C_in, H, W]` (channels-first), output `[T, B, C_out, H_out, W_out]` with
/// H_out = ⌊(H + 2p − k)/s⌋ + 1: Y = W·X_col + b per image, with the weight
/// `[C_out, C_in, k, k]` viewed as `[C_out, C_in·k·k]`. Fan-in is C_in·k², fan-out C_out·k².
/// Backward: ∂L/∂W += G·X_colᵀ, ∂L/∂b += Σ_pixels G, ∂L/∂x = fold(Wᵀ·G); columns are
/// recomputed in backward rather than stored. Results are deterministic for a given thread
/// count (see `Conv2DKernels`).
///
/// **Spike input.** With ``Linear/SpikeInputPolicy/automatic`` every forward measures
/// whether the input is exactly binary and its density; below
/// `Conv2DKernels.spikeCrossoverDensity` the forward and the weight gradient use the
/// event-driven kernels (`forwardSpikes`, `backwardWeightsSpikes`), which visit only the
/// active inputs. The input gradient is always the dense transposed convolution.
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
  /// Threads for the kernels (defaults to `Parallel.defaultThreads` at init).
  public var threads: Int
  public var spikeInputPolicy: Linear.SpikeInputPolicy = .automatic
  /// The binary density of the last input, or nil when it was not binary or not measured.
  public private(set) var lastInputDensity: Double?
  /// Whether the last forward (and hence the next backward) used the spike kernels.
  public private(set) var usedSpikeKernel = false

  var input = Tensor(shape: [0])
  var output = Tensor(shape: [0])
  var gradInput = Tensor(shape: [0])
  var gradSum = Tensor(shape: [0])
  var staticSteps: Int? = nil
  var geometry: ConvGeometry? = nil

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
    output.prepare(shape: lead + [outChannels, g.outHeight, g.outWidth])
    lastInputDensity = nil
    usedSpikeKernel = false
    guard images > 0 else { return }
    if spikeInputPolicy == .automatic {
      lastInputDensity = input.withUnsafeBufferPointer {
        RowOps.binaryDensity($0.baseAddress!, count: $0.count)
      }
      if let d = lastInputDensity, d < Conv2DKernels.spikeCrossoverDensity {
        usedSpikeKernel = true
      }
    }
    let spikes = usedSpikeKernel
    input.withUnsafeBufferPointer { x in
      weight.value.withUnsafeBufferPointer { w in
        output.withUnsafeMutableBufferPointer { y in
          let b = bias?.value
          b.withOptionalBuffer { bp in
            if spikes {
              Conv2DKernels.forwardSpikes(
                g, batch: images, input: x.baseAddress!, weights: w.baseAddress!, bias: bp,
                outChannels: outChannels, output: y.baseAddress!, threads: threads)
            } else {
              Conv2DKernels.forward(
                g, batch: images, input: x.baseAddress!, weights: w.baseAddress!, bias: bp,
                outChannels: outChannels, output: y.baseAddress!, threads: threads)
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
    let images = input.count / g.inputSize
    let wantInput = computesInputGradient
    let spikes = usedSpikeKernel
    input.withUnsafeBufferPointer { x in
      gy.withUnsafeBufferPointer { gyb in
        weight.gradient.withUnsafeMutableBufferPointer { dw in
          if let bias {
            bias.gradient.withUnsafeMutableBufferPointer { db in
              weightGradient(
                g, images, x.baseAddress!, gyb.baseAddress!, dw.baseAddress!,
                db.baseAddress!, spikes)
            }
          } else {
            weightGradient(
              g, images, x.baseAddress!, gyb.baseAddress!, dw.baseAddress!, nil, spikes)
          }
        }
      }
    }
    if wantInput {
      gradInput.prepare(shape: input.shape)
      weight.value.withUnsafeBufferPointer { w in
        gy.withUnsafeBufferPointer { gyb in
          gradInput.withUnsafeMutableBufferPointer { gx in
            Conv2DKernels.backwardData(
              g, batch: images, outputGradient: gyb.baseAddress!, weights: w.baseAddress!,
              outChannels: outChannels, inputGradient: gx.baseAddress!, threads: threads)
          }
        }
      }
    }
    input = Tensor(shape: [0])  // release the cache so its owner can reuse it
    return wantInput ? gradInput : Tensor(shape: [0])
  }

  private func weightGradient(
    _ g: ConvGeometry, _ images: Int, _ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>,
    _ dw: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>?, _ spikes: Bool
  ) {
    if spikes {
      Conv2DKernels.backwardWeightsSpikes(
        g, batch: images, input: x, outputGradient: gy, outChannels: outChannels,
        weightGradient: dw, biasGradient: db, threads: threads)
    } else {
      Conv2DKernels.backwardWeights(
        g, batch: images, input: x, outputGradient: gy, outChannels: outChannels,
        weightGradient: dw, biasGradient: db, threads: threads)
    }
  }
}

extension Optional where Wrapped == Tensor {
  /// Runs `body` with the tensor's buffer base address, or nil.
  fileprivate func withOptionalBuffer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
    switch self {
    case .some(let t): return t.withUnsafeBufferPointer { body($0.baseAddress) }
    case .none: return body(nil)
    }
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
