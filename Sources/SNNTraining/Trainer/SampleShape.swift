import SNNBase

/// The shape of one sample: `frames` frames of `feature` each.
///
/// Static images have one frame, which the method presents at every time step; event data
/// binned into T frames (N-MNIST) has `frames == T`.
public struct SampleShape: Hashable, Sendable, CustomStringConvertible {
  public var frames: Int
  public var feature: FeatureShape

  public init(frames: Int = 1, feature: FeatureShape) {
    self.frames = frames
    self.feature = feature
  }

  /// Floats per sample: `frames · C · H · W`.
  public var elementCount: Int { frames * feature.elementCount }

  public var description: String { frames == 1 ? feature.description : "\(frames)×\(feature)" }
}
