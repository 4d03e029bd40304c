/// A 4-ary min-heap of events: the event queue for continuous time.
///
/// Children of slot `i` are `4i + 1 ... 4i + 4`. A 4-ary heap halves the depth of a binary
/// heap and keeps the four children of a node in one or two cache lines; sift-down does
/// more comparisons per level but touches fewer levels, which wins for the push/pop mix of
/// a simulator (measured by `snn bench queue`).
public struct HeapEventQueue<Time: Comparable & Sendable, Payload>: EventQueue {
  @usableFromInline var keys: [EventKey<Time>] = []
  @usableFromInline var payloads: [Payload] = []
  @usableFromInline var nextSequence: UInt64 = 0

  public init(reservingCapacity capacity: Int = 0) {
    keys.reserveCapacity(capacity)
    payloads.reserveCapacity(capacity)
  }

  @inlinable public var count: Int { keys.count }
  @inlinable public var minimumKey: EventKey<Time>? { keys.first }

  @inlinable
  public mutating func push(time: Time, phase: EventPhase, _ payload: Payload) {
    let key = EventKey(time: time, phase: phase, sequence: nextSequence)
    nextSequence &+= 1
    keys.append(key)
    payloads.append(payload)
    siftUp(keys.count - 1)
  }

  @inlinable
  public mutating func pop() -> (key: EventKey<Time>, payload: Payload)? {
    guard let top = keys.first else { return nil }
    let payload = payloads[0]
    let lastKey = keys.removeLast()
    let lastPayload = payloads.removeLast()
    if !keys.isEmpty {
      keys[0] = lastKey
      payloads[0] = lastPayload
      siftDown(0)
    }
    return (top, payload)
  }

  public mutating func removeAll() {
    keys.removeAll(keepingCapacity: true)
    payloads.removeAll(keepingCapacity: true)
  }

  @inlinable
  mutating func siftUp(_ start: Int) {
    var i = start
    let key = keys[i]
    let payload = payloads[i]
    while i > 0 {
      let parent = (i - 1) >> 2
      guard key < keys[parent] else { break }
      keys[i] = keys[parent]
      payloads[i] = payloads[parent]
      i = parent
    }
    keys[i] = key
    payloads[i] = payload
  }

  @inlinable
  mutating func siftDown(_ start: Int) {
    let n = keys.count
    var i = start
    let key = keys[i]
    let payload = payloads[i]
    while true {
      let first = 4 * i + 1
      if first >= n { break }
      var best = first
      let last = min(first + 4, n)
      var c = first + 1
      while c < last {
        if keys[c] < keys[best] { best = c }
        c += 1
      }
      guard keys[best] < key else { break }
      keys[i] = keys[best]
      payloads[i] = payloads[best]
      i = best
    }
    keys[i] = key
    payloads[i] = payload
  }
}

extension HeapEventQueue {
  /// Checks the heap property (for tests).
  public func checkInvariants() -> Bool {
    for i in 1..<max(1, keys.count) where keys[i] < keys[(i - 1) >> 2] { return false }
    return true
  }
}
