/// A growable buffer of trivial elements in manually managed memory.
///
/// Hot structures (calendar buckets, neuron state) use it instead of `Array` so that a
/// mutation in an inner loop is a plain store: no copy-on-write uniqueness check, no
/// retain/release. The owner calls ``deallocate()`` exactly once (in its `deinit`).
@usableFromInline
struct RawBuffer<Element> {
  @usableFromInline var base: UnsafeMutablePointer<Element>?
  @usableFromInline var count: Int = 0
  @usableFromInline var capacity: Int = 0

  @inlinable init() { base = nil }

  @inlinable init(repeating value: Element, count n: Int) {
    base = UnsafeMutablePointer<Element>.allocate(capacity: max(n, 1))
    base!.initialize(repeating: value, count: n)
    count = n
    capacity = max(n, 1)
  }

  @inlinable
  mutating func append(_ value: Element) {
    if count == capacity { grow() }
    (base! + count).initialize(to: value)
    count += 1
  }

  @inlinable
  mutating func grow() {
    let newCapacity = max(16, capacity * 2)
    let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
    if let base {
      newBase.moveInitialize(from: base, count: count)
      base.deallocate()
    }
    base = newBase
    capacity = newCapacity
  }

  @inlinable
  subscript(i: Int) -> Element {
    get { base![i] }
    nonmutating set { base![i] = newValue }
  }

  @inlinable
  mutating func removeLast() -> Element {
    count -= 1
    return (base! + count).move()
  }

  /// Forgets the elements (they are trivial), keeping the memory.
  @inlinable mutating func removeAll() { count = 0 }

  @inlinable
  mutating func deallocate() {
    base?.deallocate()
    base = nil
    count = 0
    capacity = 0
  }

  /// The bytes held.
  var allocatedBytes: Int { capacity * MemoryLayout<Element>.stride }
}
