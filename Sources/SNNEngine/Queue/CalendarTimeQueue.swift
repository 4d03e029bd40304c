/// A calendar queue of (time, item, generation) entries with lazy deletion: the threshold
/// schedule of a large population in continuous time.
///
/// Time is cut into buckets of width `bucketWidth`; a ring of `bucketCount` buckets covers
/// the near future, later entries wait in an overflow list. Pushing appends to a bucket
/// (O(1), no sift through a large heap); the bucket being drained is a small binary heap,
/// so entries pushed into the present are still taken in exact order. Rescheduling an item
/// pushes a new entry and leaves the old one behind: the owner bumps the item's generation
/// and discards entries whose generation is stale when they surface (``minimum(isCurrent:)``).
/// Order is total: by time, then item index, then generation.
public final class CalendarTimeQueue {
  public struct Entry: Sendable {
    public var time: Double
    public var item: Int32
    public var generation: UInt32

    @inlinable public init(time: Double, item: Int32, generation: UInt32) {
      self.time = time
      self.item = item
      self.generation = generation
    }

    @inlinable @inline(__always)
    static func precedes(_ a: Entry, _ b: Entry) -> Bool {
      if a.time != b.time { return a.time < b.time }
      if a.item != b.item { return a.item < b.item }
      return a.generation < b.generation
    }
  }

  public let bucketWidth: Double
  @usableFromInline let inverseWidth: Double
  @usableFromInline let mask: Int
  @usableFromInline var buckets: UnsafeMutablePointer<RawBuffer<Entry>>
  /// The absolute index of the bucket being drained (time ⌊t / width⌋).
  @usableFromInline var current: Int
  /// The drained bucket, as a binary min-heap.
  @usableFromInline var active = RawBuffer<Entry>()
  @usableFromInline var overflow = RawBuffer<Entry>()
  /// Entries in the ring buckets (not counting `active` and `overflow`).
  @usableFromInline var inRing = 0

  /// A queue starting at time `start`; `bucketCount` is rounded up to a power of two.
  public init(bucketWidth: Double, bucketCount: Int = 4096, start: Double = 0) {
    precondition(bucketWidth > 0 && bucketWidth.isFinite, "bucket width must be positive")
    var n = 1
    while n < bucketCount { n <<= 1 }
    self.bucketWidth = bucketWidth
    inverseWidth = 1 / bucketWidth
    mask = n - 1
    buckets = .allocate(capacity: n)
    buckets.initialize(repeating: RawBuffer(), count: n)
    current = Int((start * inverseWidth).rounded(.down))
  }

  deinit {
    for i in 0...mask { buckets[i].deallocate() }
    buckets.deinitialize(count: mask + 1)
    buckets.deallocate()
    active.deallocate()
    overflow.deallocate()
  }

  /// Entries stored, stale ones included.
  public var storedCount: Int { active.count + inRing + overflow.count }

  /// Bytes of memory held by the buckets.
  public var allocatedBytes: Int {
    var total = active.allocatedBytes + overflow.allocatedBytes + (mask + 1) * MemoryLayout<RawBuffer<Entry>>.stride
    for i in 0...mask { total += buckets[i].allocatedBytes }
    return total
  }

  @inlinable @inline(__always)
  func bucketIndex(_ time: Double) -> Int {
    let scaled = time * inverseWidth
    // Far-future and infinite times go to the overflow list.
    return scaled < 9.0e15 ? Int(scaled.rounded(.down)) : Int.max
  }

  @inlinable @inline(__always)
  public func push(time: Double, item: Int, generation: UInt32) {
    let entry = Entry(time: time, item: Int32(truncatingIfNeeded: item), generation: generation)
    let b = bucketIndex(time)
    if b <= current {
      heapPush(entry)
    } else if b - current <= mask {
      buckets[b & mask].append(entry)
      inRing += 1
    } else {
      overflow.append(entry)
    }
  }

  /// Makes the smallest stored entry the top of `active`; false when empty.
  @inlinable @inline(__always)
  func settle(_ isCurrent: (Entry) -> Bool) -> Bool {
    if active.count > 0 { return true }
    return settleSlow(isCurrent)
  }

