import Testing

@testable import SNNBase
@testable import SNNEngine

/// Seeded property tests: every queue returns events in exactly the order of a sorted
/// reference under the total key (time, phase, sequence).
@Suite struct QueueTests {
  struct Reference {
    var items: [(time: Double, phase: EventPhase, sequence: UInt64, payload: Int)] = []
    var sequence: UInt64 = 0
    mutating func push(_ time: Double, _ phase: EventPhase, _ payload: Int) {
      items.append((time, phase, sequence, payload))
      sequence += 1
    }
    mutating func pop() -> (Double, EventPhase, Int)? {
      guard !items.isEmpty else { return nil }
      var best = 0
      for i in items.indices {
        let a = items[i], b = items[best]
        if (a.time, a.phase.rawValue, a.sequence) < (b.time, b.phase.rawValue, b.sequence) { best = i }
      }
      let e = items.remove(at: best)
      return (e.time, e.phase, e.payload)
    }
  }

  @Test(arguments: [1, 2, 3, 4, 5])
  func heapMatchesSortedReference(seed: UInt64) {
    var rng = Xoshiro256StarStar(seed: seed)
    var heap = HeapEventQueue<Double, Int>()
    var reference = Reference()
    var now = 0.0
    for step in 0..<4000 {
      if rng.nextUnitDouble() < 0.55 {
        // Coarse times so that equal times (and equal phases) are common.
        let time = now + Double(rng.nextIndex(below: 20)) * 0.5
        let phase = EventPhase(rawValue: UInt8(rng.nextIndex(below: 5)))!
        heap.push(time: time, phase: phase, step)
        reference.push(time, phase, step)
      } else {
        let a = heap.pop(), b = reference.pop()
        #expect(a?.payload == b?.2)
        #expect(a?.key.time == b?.0)
        if let a { now = a.key.time }
      }
      #expect(heap.count == reference.items.count)
    }
    #expect(heap.checkInvariants())
    while let b = reference.pop() { #expect(heap.pop()?.payload == b.2) }
    #expect(heap.isEmpty)
  }

  @Test(arguments: [1, 2, 3])
  func bucketQueueMatchesSortedReference(seed: UInt64) {
    var rng = Xoshiro256StarStar(seed: seed)
    // A short horizon so that the overflow path is exercised often.
    var queue = BucketEventQueue<Int>(horizon: 8)
    var reference = Reference()
    var now = 0
    for step in 0..<5000 {
      if rng.nextUnitDouble() < 0.55 {
        let time = now + rng.nextIndex(below: rng.nextUnitDouble() < 0.8 ? 6 : 40)
        let phase = EventPhase(rawValue: UInt8(rng.nextIndex(below: 5)))!
        queue.push(time: time, phase: phase, step)
        reference.push(Double(time), phase, step)
      } else {
        #expect(queue.minimumKey?.sequence == reference.items.min {
          ($0.time, $0.phase.rawValue, $0.sequence) < ($1.time, $1.phase.rawValue, $1.sequence)
        }?.sequence)
        let a = queue.pop(), b = reference.pop()
        #expect(a?.payload == b?.2)
        #expect(a.map { Double($0.key.time) } == b?.0)
        #expect(a?.key.phase == b?.1)
        if let a { now = a.key.time }
      }
      #expect(queue.count == reference.items.count)
    }
    while let b = reference.pop() { #expect(queue.pop()?.payload == b.2) }
    #expect(queue.isEmpty)
  }

  @Test func bucketQueueTakesLowerPhasesPushedDuringAStep() {
    var queue = BucketEventQueue<String>(horizon: 4)
    queue.push(time: 3, phase: .threshold, "t1")
    queue.push(time: 3, phase: .threshold, "t2")
    #expect(queue.pop()?.payload == "t1")
    // Processing t1 sends a delivery into the same step: it precedes t2.
    queue.push(time: 3, phase: .deliver, "d")
    #expect(queue.pop()?.payload == "d")
    #expect(queue.pop()?.payload == "t2")
    #expect(queue.pop() == nil)
  }

  @Test(arguments: [7, 8])
  func indexedHeapMatchesReference(seed: UInt64) {
    var rng = Xoshiro256StarStar(seed: seed)
    let n = 200
    var heap = IndexedTimeHeap(capacity: n)
    var reference = [Double?](repeating: nil, count: n)
    for _ in 0..<20_000 {
      let item = rng.nextIndex(below: n)
      switch rng.nextIndex(below: 3) {
      case 0, 1:
        let t = Double(rng.nextIndex(below: 50))
        heap.update(item, time: t)
        reference[item] = t
      default:
        if rng.nextUnitDouble() < 0.5 {
          heap.remove(item)
          reference[item] = nil
        } else if let top = heap.popMinimum() {
          // The minimum by (time, item).
          let expected = reference.enumerated().compactMap { e in e.element.map { t in (t, e.offset) } }.min { $0 < $1 }!
          #expect(top.time == expected.0 && top.item == expected.1)
          reference[top.item] = nil
        }
      }
      #expect(heap.count == reference.compactMap { $0 }.count)
    }
    #expect(heap.checkInvariants())
  }

  @Test(arguments: [11, 12, 13])
  func calendarQueueMatchesReference(seed: UInt64) {
    var rng = Xoshiro256StarStar(seed: seed)
    let n = 100
    // Tiny ring so that wrap-around and overflow are exercised.
    let queue = CalendarTimeQueue(bucketWidth: 0.25, bucketCount: 16)
    var current = [Double?](repeating: nil, count: n)
    var generation = [UInt32](repeating: 0, count: n)
    var now = 0.0
    for _ in 0..<30_000 {
      if rng.nextUnitDouble() < 0.6 {
        let item = rng.nextIndex(below: n)
        let far = rng.nextUnitDouble() < 0.1
        let t = now + (far ? rng.nextUniform(0, 50) : Double(rng.nextIndex(below: 12)) * 0.125)
        generation[item] &+= 1
        current[item] = t
        queue.push(time: t, item: item, generation: generation[item])
      } else {
        let top = queue.minimum { generation[Int($0.item)] == $0.generation }
        let expected = current.enumerated().compactMap { e in e.element.map { t in (t, e.offset) } }.min { $0 < $1 }
        #expect(top.map { ($0.time, Int($0.item)) } == expected.map { ($0.0, $0.1) } ?? nil)
        if let top {
          queue.removeMinimum()
          now = top.time
          current[Int(top.item)] = nil
          generation[Int(top.item)] &+= 1
        }
      }
    }
    // Infinite times are kept and come last.
    queue.push(time: .infinity, item: 0, generation: generation[0] &+ 1)
    generation[0] &+= 1
    current[0] = .infinity
    var last = -Double.infinity
    while let top = queue.minimum(isCurrent: { generation[Int($0.item)] == $0.generation }) {
      #expect(top.time >= last)
      last = top.time
      queue.removeMinimum()
      generation[Int(top.item)] &+= 1
    }
    #expect(last == .infinity)
  }
}

extension Optional where Wrapped == (Double, Int) {
  static func == (a: Self, b: Self) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case (let x?, let y?): return x.0 == y.0 && x.1 == y.1
    default: return false
    }
  }
}
