/// The runs of one delivery direction of a ``SPIDEProjection``, as plain scalars: what a
/// spike of neuron n reaches, as contiguous runs `(first, weightOffset, count)` of neurons
/// whose weights are contiguous in the direction's weight layout.
///
/// Four patterns cover every wiring and direction:
/// - `dense`: one run over all `count` targets, weights at `n · count`;
/// - `scatter` (the input side of a convolution: what ``ConvConnectivity/forEachRun(of:_:)``
///   enumerates): runs over the output channels, weights `[ky][kx][in][out]`;
/// - `gather` (the output side: the transposed view): runs over the input channels, weights
///   `[ky][kx][out][in]`;
/// - `poolForward` (one target, weight 1/k²) and `poolBackward` (k² single sources).
///
/// A convolution delivers forward by `scatter` and backward by `gather`; a transposed
/// convolution is the transpose of the convolution from its target to its source, so it
/// delivers forward by `gather` and backward by `scatter` over that convolution.
@usableFromInline
struct SPIDERoute: Sendable {
  @usableFromInline enum Pattern: Sendable {
    case dense
    case scatter
    case gather
    case poolForward
    case poolBackward
  }

  @usableFromInline let pattern: Pattern
  /// Dense: the run length. Convolutions: the convolution's shapes (input channels, height,
  /// width; output channels, height, width), kernel, stride, padding. Pooling: the source
  /// shape (channels, height, width), the target height and width, k.
  @usableFromInline let count: Int
  @usableFromInline let inChannels: Int, height: Int, width: Int
  @usableFromInline let outChannels: Int, outHeight: Int, outWidth: Int
  @usableFromInline let kernel: Int, stride: Int, padding: Int
  /// log₂ of the stride (pooling: of k) when it is a power of two, else −1: the hot loops
  /// then shift and mask instead of dividing.
  @usableFromInline let strideShift: Int
  /// 1/inChannels (scatter, pooling), 1/outChannels (gather), 1/width (scatter, pooling),
  /// 1/outWidth (gather, pooling backward), for division-free index decomposition.
  @usableFromInline let channelReciprocal: Double
  @usableFromInline let widthReciprocal: Double

  init(
    _ pattern: Pattern, count: Int = 0, inChannels: Int = 0, height: Int = 0, width: Int = 0,
    outChannels: Int = 0, outHeight: Int = 0, outWidth: Int = 0, kernel: Int = 1, stride: Int = 1,
    padding: Int = 0
  ) {
    self.pattern = pattern
    self.count = count
    self.inChannels = inChannels
    self.height = height
    self.width = width
    self.outChannels = outChannels
    self.outHeight = outHeight
    self.outWidth = outWidth
    self.kernel = kernel
    self.stride = stride
    self.padding = padding
    let step = pattern == .poolForward || pattern == .poolBackward ? kernel : stride
    strideShift = step > 0 && step & (step - 1) == 0 ? step.trailingZeroBitCount : -1
    switch pattern {
    case .gather:
      channelReciprocal = outChannels > 0 ? 1 / Double(outChannels) : 0
      widthReciprocal = outWidth > 0 ? 1 / Double(outWidth) : 0
    case .poolBackward:
      channelReciprocal = inChannels > 0 ? 1 / Double(inChannels) : 0
      widthReciprocal = outWidth > 0 ? 1 / Double(outWidth) : 0
    default:
      channelReciprocal = inChannels > 0 ? 1 / Double(inChannels) : 0
      widthReciprocal = width > 0 ? 1 / Double(width) : 0
    }
  }

  /// The route of `projection`'s forward (`forward == true`) or backward direction.
  init(_ projection: SPIDEProjection, forward: Bool) {
    let s = projection.source
    let t = projection.target
    switch projection.wiring {
    case .dense:
      self.init(.dense, count: forward ? t.neuronCount : s.neuronCount)
    case .conv(let k, let stride, let padding):
      self.init(
        forward ? .scatter : .gather, inChannels: s.paddedChannels, height: s.height,
        width: s.width, outChannels: t.paddedChannels, outHeight: t.height, outWidth: t.width,
        kernel: k, stride: stride, padding: padding)
    case .convTranspose(let k, let stride, let padding):
      self.init(
        forward ? .gather : .scatter, inChannels: t.paddedChannels, height: t.height,
        width: t.width, outChannels: s.paddedChannels, outHeight: s.height, outWidth: s.width,
        kernel: k, stride: stride, padding: padding)
    case .averagePool(let k):
      self.init(
        forward ? .poolForward : .poolBackward, inChannels: s.paddedChannels, height: s.height,
        width: s.width, outHeight: t.height, outWidth: t.width, kernel: k)
    }
  }

  /// ⌊a/b⌋ for a ≥ 0 from r = 1/b without a division instruction: the product is off by at
  /// most one, which one comparison corrects.
  @inline(__always) @usableFromInline
  static func quotient(_ a: Int, _ b: Int, _ r: Double) -> Int {
    var q = Int(Double(a) * r)
    if q * b > a { q -= 1 } else if (q + 1) * b <= a { q += 1 }
    return q
  }

  /// For `poolForward`: the target pixel of source pixel `b` (every channel of a source
  /// pixel reaches the same channel of one target pixel), or −1 outside the pooled area.
  @inline(__always) @usableFromInline
  func poolTarget(ofBlock b: Int) -> Int {
    let y0 = Self.quotient(b, width, widthReciprocal)
    let x0 = b - y0 * width
    let y = strideShift >= 0 ? y0 >> strideShift : y0 / kernel
    let x = strideShift >= 0 ? x0 >> strideShift : x0 / kernel
    return y < outHeight && x < outWidth ? y * outWidth + x : -1
  }