  @inlinable
  func settleSlow(_ isCurrent: (Entry) -> Bool) -> Bool {
    while active.count == 0 {
      if inRing == 0 {
        if overflow.count == 0 { return false }
        // Jump to the first overflow entry's bucket.
        var earliest = Double.infinity
        for i in 0..<overflow.count where overflow[i].time < earliest { earliest = overflow[i].time }
        let target = bucketIndex(earliest)
        if target == Int.max {
          // Only entries at infinite time remain: drain them in order.
          swap(&active, &overflow)
          heapify()
          return true
        }
        current = max(current, target)
        redistributeOverflow()
        drain(slot: current & mask, isCurrent)
        continue
      }
      current += 1
      let slot = current & mask
      drain(slot: slot, isCurrent)
      // Once per turn of the ring: bring overflow entries within reach into the ring.
      if slot == 0 && overflow.count > 0 { redistributeOverflow() }
    }
    return true
  }

  /// Makes bucket `slot` the active heap, dropping the entries that are already stale.
  ///
  /// Checking a whole bucket at once issues independent loads (the owner's state of each
  /// item), which the memory system overlaps; checking entries one by one as they surface
  /// would wait for each miss in turn.
  @inlinable
  func drain(slot: Int, _ isCurrent: (Entry) -> Bool) {
    guard buckets[slot].count > 0 else { return }
    inRing -= buckets[slot].count
    if active.count == 0 {
      swap(&active, &buckets[slot])
      var kept = 0
      for i in 0..<active.count where isCurrent(active[i]) {
        active[kept] = active[i]
        kept += 1
      }
      active.count = kept
      heapify()
    } else {
      for i in 0..<buckets[slot].count { heapPush(buckets[slot][i]) }
      buckets[slot].removeAll()
    }
  }

  /// Moves overflow entries that are now within the ring's reach into it.
  @usableFromInline
  func redistributeOverflow() {
    var kept = 0
    for i in 0..<overflow.count {
      let e = overflow[i]
      let b = bucketIndex(e.time)
      if b <= current {
        heapPush(e)
      } else if b != Int.max && b - current <= mask {
        buckets[b & mask].append(e)
        inRing += 1
      } else {
        overflow[kept] = e
        kept += 1
      }
    }
    overflow.count = kept
  }

  /// The smallest entry that `isCurrent` accepts, after discarding stale ones; nil when
  /// none remain. The entry stays in the queue.
  @inlinable @inline(__always)
  public func minimum(isCurrent: (Entry) -> Bool) -> Entry? {
    while settle(isCurrent) {
      let top = active[0]
      if isCurrent(top) { return top }
      heapPop()
    }
    return nil
  }

  /// Removes the top entry (the one ``minimum(isCurrent:)`` returned).
  @inlinable
  public func removeMinimum() { heapPop() }

  // MARK: The active binary heap

  @inlinable
  func heapPush(_ e: Entry) {
    active.append(e)
    let a = active.base!
    var i = active.count - 1
    while i > 0 {
      let p = (i - 1) >> 1
      guard Entry.precedes(e, a[p]) else { break }
      a[i] = a[p]
      i = p
    }
    a[i] = e
  }

  @inlinable
  func heapPop() {
    let last = active.removeLast()
    if active.count == 0 { return }
    siftDown(last, from: 0)
  }

  @inlinable
  func siftDown(_ e: Entry, from start: Int) {
    let a = active.base!
    let n = active.count
    var i = start
    while true {
      var c = 2 * i + 1
      if c >= n { break }
      if c + 1 < n && Entry.precedes(a[c + 1], a[c]) { c += 1 }
      guard Entry.precedes(a[c], e) else { break }
      a[i] = a[c]
      i = c
    }
    a[i] = e
  }

  @usableFromInline
  func heapify() {
    var i = active.count / 2 - 1
    while i >= 0 {
      siftDown(active[i], from: i)
      i -= 1
    }
  }
}
