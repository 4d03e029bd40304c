/// Manually managed Float storage that layers reuse from call to call (membrane gradients
/// carried through time). It grows when asked for more and never
/// shrinks; contents are unspecified after a resize. Not shared across layers.
final class ScratchBuffer: @unchecked Sendable {
  private(set) var pointer: UnsafeMutablePointer<Float>
  private(set) var capacity: Int

  init(capacity: Int = 0) {
    self.capacity = max(capacity, 1)
    pointer = .allocate(capacity: self.capacity)
    pointer.initialize(repeating: 0, count: self.capacity)
  }

  deinit { pointer.deallocate() }

  /// Ensures room for `count` values and returns the base pointer.
  @discardableResult
  func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
    if count > capacity {
      pointer.deallocate()
      capacity = count
      pointer = .allocate(capacity: count)
      pointer.initialize(repeating: 0, count: count)
    }
    return pointer
  }
}
