/// A priority queue of events ordered by ``EventKey``.
///
/// Two implementations share this protocol: ``HeapEventQueue`` (a 4-ary heap, for
/// continuous time) and ``BucketEventQueue`` (a calendar of buckets, for integer steps with
/// bounded look-ahead). The queue assigns sequence numbers itself, so callers cannot break
/// the total order.
public protocol EventQueue<Time, Payload> {
  associatedtype Time: Comparable & Sendable
  associatedtype Payload

  /// The number of events waiting.
  var count: Int { get }
  var isEmpty: Bool { get }

  /// Adds an event; its sequence number is the next value of the queue's counter.
  mutating func push(time: Time, phase: EventPhase, _ payload: Payload)

  /// The smallest key, without removing it.
  var minimumKey: EventKey<Time>? { get }

  /// Removes and returns the event with the smallest key.
  mutating func pop() -> (key: EventKey<Time>, payload: Payload)?

  /// Removes every event.
  mutating func removeAll()
}

extension EventQueue {
  @inlinable public var isEmpty: Bool { count == 0 }
}
