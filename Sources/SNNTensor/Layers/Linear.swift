import SNNBase

/// A fully connected layer applied to every row: y = x·W + b.
///
/// Input `[…, inFeatures]` (usually `[T, B, N_in]`, all T·B rows in one GEMM), output
/// `[…, outFeatures]`. By default the weight is stored `[inFeatures, outFeatures]` (one row
/// per input unit, as `SpikeGEMM` expects); with ``WeightLayout/outputMajor`` it is
/// `[outFeatures, inFeatures]` (PyTorch's and `ModelSpec`'s layout, y = x·Wᵀ + b), which is
/// how `DenseModel` binds the weights of a `ParameterStore`. Fan-in is `inFeatures`.
///
/// Two optimizations keep the mathematics identical (up to float summation order):
/// - **Static input** (``forwardStatic(_:steps:)``): an image injected as the same current
///   at every step is multiplied once per sample, and the result broadcast over T. The
///   backward pass sums ∂L/∂y over time first, so the weight gradient costs one GEMM
///   instead of T: Σ_t xᵀ·g[t] = xᵀ·Σ_t g[t].
/// - **Spike input**: with ``SpikeInputPolicy/automatic``, every forward measures whether
///   the input is binary and its density; below `SpikeGEMM.crossoverDensity` the forward
///   product and the weight gradient use the event-driven `SpikeGEMM` kernels (adding only
///   the weight rows of active inputs) instead of `GEMM.sgemm`.
public final class Linear: DenseLayer {
  /// How the layer chooses between the dense and the spike kernels.
  public enum SpikeInputPolicy: Sendable, Hashable {
    /// Always `GEMM.sgemm`.
    case dense
    /// `SpikeGEMM` when the input is exactly binary and its density is below
    /// `SpikeGEMM.crossoverDensity` (measured on every call).
    case automatic
  }

  /// How the weight matrix is laid out in memory.
  public enum WeightLayout: Sendable, Hashable {
    /// `[inFeatures, outFeatures]`: y = x·W + b.
    case inputMajor
    /// `[outFeatures, inFeatures]`: y = x·Wᵀ + b (PyTorch, `ModelSpec`). The spike kernels
    /// work on a transposed copy made per call (O(in·out), small against the product).
    case outputMajor
  }

  public let name: String
  public let inFeatures: Int
  public let outFeatures: Int
  /// `[inFeatures, outFeatures]`, or `[outFeatures, inFeatures]` with
  /// ``WeightLayout/outputMajor``.
  public let weight: Parameter
  public let weightLayout: WeightLayout
  /// `[outFeatures]`, or nil.
  public let bias: Parameter?
  public var isTraining = true
  /// When false, `backward` skips ∂L/∂x (the first layer needs no input gradient) and
  /// returns an empty tensor.
  public var computesInputGradient = true
  public var spikeInputPolicy: SpikeInputPolicy = .automatic
  /// The binary density of the last input, or nil when it was not binary or not measured.
  public private(set) var lastInputDensity: Double?
  /// Whether the last forward (and hence the next backward) used the spike kernels.
  public private(set) var usedSpikeKernel = false

  var input = Tensor(shape: [0])
  var output = Tensor(shape: [0])
  var gradInput = Tensor(shape: [0])
  var gradSum = Tensor(shape: [0])
  var staticSteps: Int? = nil
  /// `[inFeatures, outFeatures]` scratch for the spike kernels with the output-major layout.
  var transposedWeight = Tensor(shape: [0])

  /// - Parameters:
  ///   - initializer: for the weight, with fan-in = `inFeatures`, fan-out = `outFeatures`.
  ///   - biasInitializer: PyTorch uses U(−1/√fanIn, 1/√fanIn); nil for no bias.
  public init(
    name: String = "linear", inFeatures: Int, outFeatures: Int,
    initializer: Initializer = .pytorchDefault,
    biasInitializer: Initializer? = .pytorchDefault, weightLayout: WeightLayout = .inputMajor,
    using generator: inout some RandomNumberGenerator
  ) {
    precondition(inFeatures > 0 && outFeatures > 0, "Linear needs positive feature counts")
    self.name = name
    self.inFeatures = inFeatures
    self.outFeatures = outFeatures
    self.weightLayout = weightLayout
    let shape =
      weightLayout == .inputMajor ? [inFeatures, outFeatures] : [outFeatures, inFeatures]
    weight = Parameter(
      name: name + ".weight", role: .weight,
      value: initializer.make(
        shape: shape, fanIn: inFeatures, fanOut: outFeatures, using: &generator))
    bias = biasInitializer.map {
      Parameter(
        name: name + ".bias", role: .bias,
        value: $0.make(
          shape: [outFeatures], fanIn: inFeatures, fanOut: outFeatures, using: &generator))
    }
  }

