import SNNBase

/// A connection between two ``SPIDELayer``s of a ``SPIDENetwork``: its wiring and its
/// weights, with the two delivery directions the SPIDE phases need.
///
/// The forward phase sends a spike of source `s` to its targets
/// (``forEachTargetRun(of:_:)``); the backward phase sends a ternary spike of target `t`
/// back to its sources (``forEachSourceRun(of:_:)``), over the transposed graph. Both
/// directions deliver contiguous runs of neurons whose weights are contiguous too, in the
/// layouts of ``forwardLayoutWeights()`` and ``backwardLayoutWeights()``, so one delivery
/// is a few `SIMD8` adds per run.
///
/// Canonical weight layouts (``weights``), padded channel counts `Cs`, `Ct`:
/// - `conv`: `[ky][kx][Cs][Ct]` (``ConvConnectivity``'s kernel layout);
/// - `convTranspose`: `[ky][kx][Ct][Cs]`, the kernel of the convolution from the target to
///   the source that this transposed convolution is the transpose of (the same numbers as
///   PyTorch's `ConvTranspose2d` weight `[Cs, Ct, k, k]`, reordered);
/// - `dense`: `[sourceNeuron][targetNeuron]` over engine indices;
/// - `averagePool`: no weights (each of the k² sources of a window adds 1/k²).
public struct SPIDEProjection: Sendable {
  public enum Wiring: Hashable, Sendable {
    /// All-to-all.
    case dense
    /// Convolution with a square kernel, zero padding.
    case conv(kernel: Int, stride: Int, padding: Int)
    /// Transposed convolution: `out = (in − 1)·stride − 2·padding + kernel + outputPadding`.
    case convTranspose(kernel: Int, stride: Int, padding: Int)
    /// Average pooling over non-overlapping k × k windows, fixed weight 1/k².
    case averagePool(Int)
  }

  public let source: SPIDELayer
  public let target: SPIDELayer
  public let wiring: Wiring
  /// For `conv`: source → target; for `convTranspose`: target → source. Holds the
  /// canonical kernel.
  @usableFromInline var geometry: ConvConnectivity?
  @usableFromInline var denseWeights: [Float]

  /// A projection with all weights zero.
  public init(source: SPIDELayer, target: SPIDELayer, wiring: Wiring) throws(ConfigurationError)
  {
    self.source = source
    self.target = target
    self.wiring = wiring
    denseWeights = []
    let sp = source.paddedChannels
    let tp = target.paddedChannels
    func mismatch(_ expected: String) -> ConfigurationError {
      .invalid(
        field: "SPIDE projection \(wiring)",
        value: "\(source.channels)×\(source.height)×\(source.width) → "
          + "\(target.channels)×\(target.height)×\(target.width)",
        expected: expected)
    }
    /// The convolution from `input` to `output` (zero kernel), when the shapes fit it.
    func convolution(
      _ input: SPIDELayer, _ output: SPIDELayer, _ k: Int, _ stride: Int, _ padding: Int,
      _ name: String
    ) throws(ConfigurationError) -> ConvConnectivity {
      guard k > 0, stride > 0, padding >= 0, input.height + 2 * padding >= k,
        input.width + 2 * padding >= k,
        (input.height + 2 * padding - k) / stride + 1 == output.height,
        (input.width + 2 * padding - k) / stride + 1 == output.width
      else { throw mismatch("the target shape of a \(k)×\(k) \(name)") }
      return ConvConnectivity(
        inChannels: input.paddedChannels, height: input.height, width: input.width,
        outChannels: output.paddedChannels, kernelHeight: k, kernelWidth: k, stride: stride,
        padding: padding, kernel: [Float](repeating: 0, count: k * k * sp * tp))
    }
    switch wiring {
    case .dense:
      denseWeights = [Float](repeating: 0, count: source.neuronCount * target.neuronCount)
    case .conv(let k, let stride, let padding):
      geometry = try convolution(source, target, k, stride, padding, "convolution")
    case .convTranspose(let k, let stride, let padding):
      geometry = try convolution(target, source, k, stride, padding, "transposed convolution")
    case .averagePool(let k):
      guard k > 0, source.channels == target.channels, source.height / k == target.height,
        source.width / k == target.width, target.height > 0, target.width > 0
      else { throw mismatch("the target shape of \(k)×\(k) average pooling") }
    }
  }

