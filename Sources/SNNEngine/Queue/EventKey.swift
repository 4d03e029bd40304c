import SNNBase

/// The order of events that share a time: inputs are delivered before neurons update,
/// update before threshold checks, and so on (the update schedule of a step, mirrored in
/// continuous time).
public enum EventPhase: UInt8, Comparable, Sendable, CaseIterable {
  case deliver = 0
  case update = 1
  case threshold = 2
  case reset = 3
  case record = 4

  @inlinable public static func < (a: EventPhase, b: EventPhase) -> Bool { a.rawValue < b.rawValue }
}

/// The total order key of an event: `(time, phase, sequence)`.
///
/// `sequence` is a counter that increases with every event pushed, so events with equal
/// time and phase come out first-in, first-out. No queue relies on a heap's order for equal
/// keys: the key itself is total, which makes runs bit-identical.
@frozen
public struct EventKey<Time: Comparable & Sendable>: Comparable, Sendable {
  public var time: Time
  public var phase: EventPhase
  public var sequence: UInt64

  @inlinable public init(time: Time, phase: EventPhase, sequence: UInt64) {
    self.time = time
    self.phase = phase
    self.sequence = sequence
  }

  @inlinable
  public static func < (a: Self, b: Self) -> Bool {
    if a.time != b.time { return a.time < b.time }
    if a.phase != b.phase { return a.phase < b.phase }
    return a.sequence < b.sequence
  }

  @inlinable
  public static func == (a: Self, b: Self) -> Bool {
    a.time == b.time && a.phase == b.phase && a.sequence == b.sequence
  }
}