  public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

  /// y = x·W + b for every row of `input` (`[…, inFeatures]`).
  public func forward(_ input: Tensor) -> Tensor {
    precondition(
      input.rank >= 1 && input.shape.last == inFeatures,
      "\(name): expected input [..., \(inFeatures)], got \(input.shape)")
    self.input = input
    staticSteps = nil
    let rows = input.count / inFeatures
    output.prepare(shape: Array(input.shape.dropLast()) + [outFeatures])
    multiply(rows: rows)
    return output
  }

  /// Static-input forward: `input` is `[B, inFeatures]`, constant over `steps` steps. Computes
  /// y₀ = x·W + b once and returns it repeated over time, `[steps, B, outFeatures]`.
  /// The next ``backward(_:)`` then sums ∂L/∂y over time before its GEMMs.
  public func forwardStatic(_ input: Tensor, steps: Int) -> Tensor {
    precondition(
      input.rank == 2 && input.shape[1] == inFeatures,
      "\(name): expected static input [B, \(inFeatures)], got \(input.shape)")
    precondition(steps > 0, "\(name): steps must be positive")
    self.input = input
    staticSteps = steps
    let rows = input.shape[0]
    output.prepare(shape: [rows, outFeatures])
    multiply(rows: rows)
    let once = output
    output.prepare(shape: [steps, rows, outFeatures])
    let n = once.count
    once.withUnsafeBufferPointer { src in
      output.withUnsafeMutableBufferPointer { dst in
        for t in 0..<steps { (dst.baseAddress! + t * n).update(from: src.baseAddress!, count: n) }
      }
    }
    return output
  }

  /// output[rows, out] = input·W + b (input and output already prepared).
  private func multiply(rows: Int) {
    let k = inFeatures, n = outFeatures
    lastInputDensity = nil
    usedSpikeKernel = false
    guard rows > 0 else { return }
    if spikeInputPolicy == .automatic {
      lastInputDensity = input.withUnsafeBufferPointer {
        RowOps.binaryDensity($0.baseAddress!, count: rows * k)
      }
      if let d = lastInputDensity, d < SpikeGEMM.crossoverDensity { usedSpikeKernel = true }
    }
    let outputMajor = weightLayout == .outputMajor
    if usedSpikeKernel && outputMajor { transposeWeight() }
    input.withUnsafeBufferPointer { x in
      (usedSpikeKernel && outputMajor ? transposedWeight : weight.value).withUnsafeBufferPointer {
        w in
        output.withUnsafeMutableBufferPointer { y in
          if usedSpikeKernel {
            SpikeGEMM.multiply(
              spikes: x.baseAddress!, lds: k, m: rows, k: k, weights: w.baseAddress!, ldw: n,
              n: n, beta: 0, c: y.baseAddress!, ldc: n)
          } else {
            GEMM.sgemm(
              transA: false, transB: outputMajor, m: rows, n: n, k: k, a: x.baseAddress!, lda: k,
              b: w.baseAddress!, ldb: outputMajor ? k : n, beta: 0, c: y.baseAddress!, ldc: n)
          }
          if let bias {
            bias.value.withUnsafeBufferPointer { b in
              RowOps.addRowVector(y.baseAddress!, rows: rows, columns: n, b.baseAddress!)
            }
          }
        }
      }
    }
  }

  /// `transposedWeight = Wᵀ` (`[in, out]`) of the output-major weight.
  private func transposeWeight() {
    let k = inFeatures, n = outFeatures
    transposedWeight.prepare(shape: [k, n])
    weight.value.withUnsafeBufferPointer { w in
      transposedWeight.withUnsafeMutableBufferPointer { wt in
        RowOps.transpose(w.baseAddress!, rows: n, columns: k, into: wt.baseAddress!)
      }
    }
  }