  /// The canonical weights (empty for pooling). Setting them requires the same count.
  public var weights: [Float] {
    get { geometry?.kernel ?? denseWeights }
    set {
      precondition(newValue.count == weights.count, "weight count mismatch")
      if geometry != nil { geometry!.kernel = newValue } else { denseWeights = newValue }
    }
  }

  /// The kernel size of convolution wirings (1 otherwise).
  public var kernel: Int { geometry?.kernelHeight ?? 1 }

  /// The fixed weight of pooling, 1/k².
  public var poolWeight: Float {
    if case .averagePool(let k) = wiring { return 1 / Float(k * k) }
    return 0
  }

  /// Synapses (including those of padding channels).
  public var synapseCount: Int {
    switch wiring {
    case .dense: return source.neuronCount * target.neuronCount
    case .conv, .convTranspose: return geometry!.synapseCount
    case .averagePool(let k):
      return target.pixelCount * k * k * target.paddedChannels
    }
  }

  // MARK: Delivery

  /// Calls `body(firstTarget, weightOffset, count)` for each contiguous run of targets of
  /// source `s`; the run's weights are `forwardLayoutWeights()[weightOffset ..< weightOffset
  /// + count]` (for pooling: `count` is 1 and the weight is ``poolWeight``).
  @inlinable
  public func forEachTargetRun(of s: Int, _ body: (Int, Int, Int) -> Void) {
    switch wiring {
    case .dense:
      body(0, s * target.neuronCount, target.neuronCount)
    case .conv:
      geometry!.forEachRun(of: s) { first, offset, count in body(first, offset, count) }
    case .convTranspose:
      let sp = source.paddedChannels
      let shift = (s % sp) * (target.paddedChannels - 1)
      geometry!.forEachSourceRun(of: s) { first, offset, count, _ in
        body(first, offset + shift, count)
      }
    case .averagePool(let k):
      let sp = source.paddedChannels
      let c = s % sp
      let pixel = s / sp
      let y = pixel / source.width / k
      let x = pixel % source.width / k
      if y < target.height && x < target.width {
        body((y * target.width + x) * sp + c, 0, 1)
      }
    }
  }

  /// Calls `body(firstSource, weightOffset, count)` for each contiguous run of sources of
  /// target `t` (the transposed graph); the run's weights are
  /// `backwardLayoutWeights()[weightOffset ..< weightOffset + count]` (pooling: count 1,
  /// weight ``poolWeight``).
  @inlinable
  public func forEachSourceRun(of t: Int, _ body: (Int, Int, Int) -> Void) {
    switch wiring {
    case .dense:
      body(0, t * source.neuronCount, source.neuronCount)
    case .conv:
      let tp = target.paddedChannels
      let shift = (t % tp) * (source.paddedChannels - 1)
      geometry!.forEachSourceRun(of: t) { first, offset, count, _ in
        body(first, offset + shift, count)
      }
    case .convTranspose:
      geometry!.forEachRun(of: t) { first, offset, count in body(first, offset, count) }
    case .averagePool(let k):
      let tp = target.paddedChannels
      let c = t % tp
      let pixel = t / tp
      let oy = pixel / target.width
      let ox = pixel % target.width
      for dy in 0..<k {
        for dx in 0..<k {
          body(((oy * k + dy) * source.width + ox * k + dx) * tp + c, 0, 1)
        }
      }
    }
  }

  /// The weights reordered so that the runs of ``forEachTargetRun(of:_:)`` are contiguous.
  public func forwardLayoutWeights() -> [Float] { forwardLayout(weights) }

  /// The weights reordered so that the runs of ``forEachSourceRun(of:_:)`` are contiguous.
  public func backwardLayoutWeights() -> [Float] { backwardLayout(weights) }

  /// Any per-weight array in canonical order, reordered like ``forwardLayoutWeights()``.
  public func forwardLayout<T>(_ canonical: [T]) -> [T] {
    switch wiring {
    case .dense, .conv, .averagePool: return canonical
    case .convTranspose:
      return Self.swapLastTwo(
        canonical, groups: kernel * kernel, target.paddedChannels, source.paddedChannels)
    }
  }

