/// Convolutional connectivity over a shared kernel, delivered procedurally: no synapse is
/// materialized (as GeNN's "toeplitz" connectivity).
///
/// Layout is channels-last on both sides: source neuron `(y, x, c)` has index
/// `(y · width + x) · inChannels + c`; target `(oy, ox, co)` has index
/// `(oy · outWidth + ox) · outChannels + co`. The kernel is stored as
/// `kernel[((ky · kernelWidth + kx) · inChannels + c) · outChannels + co]`, so for one input
/// spike and one kernel offset the targets are a contiguous run of `outChannels` neurons
/// and their weights a contiguous run of the kernel: delivery is a few vector
/// multiply-adds per kernel offset. Zero padding and stride follow the usual definition
/// `oy = (y + padding − ky) / stride` when divisible. Border neurons have fewer synapses;
/// ``fanOut(_:)`` counts them exactly.
public struct ConvConnectivity: Sendable {
  public let inChannels: Int, height: Int, width: Int
  public let outChannels: Int
  public let kernelHeight: Int, kernelWidth: Int
  public let stride: Int, padding: Int
  public var kernel: [Float]
  public var delay: Float

  public init(
    inChannels: Int, height: Int, width: Int, outChannels: Int, kernelHeight: Int,
    kernelWidth: Int, stride: Int = 1, padding: Int = 0, kernel: [Float], delay: Float = 0
  ) {
    precondition(inChannels > 0 && height > 0 && width > 0 && outChannels > 0)
    precondition(kernelHeight > 0 && kernelWidth > 0 && stride > 0 && padding >= 0)
    precondition(height + 2 * padding >= kernelHeight && width + 2 * padding >= kernelWidth, "kernel larger than the padded input")
    precondition(kernel.count == kernelHeight * kernelWidth * inChannels * outChannels, "kernel size mismatch")
    self.inChannels = inChannels
    self.height = height
    self.width = width
    self.outChannels = outChannels
    self.kernelHeight = kernelHeight
    self.kernelWidth = kernelWidth
    self.stride = stride
    self.padding = padding
    self.kernel = kernel
    self.delay = delay
  }

  public var outHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
  public var outWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
  public var sourceCount: Int { height * width * inChannels }
  public var targetCount: Int { outHeight * outWidth * outChannels }

  /// Calls `body(firstTarget, kernelOffset, count)` for each contiguous run of targets of
  /// `source`; the run's weights are `kernel[kernelOffset ..< kernelOffset + count]`.
  @inlinable
  public func forEachRun(of source: Int, _ body: (_ firstTarget: Int, _ kernelOffset: Int, _ count: Int) -> Void) {
    let c = source % inChannels
    let pixel = source / inChannels
    let y = pixel / width, x = pixel % width
    let oh = outHeight, ow = outWidth
    for ky in 0..<kernelHeight {
      let ny = y + padding - ky
      if ny < 0 || ny % stride != 0 { continue }
      let oy = ny / stride
      if oy >= oh { continue }
      for kx in 0..<kernelWidth {
        let nx = x + padding - kx
        if nx < 0 || nx % stride != 0 { continue }
        let ox = nx / stride
        if ox >= ow { continue }
        body((oy * ow + ox) * outChannels, ((ky * kernelWidth + kx) * inChannels + c) * outChannels, outChannels)
      }
    }
  }

  /// Calls `body(firstSource, kernelOffset, count, kernelStride)` for each contiguous run of
  /// sources of `target` (the transposed view): the sources are `firstSource ..< firstSource
  /// + count` and their weights `kernel[kernelOffset + i · kernelStride]`.
  @inlinable
  public func forEachSourceRun(
    of target: Int, _ body: (_ firstSource: Int, _ kernelOffset: Int, _ count: Int, _ kernelStride: Int) -> Void
  ) {
    let co = target % outChannels
    let pixel = target / outChannels
    let oy = pixel / outWidth, ox = pixel % outWidth
    for ky in 0..<kernelHeight {
      let y = oy * stride - padding + ky
      if y < 0 || y >= height { continue }
      for kx in 0..<kernelWidth {
        let x = ox * stride - padding + kx
        if x < 0 || x >= width { continue }
        body((y * width + x) * inChannels, (ky * kernelWidth + kx) * inChannels * outChannels + co, inChannels, outChannels)
      }
    }
  }

  /// The exact number of synapses leaving `source` (smaller at the borders).
  public func fanOut(_ source: Int) -> Int {
    var n = 0
    forEachRun(of: source) { _, _, count in n += count }
    return n
  }

  /// The total number of (implicit) synapses.
  public var synapseCount: Int {
    var n = 0
    for s in 0..<(height * width) { n += fanOut(s * inChannels) }
    return n * inChannels
  }
}
