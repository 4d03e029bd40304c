/// A named Float32 array with a shape: the unit of storage in checkpoints (parameters,
/// optimizer moments, any other state a method keeps).
public struct TensorBlob: Equatable, Sendable {
  /// A unique name, e.g. `param/conv1.weight` or `optimizer/conv1.weight.m`.
  public var name: String
  /// The dimensions; their product is `values.count` (an empty shape holds one scalar).
  public var shape: [Int]
  public var values: [Float]

  public init(name: String, shape: [Int], values: [Float]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in blob '\(name)'")
    precondition(shape.reduce(1, *) == values.count, "blob '\(name)': shape does not match count")
    self.name = name
    self.shape = shape
    self.values = values
  }

  /// Whether two blobs hold the same bits (unlike `==`, NaN equals NaN and 0 ≠ −0).
  public func isBitIdentical(to other: TensorBlob) -> Bool {
    name == other.name && shape == other.shape && values.count == other.values.count
      && zip(values, other.values).allSatisfy { $0.bitPattern == $1.bitPattern }
  }
}
