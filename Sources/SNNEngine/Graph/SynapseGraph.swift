import SNNBase

/// An explicit sparse synapse graph in compressed-sparse-row form, sorted by source.
///
/// Row `s` holds the synapses of source neuron `s` in `rowStart[s] ..< rowStart[s + 1]`,
/// as parallel arrays: local target index, weight and delay. Within a row, synapses are
/// ordered by delay and then by target, so the synapses that share a delay form one
/// contiguous run: a spike schedules one delivery per distinct delay, and each delivery
/// walks a contiguous slice. Graphs are built with ``Builder`` and frozen by
/// ``Builder/finalize()``; they do not change afterwards, which makes them `Sendable`.
public struct SynapseGraph: Sendable {
  public let sourceCount: Int
  public let targetCount: Int
  /// `sourceCount + 1` offsets into the synapse arrays.
  public let rowStart: [Int]
  public let targets: [Int32]
  public let weights: [Float]
  /// Per-synapse delays in the graph's time unit, or empty when every delay equals
  /// ``uniformDelay``.
  public let delays: [Float]
  public let uniformDelay: Float

  public var synapseCount: Int { targets.count }
  public var hasUniformDelay: Bool { delays.isEmpty }

  /// The synapse index range of `source`.
  @inlinable public func row(_ source: Int) -> Range<Int> { rowStart[source]..<rowStart[source + 1] }

  /// The delay of synapse `index`.
  @inlinable public func delay(_ index: Int) -> Float { delays.isEmpty ? uniformDelay : delays[index] }

  /// Creates a graph from finished CSR arrays (validated).
  public init(
    sourceCount: Int, targetCount: Int, rowStart: [Int], targets: [Int32], weights: [Float],
    delays: [Float] = [], uniformDelay: Float = 0
  ) {
    precondition(rowStart.count == sourceCount + 1 && rowStart.first == 0 && rowStart.last == targets.count)
    precondition(weights.count == targets.count && (delays.isEmpty || delays.count == targets.count))
    self.sourceCount = sourceCount
    self.targetCount = targetCount
    self.rowStart = rowStart
    self.targets = targets
    self.weights = weights
    self.delays = delays
    self.uniformDelay = uniformDelay
  }

  /// The largest delay of any synapse (the uniform delay for an empty graph).
  public var maximumDelay: Float { delays.max() ?? uniformDelay }
}

extension SynapseGraph {
  /// The transposed graph (targets → sources), for backward passes: row `t` lists the
  /// synapses onto target `t`. `synapseIndex[k]` maps entry `k` of the transpose back to the
  /// synapse in this graph, so gradients can be accumulated per synapse.
  public struct Transposed: Sendable {
    public let rowStart: [Int]
    /// The source of each entry.
    public let sources: [Int32]
    /// The index of each entry's synapse in the forward graph.
    public let synapseIndex: [Int32]

    @inlinable public func row(_ target: Int) -> Range<Int> { rowStart[target]..<rowStart[target + 1] }
  }

  /// Builds the transposed view by a counting sort on targets (stable: sources ascend
  /// within each row).
  public func transposed() -> Transposed {
    var counts = [Int](repeating: 0, count: targetCount + 1)
    for t in targets { counts[Int(t) + 1] += 1 }
    for i in 0..<targetCount { counts[i + 1] += counts[i] }
    var fill = counts
    var sources = [Int32](repeating: 0, count: synapseCount)
    var index = [Int32](repeating: 0, count: synapseCount)
    for s in 0..<sourceCount {
      for k in row(s) {
        let t = Int(targets[k])
        sources[fill[t]] = Int32(s)
        index[fill[t]] = Int32(k)
        fill[t] += 1
      }
    }
    return Transposed(rowStart: counts, sources: sources, synapseIndex: index)
  }
}
