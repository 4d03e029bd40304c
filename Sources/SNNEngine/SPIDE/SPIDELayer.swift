/// One population of a ``SPIDENetwork``: `channels × height × width` neurons stored
/// channels-last, with the channel count padded to a multiple of ``laneWidth``.
///
/// Neuron `(y, x, c)` has index `(y · width + x) · paddedChannels + c`. The neurons of one
/// pixel form a *block* of `paddedChannels` consecutive indices: every convolution or
/// pooling run that reaches a pixel reaches all of its channels, so blocks are the unit in
/// which the event-driven phases track which neurons received input (and process them with
/// `SIMD8` lanes). Padding channels (`c ≥ channels`) have zero weights and zero drive: they
/// never fire and carry nothing. A flat layer (`N × 1 × 1`) is one block.
public struct SPIDELayer: Hashable, Sendable {
  /// The vector width of the phases' neuron updates (`SIMD8<Int32>`).
  public static let laneWidth = 8

  public var channels: Int
  public var height: Int
  public var width: Int

  public init(channels: Int, height: Int, width: Int) {
    precondition(channels > 0 && height > 0 && width > 0, "layer dimensions must be positive")
    self.channels = channels
    self.height = height
    self.width = width
  }

  /// `channels` rounded up to a multiple of ``laneWidth``.
  public var paddedChannels: Int {
    (channels + Self.laneWidth - 1) / Self.laneWidth * Self.laneWidth
  }
  public var pixelCount: Int { height * width }
  /// Neurons including padding: `pixelCount · paddedChannels`.
  public var neuronCount: Int { pixelCount * paddedChannels }
  /// Real neurons: `channels · height · width`.
  public var realNeuronCount: Int { channels * height * width }

  /// The engine index of neuron `(c, y, x)`.
  @inlinable public func index(channel c: Int, y: Int, x: Int) -> Int {
    (y * width + x) * paddedChannels + c
  }

  /// The engine index of the neuron at flat position `i` of the usual channel-major order
  /// `c · H · W + y · W + x` (PyTorch's flatten order).
  @inlinable public func index(channelMajor i: Int) -> Int {
    let c = i / (height * width)
    let p = i % (height * width)
    return p * paddedChannels + c
  }

  /// Whether engine index `i` is a real neuron (not padding).
  @inlinable public func isReal(_ i: Int) -> Bool { i % paddedChannels < channels }
}
