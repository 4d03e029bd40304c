import SNNBase

/// The "hold" benchmark of priority queues: keep `size` events pending, repeatedly pop the
/// earliest and push one a random (exponential) interval later.
public enum QueueBenchmark {
  public static func run(size: Int, operations: Int, seed: UInt64 = 1) -> [(name: String, rate: Double)] {
    var results: [(String, Double)] = []
    var rng = Xoshiro256StarStar(seed: seed)
    var checksum = 0.0

    do {
      var q = HeapEventQueue<Double, Int32>(reservingCapacity: size)
      for i in 0..<size { q.push(time: rng.nextExponential(rate: 1), phase: .deliver, Int32(i)) }
      let watch = Stopwatch()
      for _ in 0..<operations {
        let (key, item) = q.pop()!
        q.push(time: key.time + rng.nextExponential(rate: 1), phase: .deliver, item)
      }
      results.append(("4-ary heap", Double(operations) / watch.elapsedSeconds))
      checksum += q.minimumKey!.time
    }
    do {
      var q = IndexedTimeHeap(capacity: size)
      for i in 0..<size { q.update(i, time: rng.nextExponential(rate: 1)) }
      let watch = Stopwatch()
      for _ in 0..<operations {
        let top = q.minimum!
        q.update(top.item, time: top.time + rng.nextExponential(rate: 1))
      }
      results.append(("indexed 4-ary heap", Double(operations) / watch.elapsedSeconds))
      checksum += q.minimum!.time
    }
    do {
      // Mean interval 1 with `size` pending: about `size` events per unit time; buckets
      // holding ~8 events each.
      let q = CalendarTimeQueue(bucketWidth: 8 / Double(size), bucketCount: 4 * size / 8 + 64)
      var generation = [UInt32](repeating: 0, count: size)
      for i in 0..<size { q.push(time: rng.nextExponential(rate: 1), item: i, generation: 0) }
      let watch = Stopwatch()
      for _ in 0..<operations {
        let top = q.minimum { generation[Int($0.item)] == $0.generation }!
        q.removeMinimum()
        let i = Int(top.item)
        generation[i] &+= 1
        q.push(time: top.time + rng.nextExponential(rate: 1), item: i, generation: generation[i])
      }
      results.append(("calendar", Double(operations) / watch.elapsedSeconds))
      checksum += q.minimum { generation[Int($0.item)] == $0.generation }!.time
    }
    do {
      var q = BucketEventQueue<Int32>(horizon: 1024)
      // Integer steps: intervals of 1–64 steps.
      for i in 0..<size { q.push(time: 1 + rng.nextIndex(below: 64), phase: .deliver, Int32(i)) }
      let watch = Stopwatch()
      for _ in 0..<operations {
        let (key, item) = q.pop()!
        q.push(time: key.time + 1 + rng.nextIndex(below: 64), phase: .deliver, item)
      }
      results.append(("bucket (integer steps)", Double(operations) / watch.elapsedSeconds))
      checksum += Double(q.minimumKey!.time)
    }
    precondition(checksum.isFinite)
    return results
  }
}
