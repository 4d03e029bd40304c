/// Flattens `[T, B, C, H, W]` (any `[T, B, …]`) to `[T, B, C·H·W]` without copying; a
/// static input `[B, …]` is flattened with `leadingAxes: 1`.
public final class Flatten: DenseLayer {
  public let name: String
  /// The number of leading axes kept (2 for time-major `[T, B, …]`).
  public let leadingAxes: Int
  public var isTraining = true
  var inputShape: [Int] = []

  public init(name: String = "flatten", leadingAxes: Int = 2) {
    precondition(leadingAxes >= 0, "Flatten: negative axis count")
    self.name = name
    self.leadingAxes = leadingAxes
  }

  public func forward(_ input: Tensor) -> Tensor {
    precondition(input.rank >= leadingAxes, "\(name): input \(input.shape) has too few axes")
    inputShape = input.shape
    let lead = Array(input.shape.prefix(leadingAxes))
    let rest = input.shape.dropFirst(leadingAxes).reduce(1, *)
    return input.reshaped(lead + [rest])
  }

  public func backward(_ gradOutput: Tensor) -> Tensor {
    gradOutput.reshaped(inputShape)
  }
}
