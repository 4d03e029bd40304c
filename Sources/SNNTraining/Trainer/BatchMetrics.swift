import SNNBase

/// What a method measured on one batch. The trainer sums these over an epoch.
public struct BatchMetrics: Sendable {
  public var sampleCount: Int
  /// The sum over the batch of each sample's loss (the mean is `lossSum / sampleCount`).
  public var lossSum: Double
  /// Samples whose prediction equals the label.
  public var correctCount: Int
  /// Operation counts of the forward pass(es) on this batch (per layer: synaptic
  /// accumulates, MACs, neuron updates, spikes), when the method counts them. The firing
  /// rate of a layer is `spikes / neuronUpdates`. Layer names must stay the same from batch
  /// to batch.
  public var operations: SynOpCounter?
  /// Method-specific additive quantities, summed over batches and reported per sample
  /// (divided by the sample count), e.g. `("backward_events", 1.2e6)`.
  public var extraSums: [(key: String, value: Double)]

  public init(
    sampleCount: Int, lossSum: Double, correctCount: Int, operations: SynOpCounter? = nil,
    extraSums: [(key: String, value: Double)] = []
  ) {
    self.sampleCount = sampleCount
    self.lossSum = lossSum
    self.correctCount = correctCount
    self.operations = operations
    self.extraSums = extraSums
  }
}