  /// Accumulates ∂L/∂W = xᵀ·g and ∂L/∂b = Σ_rows g; returns ∂L/∂x = g·Wᵀ (shaped like the
  /// forward input; for a static forward, g is summed over time first and ∂L/∂x is
  /// `[B, inFeatures]`). Backward consumes the forward's cache (the input is released so
  /// that the layer that produced it can reuse its buffer): one backward per forward.
  public func backward(_ gradOutput: Tensor) -> Tensor {
    let k = inFeatures, n = outFeatures
    var g = gradOutput
    if let steps = staticSteps {
      let rows = input.shape[0]
      precondition(
        gradOutput.shape == [steps, rows, n],
        "\(name): expected gradient [\(steps), \(rows), \(n)], got \(gradOutput.shape)")
      gradSum.prepare(shape: [rows, n])
      gradOutput.withUnsafeBufferPointer { src in
        gradSum.withUnsafeMutableBufferPointer { dst in
          RowOps.sumOverTime(
            src.baseAddress!, steps: steps, count: rows * n, into: dst.baseAddress!)
        }
      }
      g = gradSum
    } else {
      precondition(
        gradOutput.shape == output.shape,
        "\(name): expected gradient \(output.shape), got \(gradOutput.shape)")
    }
    precondition(input.count > 0 || output.count == 0, "\(name): backward without a forward")
    let rows = input.count / k
    guard rows > 0 else { return Tensor(shape: input.shape) }
    let outputMajor = weightLayout == .outputMajor
    if usedSpikeKernel && outputMajor {
      // Sᵀ·g into the [in, out] scratch, then added transposed into the [out, in] gradient.
      transposedWeight.prepare(shape: [k, n])
      transposedWeight.fill(0)
    }
    g.withUnsafeBufferPointer { gy in
      input.withUnsafeBufferPointer { x in
        weight.gradient.withUnsafeMutableBufferPointer { gw in
          if usedSpikeKernel && outputMajor {
            transposedWeight.withUnsafeMutableBufferPointer { gt in
              SpikeGEMM.accumulateTransposed(
                spikes: x.baseAddress!, lds: k, m: rows, k: k, gradient: gy.baseAddress!, ldd: n,
                n: n, into: gt.baseAddress!, ldg: n)
              RowOps.addTransposed(gt.baseAddress!, rows: k, columns: n, into: gw.baseAddress!)
            }
          } else if usedSpikeKernel {
            SpikeGEMM.accumulateTransposed(
              spikes: x.baseAddress!, lds: k, m: rows, k: k, gradient: gy.baseAddress!, ldd: n,
              n: n, into: gw.baseAddress!, ldg: n)
          } else if outputMajor {
            // ∂W[out, in] += gᵀ·x
            GEMM.sgemm(
              transA: true, transB: false, m: n, n: k, k: rows, a: gy.baseAddress!, lda: n,
              b: x.baseAddress!, ldb: k, beta: 1, c: gw.baseAddress!, ldc: k)
          } else {
            GEMM.sgemm(
              transA: true, transB: false, m: k, n: n, k: rows, a: x.baseAddress!, lda: k,
              b: gy.baseAddress!, ldb: n, beta: 1, c: gw.baseAddress!, ldc: n)
          }
        }
      }
      if let bias {
        bias.gradient.withUnsafeMutableBufferPointer { gb in
          RowOps.accumulateColumnSums(
            gy.baseAddress!, rows: rows, columns: n, into: gb.baseAddress!)
        }
      }
    }
    defer { input = Tensor(shape: [0]) }  // release the cache so its owner can reuse it
    guard computesInputGradient else { return Tensor(shape: [0]) }
    gradInput.prepare(shape: input.shape)
    g.withUnsafeBufferPointer { gy in
      weight.value.withUnsafeBufferPointer { w in
        gradInput.withUnsafeMutableBufferPointer { gx in
          // ∂x = g·Wᵀ ([in, out] layout) or g·W ([out, in] layout).
          GEMM.sgemm(
            transA: false, transB: !outputMajor, m: rows, n: k, k: n, a: gy.baseAddress!, lda: n,
            b: w.baseAddress!, ldb: outputMajor ? k : n, beta: 0, c: gx.baseAddress!, ldc: k)
        }
      }
    }
    return gradInput
  }
}

extension Linear {
  /// Replaces the input cached by the last forward with `input` (same shape), so that the
  /// next ``backward(_:)`` forms ∂L/∂W = xᵀ·g from `input` instead; ∂L/∂b and ∂L/∂x do not
  /// depend on the input and are unchanged. Online methods (OTTT, NDOT) use it to take the
  /// weight gradient against presynaptic traces, ∂L/∂W = δ·âᵀ. The dense GEMM is used for
  /// that product (a trace is not binary).
  public func replaceCachedInput(_ input: Tensor) {
    precondition(
      input.shape == self.input.shape,
      "\(name): replacement input \(input.shape), expected \(self.input.shape)")
    self.input = input
    usedSpikeKernel = false
  }

  /// Drops the input cached by the last forward, for a forward pass that no backward pass
  /// follows (a graph-free spike pass): the caller may then overwrite the input's buffer in
  /// place without a copy. The next backward needs a new forward first.
  public func releaseCachedInput() { input = Tensor(shape: [0]) }
}
