/// All-to-all connectivity: every source reaches every target through a weight matrix.
///
/// `weights[source * targetCount + target]` (row-major by source), so a spike's fan-out is
/// one contiguous row: delivery is a vector loop, with no target indices stored at all.
/// The transposed view reads column `target` with stride `targetCount`.
public struct DenseConnectivity: Sendable {
  public let sourceCount: Int
  public let targetCount: Int
  public var weights: [Float]
  /// One delay for every synapse.
  public var delay: Float

  public init(sourceCount: Int, targetCount: Int, weights: [Float], delay: Float = 0) {
    precondition(weights.count == sourceCount * targetCount, "weights must have sourceCount × targetCount entries")
    precondition(delay >= 0 && delay.isFinite, "delay must be finite and non-negative")
    self.sourceCount = sourceCount
    self.targetCount = targetCount
    self.weights = weights
    self.delay = delay
  }

  public var synapseCount: Int { sourceCount * targetCount }

  /// The offset of `source`'s row in `weights`.
  @inlinable public func rowOffset(_ source: Int) -> Int { source * targetCount }
}
