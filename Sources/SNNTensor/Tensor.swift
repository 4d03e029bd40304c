import SNNBase

/// A dense, contiguous, row-major array of `Float` with a shape.
///
/// Layout conventions of the dense backend (see Docs/DenseBackend.md):
/// - sequences are **time-major**: `[T, B, N]` for feature vectors and `[T, B, C, H, W]`
///   (channels-first) for images, so that all B·N values of one step are contiguous;
/// - a static (time-constant) input drops the leading axis: `[B, N]` or `[B, C, H, W]`.
///
/// `Tensor` has value semantics (its storage is a copy-on-write `[Float]`). Hot paths write
/// through ``withUnsafeMutableBufferPointer(_:)`` once per loop; layers keep their output
/// and scratch tensors between calls, so that a steady-state training loop reuses storage
/// instead of allocating.
public struct Tensor: Equatable, Sendable, CustomStringConvertible {
  /// The extent of each axis; the product is ``count``.
  public private(set) var shape: [Int]
  /// The values in row-major order.
  public var scalars: [Float] { storage }
  @usableFromInline var storage: [Float]
  /// Shared by the copies of this tensor that share `storage`; when it is uniquely
  /// referenced, so is the storage (unless `scalars` was copied out, in which case a write
  /// still copies, as value semantics require). ``prepare(shape:)`` uses it to drop shared
  /// storage instead of copying values that are about to be overwritten.
  @usableFromInline var owner = StorageOwner()

  /// A tensor of `shape` filled with `value`.
  public init(shape: [Int], repeating value: Float = 0) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
    self.shape = shape
    self.storage = [Float](repeating: value, count: Tensor.elementCount(shape))
  }

  /// A tensor of `shape` holding `scalars` (row-major); the counts must agree.
  public init(shape: [Int], scalars: [Float]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
    precondition(
      Tensor.elementCount(shape) == scalars.count,
      "shape \(shape) needs \(Tensor.elementCount(shape)) values, got \(scalars.count)")
    self.shape = shape
    self.storage = scalars
  }

  /// A tensor of `shape` whose element at flat index i is `body(i)`.
  public init(shape: [Int], generating body: (Int) -> Float) {
    let n = Tensor.elementCount(shape)
    self.init(shape: shape, scalars: (0..<n).map(body))
  }

  /// A zero tensor of `shape`.
  public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape) }

  /// The product of the extents of `shape` (1 for a scalar shape `[]`).
  @inlinable
  public static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

  /// The number of elements.
  @inlinable public var count: Int { storage.count }
  /// The number of axes.
  @inlinable public var rank: Int { shape.count }

  /// The leading extent (T of a time-major tensor).
  public var timeSteps: Int {
    precondition(rank >= 1, "a scalar tensor has no time axis")
    return shape[0]
  }

  /// The number of elements per leading index (B·N of a `[T, B, N]` tensor).
  public var elementsPerStep: Int {
    precondition(rank >= 1, "a scalar tensor has no time axis")
    return shape[0] == 0 ? 0 : count / shape[0]
  }

  /// The element at the multi-index `indices` (slow; for tests and inspection).
  public subscript(_ indices: Int...) -> Float {
    get { storage[flatIndex(indices)] }
    set {
      if !isKnownUniquelyReferenced(&owner) { owner = StorageOwner() }
      storage[flatIndex(indices)] = newValue
    }
  }

  /// The element at a flat (row-major) index.
  @inlinable
  public subscript(flat index: Int) -> Float {
    get { storage[index] }
    set {
      if !isKnownUniquelyReferenced(&owner) { owner = StorageOwner() }
      storage[index] = newValue
    }
  }

  func flatIndex(_ indices: [Int]) -> Int {
    precondition(
      indices.count == shape.count, "expected \(shape.count) indices, got \(indices.count)")
    var flat = 0
    for (axis, i) in indices.enumerated() {
      precondition(
        i >= 0 && i < shape[axis], "index \(i) out of range for axis \(axis) of \(shape)")
      flat = flat * shape[axis] + i
    }
    return flat
  }

  /// The same values under another shape with the same element count (no copy).
  public func reshaped(_ newShape: [Int]) -> Tensor {
    var copy = self
    copy.reshape(newShape)
    return copy
  }

  /// Changes the shape in place; the element count must not change.
  public mutating func reshape(_ newShape: [Int]) {
    precondition(
      Tensor.elementCount(newShape) == count,
      "cannot reshape \(shape) (\(count) values) to \(newShape)")
    shape = newShape
  }

  /// Makes this tensor `shape`, keeping its storage when the element count already fits.
  /// The values are unspecified afterwards (stale or zero); callers overwrite them all.
  /// This is how layers reuse output and scratch buffers from one batch to the next.
  public mutating func prepare(shape newShape: [Int]) {
    let n = Tensor.elementCount(newShape)
    if n != storage.count || !isKnownUniquelyReferenced(&owner) {
      storage = [Float](repeating: 0, count: n)
      owner = StorageOwner()
    }
    shape = newShape
  }

  /// Exchanges this tensor's storage with `scalars` without copying either (an O(1) swap of
  /// array buffers). The counts must agree; the shape is unchanged.
  ///
  /// This is how a parameter store lends its arrays to layers for a forward or backward
  /// pass and takes them back afterwards (`DenseModel` in SNNTraining): ownership moves,
  /// values are never copied.
  public mutating func swapScalars(with scalars: inout [Float]) {
    precondition(
      scalars.count == storage.count,
      "cannot swap \(scalars.count) values into a tensor of \(storage.count) (\(shape))")
    swap(&storage, &scalars)
    owner = StorageOwner()
  }

  /// Read access to the contiguous storage.
  @inlinable
  public func withUnsafeBufferPointer<R>(
    _ body: (UnsafeBufferPointer<Float>) throws -> R
  ) rethrows -> R {
    try storage.withUnsafeBufferPointer(body)
  }

  /// Write access to the contiguous storage (copies first if the storage is shared).
  @inlinable
  public mutating func withUnsafeMutableBufferPointer<R>(
    _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
  ) rethrows -> R {
    if !isKnownUniquelyReferenced(&owner) { owner = StorageOwner() }
    return try storage.withUnsafeMutableBufferPointer(body)
  }

  public static func == (a: Tensor, b: Tensor) -> Bool {
    a.shape == b.shape && a.storage == b.storage
  }

  public var description: String {
    let head = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
    return "Tensor(\(shape): [\(head)\(count > 8 ? ", …" : "")])"
  }
}

/// The identity token of a tensor's storage (see `Tensor.owner`).
@usableFromInline
final class StorageOwner: @unchecked Sendable {
  @usableFromInline init() {}
}
