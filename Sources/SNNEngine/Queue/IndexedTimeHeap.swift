/// A 4-ary min-heap holding at most one pending time per item (neuron), with
/// decrease-key and increase-key: the threshold schedule of a population.
///
/// A neuron whose membrane can cross threshold without further input keeps exactly one
/// entry: its predicted crossing, or a conservative check time before it. Inputs move the
/// entry (`update`) instead of piling stale events into the main queue. Equal times are
/// ordered by item index, so the order is total and deterministic.
public struct IndexedTimeHeap: Sendable {
  /// `heap[slot]` = item; `times[slot]` = its time (parallel, so sift loops read one array).
  @usableFromInline var heapItems: [Int32]
  @usableFromInline var heapTimes: [Double]
  /// `position[item]` = slot, or -1 when the item has no entry.
  @usableFromInline var position: [Int32]

  public init(capacity: Int) {
    heapItems = []
    heapTimes = []
    heapItems.reserveCapacity(capacity)
    heapTimes.reserveCapacity(capacity)
    position = Array(repeating: -1, count: capacity)
  }

  @inlinable public var count: Int { heapItems.count }
  @inlinable public var isEmpty: Bool { heapItems.isEmpty }
  @inlinable public var capacity: Int { position.count }

  /// The earliest time and its item.
  @inlinable public var minimum: (time: Double, item: Int)? {
    heapItems.isEmpty ? nil : (heapTimes[0], Int(heapItems[0]))
  }

  /// The pending time of `item`, or nil.
  @inlinable public func time(of item: Int) -> Double? {
    let slot = Int(position[item])
    return slot < 0 ? nil : heapTimes[slot]
  }

  @inlinable @inline(__always)
  static func precedes(_ t1: Double, _ i1: Int32, _ t2: Double, _ i2: Int32) -> Bool {
    t1 < t2 || (t1 == t2 && i1 < i2)
  }

  /// Sets the pending time of `item` (inserting it when absent).
  @inlinable
  public mutating func update(_ item: Int, time: Double) {
    let slot = Int(position[item])
    if slot < 0 {
      heapItems.append(Int32(item))
      heapTimes.append(time)
      siftUp(heapItems.count - 1)
    } else if time < heapTimes[slot] {
      heapTimes[slot] = time
      siftUp(slot)
    } else if time > heapTimes[slot] {
      heapTimes[slot] = time
      siftDown(slot)
    }
  }

  /// Removes the entry of `item`, if any.
  @inlinable
  public mutating func remove(_ item: Int) {
    let slot = Int(position[item])
    guard slot >= 0 else { return }
    position[item] = -1
    let lastItem = heapItems.removeLast()
    let lastTime = heapTimes.removeLast()
    if slot < heapItems.count {
      heapItems[slot] = lastItem
      heapTimes[slot] = lastTime
      position[Int(lastItem)] = Int32(slot)
      siftUp(slot)
      siftDown(Int(position[Int(lastItem)]))
    }
  }

  /// Removes and returns the earliest entry.
  @inlinable
  public mutating func popMinimum() -> (time: Double, item: Int)? {
    guard let top = minimum else { return nil }
    remove(top.item)
    return top
  }

  public mutating func removeAll() {
    for item in heapItems { position[Int(item)] = -1 }
    heapItems.removeAll(keepingCapacity: true)
    heapTimes.removeAll(keepingCapacity: true)
  }

  @inlinable
  mutating func siftUp(_ start: Int) {
    var i = start
    let item = heapItems[i]
    let time = heapTimes[i]
    while i > 0 {
      let parent = (i - 1) >> 2
      guard Self.precedes(time, item, heapTimes[parent], heapItems[parent]) else { break }
      heapItems[i] = heapItems[parent]
      heapTimes[i] = heapTimes[parent]
      position[Int(heapItems[i])] = Int32(i)
      i = parent
    }
    heapItems[i] = item
    heapTimes[i] = time
    position[Int(item)] = Int32(i)
  }

  @inlinable
  mutating func siftDown(_ start: Int) {
    let n = heapItems.count
    var i = start
    let item = heapItems[i]
    let time = heapTimes[i]
    while true {
      let first = 4 * i + 1
      if first >= n { break }
      var best = first
      var c = first + 1
      let last = min(first + 4, n)
      while c < last {
        if Self.precedes(heapTimes[c], heapItems[c], heapTimes[best], heapItems[best]) { best = c }
        c += 1
      }
      guard Self.precedes(heapTimes[best], heapItems[best], time, item) else { break }
      heapItems[i] = heapItems[best]
      heapTimes[i] = heapTimes[best]
      position[Int(heapItems[i])] = Int32(i)
      i = best
    }
    heapItems[i] = item
    heapTimes[i] = time
    position[Int(item)] = Int32(i)
  }

  /// Checks the heap property and the position index (for tests).
  public func checkInvariants() -> Bool {
    for slot in heapItems.indices {
      if position[Int(heapItems[slot])] != Int32(slot) { return false }
      if slot > 0 {
        let p = (slot - 1) >> 2
        if Self.precedes(heapTimes[slot], heapItems[slot], heapTimes[p], heapItems[p]) { return false }
      }
    }
    return position.enumerated().allSatisfy { $0.element < 0 || heapItems[Int($0.element)] == Int32($0.offset) }
  }
}
