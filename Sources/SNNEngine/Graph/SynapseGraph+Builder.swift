import SNNBase

extension SynapseGraph {
  /// Collects synapses in any order; ``finalize()`` sorts them into CSR form.
  public struct Builder {
    public let sourceCount: Int
    public let targetCount: Int
    @usableFromInline var sources: [Int32] = []
    @usableFromInline var targets: [Int32] = []
    @usableFromInline var weights: [Float] = []
    @usableFromInline var delays: [Float] = []

    public init(sourceCount: Int, targetCount: Int) {
      precondition(sourceCount >= 0 && targetCount >= 0 && sourceCount <= Int(Int32.max) && targetCount <= Int(Int32.max))
      self.sourceCount = sourceCount
      self.targetCount = targetCount
    }

    public var count: Int { sources.count }

    public mutating func reserveCapacity(_ n: Int) {
      sources.reserveCapacity(n)
      targets.reserveCapacity(n)
      weights.reserveCapacity(n)
      delays.reserveCapacity(n)
    }

    /// Adds the synapse `source → target` (local indices) with a weight and a delay ≥ 0.
    @inlinable
    public mutating func append(source: Int, target: Int, weight: Float, delay: Float = 0) {
      precondition(source >= 0 && source < sourceCount, "source \(source) out of range 0..<\(sourceCount)")
      precondition(target >= 0 && target < targetCount, "target \(target) out of range 0..<\(targetCount)")
      precondition(delay >= 0 && delay.isFinite, "delay must be finite and non-negative")
      sources.append(Int32(source))
      targets.append(Int32(target))
      weights.append(weight)
      delays.append(delay)
    }

    /// Sorts by source (counting sort), then within each row by (delay, target, insertion
    /// order), and freezes the arrays. Delays are stored only if they are not all equal.
    public func finalize() -> SynapseGraph {
      let n = sources.count
      var rowStart = [Int](repeating: 0, count: sourceCount + 1)
      for s in sources { rowStart[Int(s) + 1] += 1 }
      for i in 0..<sourceCount { rowStart[i + 1] += rowStart[i] }
      var order = [Int32](repeating: 0, count: n)
      var fill = rowStart
      for k in 0..<n {
        let s = Int(sources[k])
        order[fill[s]] = Int32(k)
        fill[s] += 1
      }
      // Sort each row by (delay, target); insertion order breaks ties (stable).
      for s in 0..<sourceCount {
        let range = rowStart[s]..<rowStart[s + 1]
        if range.count > 1 {
          var slice = Array(order[range])
          slice.sort { a, b in
            let (ia, ib) = (Int(a), Int(b))
            if delays[ia] != delays[ib] { return delays[ia] < delays[ib] }
            if targets[ia] != targets[ib] { return targets[ia] < targets[ib] }
            return a < b
          }
          order.replaceSubrange(range, with: slice)
        }
      }
      let uniform = delays.first ?? 0
      let allEqual = delays.allSatisfy { $0 == uniform }
      return SynapseGraph(
        sourceCount: sourceCount, targetCount: targetCount, rowStart: rowStart,
        targets: order.map { targets[Int($0)] }, weights: order.map { weights[Int($0)] },
        delays: allEqual ? [] : order.map { delays[Int($0)] }, uniformDelay: allEqual ? uniform : 0)
    }
  }

  /// A random graph in which each (source, target) pair is connected independently with
  /// probability `p` (autapses included when source and target populations are the same
  /// and `allowAutapses`), all with one weight and delay. Targets are drawn by geometric
  /// skips, so the cost is proportional to the number of synapses, not to
  /// sources × targets; rows come out sorted without a separate sort.
  public static func fixedProbability(
    sourceCount: Int, targetCount: Int, probability p: Double, weight: Float, delay: Float = 0,
    excludeSelf: Bool = false, using generator: inout some RandomNumberGenerator
  ) -> SynapseGraph {
    precondition(p >= 0 && p <= 1, "probability must be in [0, 1]")
    var rowStart = [Int](repeating: 0, count: sourceCount + 1)
    var targets: [Int32] = []
    targets.reserveCapacity(Int(Double(sourceCount) * Double(targetCount) * p * 1.05) + 16)
    for s in 0..<sourceCount {
      if p > 0 {
        var t = generator.nextGeometric(p: p)
        while t < targetCount {
          if !(excludeSelf && t == s) { targets.append(Int32(t)) }
          t += 1 + generator.nextGeometric(p: p)
        }
      }
      rowStart[s + 1] = targets.count
    }
    return SynapseGraph(
      sourceCount: sourceCount, targetCount: targetCount, rowStart: rowStart, targets: targets,
      weights: [Float](repeating: weight, count: targets.count), delays: [], uniformDelay: delay)
  }
}
