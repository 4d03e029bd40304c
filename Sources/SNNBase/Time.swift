/// A point or span of continuous simulated time, in milliseconds.
///
/// Continuous-time models of the event engine (exact LIF integration, spike times of
/// event-camera streams) use `SimTime`. Discrete-time models that live on an integer grid
/// (the training methods' steps t = 0..T-1) use ``Step``. Conversions between the two live
/// in this file only.
@frozen
public struct SimTime: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// The time in milliseconds.
  public var milliseconds: Double

  @inlinable public init(milliseconds: Double) { self.milliseconds = milliseconds }
  @inlinable public static func milliseconds(_ value: Double) -> SimTime { SimTime(milliseconds: value) }
  @inlinable public static func seconds(_ value: Double) -> SimTime { SimTime(milliseconds: value * 1000) }
  @inlinable public static func microseconds(_ value: Double) -> SimTime {
    SimTime(milliseconds: value / 1000)
  }

  public static let zero = SimTime(milliseconds: 0)
  public static let infinity = SimTime(milliseconds: .infinity)

  @inlinable public var seconds: Double { milliseconds / 1000 }
  @inlinable public var isFinite: Bool { milliseconds.isFinite }

  @inlinable public static func < (a: SimTime, b: SimTime) -> Bool { a.milliseconds < b.milliseconds }
  @inlinable public static func + (a: SimTime, b: SimTime) -> SimTime {
    SimTime(milliseconds: a.milliseconds + b.milliseconds)
  }
  @inlinable public static func - (a: SimTime, b: SimTime) -> SimTime {
    SimTime(milliseconds: a.milliseconds - b.milliseconds)
  }
  @inlinable public static func += (a: inout SimTime, b: SimTime) { a.milliseconds += b.milliseconds }
  @inlinable public static func * (a: SimTime, k: Double) -> SimTime {
    SimTime(milliseconds: a.milliseconds * k)
  }

  public var description: String { "\(milliseconds) ms" }
}

/// A time step on an integer grid (t = 0, 1, 2, ...).
///
/// Grid-mode models advance in whole steps; a step stands for `dt` milliseconds where a
/// continuous interpretation is needed (see ``SimTime/init(step:dt:)``).
@frozen
public struct Step: Hashable, Comparable, Sendable, Strideable, CustomStringConvertible {
  public var index: Int

  @inlinable public init(_ index: Int) { self.index = index }

  public static let zero = Step(0)

  @inlinable public static func < (a: Step, b: Step) -> Bool { a.index < b.index }
  @inlinable public func distance(to other: Step) -> Int { other.index - index }
  @inlinable public func advanced(by n: Int) -> Step { Step(index + n) }

  public var description: String { "step \(index)" }
}

extension SimTime {
  /// The continuous time at the start of grid step `step` with step width `dt`.
  @inlinable public init(step: Step, dt: SimTime) {
    self.init(milliseconds: Double(step.index) * dt.milliseconds)
  }
}

extension Step {
  /// The grid step containing `time` for a grid of width `dt` (floor; time ≥ 0).
  @inlinable public init(containing time: SimTime, dt: SimTime) {
    self.init(Int((time.milliseconds / dt.milliseconds).rounded(.down)))
  }
}