  /// For `poolBackward`: source pixel `(dy, dx)` of the window of target pixel `b`.
  @inline(__always) @usableFromInline
  func poolSource(ofBlock b: Int, _ dy: Int, _ dx: Int) -> Int {
    let oy = Self.quotient(b, outWidth, widthReciprocal)
    let ox = b - oy * outWidth
    return (oy * kernel + dy) * width + ox * kernel + dx
  }

  /// For `scatter`: calls `body(first, weightBase, block)` for each target pixel reached
  /// by source pixel `pixel`; input channel c of that pixel reaches the `outChannels`
  /// targets from `first` with weights from `weightBase + c · outChannels`.
  @inline(__always) @usableFromInline
  func forEachScatterTarget(ofPixel pixel: Int, _ body: (Int, Int, Int) -> Void) {
    let y = Self.quotient(pixel, width, widthReciprocal)
    let x = pixel - y * width
    let shift = strideShift
    let mask = shift >= 0 ? (1 << shift) - 1 : 0
    for ky in 0..<kernel {
      let ny = y + padding - ky
      if ny < 0 { break }
      let oy: Int
      if shift >= 0 {
        if ny & mask != 0 { continue }
        oy = ny >> shift
      } else {
        if ny % stride != 0 { continue }
        oy = ny / stride
      }
      if oy >= outHeight { continue }
      for kx in 0..<kernel {
        let nx = x + padding - kx
        if nx < 0 { break }
        let ox: Int
        if shift >= 0 {
          if nx & mask != 0 { continue }
          ox = nx >> shift
        } else {
          if nx % stride != 0 { continue }
          ox = nx / stride
        }
        if ox >= outWidth { continue }
        let block = oy * outWidth + ox
        body(block * outChannels, (ky * kernel + kx) * inChannels * outChannels, block)
      }
    }
  }

  /// Calls `body(first, weightOffset, count, block)` for each run reached by neuron `n`;
  /// `block` is the pixel of the run's neurons in the reached layer, or −1 for a run over the
  /// whole layer (dense).
  @inline(__always) @usableFromInline
  func forEachRun(of n: Int, _ body: (Int, Int, Int, Int) -> Void) {
    switch pattern {
    case .dense:
      body(0, n * count, count, -1)
    case .scatter:
      let pixel = Self.quotient(n, inChannels, channelReciprocal)
      let c = n - pixel * inChannels
      forEachScatterTarget(ofPixel: pixel) { first, weightBase, block in
        body(first, weightBase + c * outChannels, outChannels, block)
      }
    case .gather:
      let pixel = Self.quotient(n, outChannels, channelReciprocal)
      let co = n - pixel * outChannels
      let oy = Self.quotient(pixel, outWidth, widthReciprocal)
      let ox = pixel - oy * outWidth
      for ky in 0..<kernel {
        let y = oy * stride - padding + ky
        if y < 0 { continue }
        if y >= height { break }
        for kx in 0..<kernel {
          let x = ox * stride - padding + kx
          if x < 0 { continue }
          if x >= width { break }
          let block = y * width + x
          body(
            block * inChannels, ((ky * kernel + kx) * outChannels + co) * inChannels, inChannels,
            block)
        }
      }
    case .poolForward:
      let pixel = Self.quotient(n, inChannels, channelReciprocal)
      let c = n - pixel * inChannels
      let y0 = Self.quotient(pixel, width, widthReciprocal)
      let x0 = pixel - y0 * width
      let y = strideShift >= 0 ? y0 >> strideShift : y0 / kernel
      let x = strideShift >= 0 ? x0 >> strideShift : x0 / kernel
      if y < outHeight && x < outWidth {
        let block = y * outWidth + x
        body(block * inChannels + c, 0, 1, block)
      }
    case .poolBackward:
      let pixel = Self.quotient(n, inChannels, channelReciprocal)
      let c = n - pixel * inChannels
      let oy = Self.quotient(pixel, outWidth, widthReciprocal)
      let ox = pixel - oy * outWidth
      for dy in 0..<kernel {
        for dx in 0..<kernel {
          let block = (oy * kernel + dy) * width + ox * kernel + dx
          body(block * inChannels + c, 0, 1, block)
        }
      }
    }
  }
}

/// Fixed-point weights in manually allocated memory, so that the phases can hold plain
/// pointers to them for a whole run.
final class SPIDEWeightBuffer: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<Int32>
  let count: Int

  init(_ values: [Int32]) {
    count = values.count
    pointer = .allocate(capacity: max(values.count, 8))
    pointer.initialize(repeating: 0, count: max(values.count, 8))
    if !values.isEmpty { pointer.update(from: values, count: values.count) }
  }

  deinit { pointer.deallocate() }

  var values: [Int32] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

/// What a phase needs to deliver over one projection direction: the route, the weights
/// (plain pointer, valid while the compiled network lives) and the pooling weight.
@usableFromInline
struct SPIDEDelivery: @unchecked Sendable {
  @usableFromInline let route: SPIDERoute
  @usableFromInline let weights: UnsafePointer<Int32>
  @usableFromInline let poolWeight: Int32
  @usableFromInline var isPool: Bool {
    route.pattern == .poolForward || route.pattern == .poolBackward
  }
}
