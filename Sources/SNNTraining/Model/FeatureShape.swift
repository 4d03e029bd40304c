/// The shape of one sample's activations at one time step: channels × height × width.
///
/// Flat activations (the input and output of `linear` stages) are `N × 1 × 1`. Shapes are
/// per sample and per step; backends add the batch and time dimensions themselves.
public struct FeatureShape: Hashable, Sendable, CustomStringConvertible {
  public var channels: Int
  public var height: Int
  public var width: Int

  public init(channels: Int, height: Int, width: Int) {
    self.channels = channels
    self.height = height
    self.width = width
  }

  /// A flat shape of `count` features (`count × 1 × 1`).
  public static func flat(_ count: Int) -> FeatureShape {
    FeatureShape(channels: count, height: 1, width: 1)
  }

  /// C·H·W (the caller guarantees it does not overflow; `ModelSpec` validation checks).
  public var elementCount: Int { channels * height * width }

  /// Whether the shape has no spatial extent (H = W = 1).
  public var isFlat: Bool { height == 1 && width == 1 }

  /// `1×28×28`.
  public var description: String { "\(channels)×\(height)×\(width)" }

  /// `1x28x28`, the spelling of the notation's input prefix.
  public var notation: String { "\(channels)x\(height)x\(width)" }
}
