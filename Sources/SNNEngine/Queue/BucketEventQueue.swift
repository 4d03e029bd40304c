/// A calendar queue for integer time steps: the event queue of grid mode.
///
/// Events live in a ring of `horizon` buckets, one per step; a bucket keeps one first-in,
/// first-out list per ``EventPhase``, so within a step events come out by phase and then in
/// push order (which is sequence order). Push and pop are O(1) amortized while events stay
/// within `horizon` steps of the current step (the longest synaptic delay); events further
/// ahead wait in an overflow heap and move into the ring when it reaches them.
public struct BucketEventQueue<Payload>: EventQueue {
  public typealias Time = Int

  @usableFromInline struct Lane {
    @usableFromInline var items: [(sequence: UInt64, payload: Payload)] = []
    @usableFromInline var head = 0
    @usableFromInline var pending: Int { items.count - head }
  }

  /// `lanes[bucket * phaseCount + phase]`.
  @usableFromInline var lanes: [Lane]
  @usableFromInline let horizon: Int
  @usableFromInline static var phaseCount: Int { EventPhase.allCases.count }
  /// The step the queue has advanced to: no event may be pushed before it.
  public private(set) var currentStep: Int
  @usableFromInline var inRing = 0
  @usableFromInline var overflow = HeapEventQueue<Int, (sequence: UInt64, payload: Payload)>()
  @usableFromInline var nextSequence: UInt64 = 0

  /// A queue starting at step `start`, with a ring of `horizon` buckets.
  public init(horizon: Int = 64, start: Int = 0) {
    precondition(horizon >= 1, "horizon must be at least 1")
    self.horizon = horizon
    self.currentStep = start
    lanes = Array(repeating: Lane(), count: horizon * Self.phaseCount)
  }

  public var count: Int { inRing + overflow.count }

  public mutating func push(time step: Int, phase: EventPhase, _ payload: Payload) {
    precondition(step >= currentStep, "event at step \(step) is before the current step \(currentStep)")
    let sequence = nextSequence
    nextSequence &+= 1
    if step - currentStep < horizon {
      let lane = (step % horizon) * Self.phaseCount + Int(phase.rawValue)
      lanes[lane].items.append((sequence, payload))
      inRing += 1
    } else {
      overflow.push(time: step, phase: phase, (sequence, payload))
    }
  }

  public var minimumKey: EventKey<Int>? {
    var best: EventKey<Int>? = nil
    if inRing > 0 {
      search: for step in currentStep..<(currentStep + horizon) {
        let base = (step % horizon) * Self.phaseCount
        for p in 0..<Self.phaseCount where lanes[base + p].pending > 0 {
          let lane = lanes[base + p]
          best = EventKey(
            time: step, phase: EventPhase(rawValue: UInt8(p))!, sequence: lane.items[lane.head].sequence)
          break search
        }
      }
    }
    if let o = overflow.minimumKey {
      // The overflow heap orders its entries by its own counter, which increases with the
      // same pushes as ours; report the event's own sequence number.
      let key = EventKey(time: o.time, phase: o.phase, sequence: overflow.payloads[0].sequence)
      if best == nil || key < best! { best = key }
    }
    return best
  }

  public mutating func pop() -> (key: EventKey<Int>, payload: Payload)? {
    guard count > 0 else { return nil }
    while true {
      // Move overflow events that have come within reach into the ring, in key order.
      while let o = overflow.minimumKey, o.time - currentStep < horizon {
        let (key, entry) = overflow.pop()!
        let lane = (key.time % horizon) * Self.phaseCount + Int(key.phase.rawValue)
        insertOrdered(entry, into: lane)
        inRing += 1
      }
      if inRing > 0 {
        let base = (currentStep % horizon) * Self.phaseCount
        for p in 0..<Self.phaseCount where lanes[base + p].pending > 0 {
          let entry = lanes[base + p].items[lanes[base + p].head]
          lanes[base + p].head += 1
          if lanes[base + p].pending == 0 {
            lanes[base + p].items.removeAll(keepingCapacity: true)
            lanes[base + p].head = 0
          }
          inRing -= 1
          return (
            EventKey(time: currentStep, phase: EventPhase(rawValue: UInt8(p))!, sequence: entry.sequence),
            entry.payload
          )
        }
        currentStep += 1
      } else {
        // Only overflow events remain: jump to the first of them.
        currentStep = overflow.minimumKey!.time
      }
    }
  }

  /// Inserts an entry that arrives from the overflow heap into its lane by sequence (it
  /// may have been pushed before entries already in the lane).
  private mutating func insertOrdered(_ entry: (sequence: UInt64, payload: Payload), into lane: Int) {
    var index = lanes[lane].items.count
    while index > lanes[lane].head && lanes[lane].items[index - 1].sequence > entry.sequence {
      index -= 1
    }
    lanes[lane].items.insert(entry, at: index)
  }

  /// Advances the current step to `step` (no events may remain before it).
  public mutating func advance(to step: Int) {
    precondition(step >= currentStep, "cannot move the queue back in time")
    if let k = minimumKey { precondition(k.time >= step, "events remain before step \(step)") }
    currentStep = step
  }

  public mutating func removeAll() {
    for i in lanes.indices {
      lanes[i].items.removeAll(keepingCapacity: true)
      lanes[i].head = 0
    }
    inRing = 0
    overflow.removeAll()
  }
}