  /// Any per-weight array in canonical order, reordered like ``backwardLayoutWeights()``.
  public func backwardLayout<T>(_ canonical: [T]) -> [T] {
    switch wiring {
    case .dense:
      return Self.swapLastTwo(canonical, groups: 1, source.neuronCount, target.neuronCount)
    case .conv:
      return Self.swapLastTwo(
        canonical, groups: kernel * kernel, source.paddedChannels, target.paddedChannels)
    case .convTranspose, .averagePool: return canonical
    }
  }

  /// Any per-weight array in backward layout, back in canonical order (the inverse of
  /// ``backwardLayout(_:)``).
  public func canonicalFromBackwardLayout<T>(_ backward: [T]) -> [T] {
    switch wiring {
    case .dense:
      return Self.swapLastTwo(backward, groups: 1, target.neuronCount, source.neuronCount)
    case .conv:
      return Self.swapLastTwo(
        backward, groups: kernel * kernel, target.paddedChannels, source.paddedChannels)
    case .convTranspose, .averagePool: return backward
    }
  }

  /// `[g][a][b]` → `[g][b][a]`.
  static func swapLastTwo<T>(_ w: [T], groups: Int, _ a: Int, _ b: Int) -> [T] {
    guard let first = w.first else { return w }
    var out = [T](repeating: first, count: w.count)
    w.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for g in 0..<groups {
          let base = g * a * b
          for i in 0..<a {
            for j in 0..<b { dst[base + j * a + i] = src[base + i * b + j] }
          }
        }
      }
    }
    return out
  }

  // MARK: Bounds

  /// An upper bound of `Σ_s |w_ts|` over every target t: the largest input one step of
  /// spikes (one per source) can bring to one target.
  public func maximumTargetInput() -> Double {
    switch wiring {
    case .averagePool: return 1
    case .dense:
      return Self.maximumColumnSum(weights, rows: source.neuronCount, columns: target.neuronCount)
    case .conv:
      return Self.maximumColumnSum(
        weights, rows: kernel * kernel * source.paddedChannels, columns: target.paddedChannels)
    case .convTranspose:
      return Self.maximumRowSum(
        weights, groups: kernel * kernel, rows: target.paddedChannels,
        columns: source.paddedChannels)
    }
  }

  /// An upper bound of `Σ_t |w_ts|` over every source s: the largest input one step of
  /// backward spikes (one per target, unit amplitude) can bring to one source.
  public func maximumSourceInput() -> Double {
    switch wiring {
    case .averagePool(let k): return 1 / Double(k * k)
    case .dense:
      return Self.maximumRowSum(
        weights, groups: 1, rows: source.neuronCount, columns: target.neuronCount)
    case .conv:
      return Self.maximumRowSum(
        weights, groups: kernel * kernel, rows: source.paddedChannels,
        columns: target.paddedChannels)
    case .convTranspose:
      return Self.maximumColumnSum(
        weights, rows: kernel * kernel * target.paddedChannels, columns: source.paddedChannels)
    }
  }

  /// max over columns j of Σ_i |w[i][j]| for a row-major `[rows][columns]` matrix.
  static func maximumColumnSum(_ w: [Float], rows: Int, columns: Int) -> Double {
    var sums = [Double](repeating: 0, count: columns)
    w.withUnsafeBufferPointer { p in
      for i in 0..<rows {
        for j in 0..<columns { sums[j] += Double(abs(p[i * columns + j])) }
      }
    }
    return sums.max() ?? 0
  }

  /// max over r of Σ_{g, c} |w[g][r][c]| for `[groups][rows][columns]`.
  static func maximumRowSum(_ w: [Float], groups: Int, rows: Int, columns: Int) -> Double {
    var sums = [Double](repeating: 0, count: rows)
    w.withUnsafeBufferPointer { p in
      for g in 0..<groups {
        for r in 0..<rows {
          let base = (g * rows + r) * columns
          var s = 0.0
          for c in 0..<columns { s += Double(abs(p[base + c])) }
          sums[r] += s
        }
      }
    }
    return sums.max() ?? 0
  }
}
