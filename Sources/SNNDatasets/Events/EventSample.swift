/// One event-camera recording: events as parallel arrays (struct of arrays) and a label.
///
/// Event k happened at pixel (`x[k]`, `y[k]`) at `timestamp[k]` microseconds after the
/// start of the recording, with `polarity[k]` 1 for an ON (brightness increase) event and 0
/// for OFF. Coordinates lie in `0..<width` and `0..<height`.
public struct EventSample: Sendable, Equatable {
  public var x: [UInt8]
  public var y: [UInt8]
  /// 1 = ON, 0 = OFF.
  public var polarity: [UInt8]
  /// Microseconds since the start of the recording.
  public var timestamp: [UInt32]
  public var label: UInt8
  /// Sensor width and height in pixels (34 × 34 for N-MNIST).
  public var width: Int
  public var height: Int

  public init(
    x: [UInt8], y: [UInt8], polarity: [UInt8], timestamp: [UInt32], label: UInt8, width: Int,
    height: Int
  ) {
    precondition(
      x.count == y.count && y.count == polarity.count && polarity.count == timestamp.count,
      "event columns must have equal lengths")
    self.x = x
    self.y = y
    self.polarity = polarity
    self.timestamp = timestamp
    self.label = label
    self.width = width
    self.height = height
  }

  /// The number of events.
  public var count: Int { x.count }

  /// Last minus first timestamp in µs (0 for fewer than two events).
  public var duration: UInt32 {
    guard let first = timestamp.first, let last = timestamp.last, last >= first else { return 0 }
    return last - first
  }

  /// The number of ON events.
  public var onCount: Int { polarity.reduce(0) { $0 + Int($1) } }

  /// Whether timestamps never decrease.
  public var isTimeOrdered: Bool {
    timestamp.withUnsafeBufferPointer { t in
      var i = 1
      while i < t.count {
        if t[i] < t[i - 1] { return false }
        i += 1
      }
      return true
    }
  }
}
