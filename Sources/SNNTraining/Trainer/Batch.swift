import SNNBase

/// One mini-batch, sample-major.
public struct Batch: Sendable {
  public var sampleShape: SampleShape
  /// The dataset indices of the samples, in batch order.
  public var indices: [Int]
  /// `[count, frames, C, H, W]`.
  public var inputs: [Float]
  public var labels: [Int]

  public init(sampleShape: SampleShape, indices: [Int], inputs: [Float], labels: [Int]) {
    precondition(inputs.count == indices.count * sampleShape.elementCount)
    precondition(labels.count == indices.count)
    self.sampleShape = sampleShape
    self.indices = indices
    self.inputs = inputs
    self.labels = labels
  }

  /// Samples in the batch.
  public var count: Int { indices.count }

  /// Reads the samples `indices` of `dataset` into a batch.
  public static func load(_ indices: ArraySlice<Int>, from dataset: any LabelledDataset) throws
    -> Batch
  {
    var inputs = [Float](repeating: 0, count: indices.count * dataset.sampleShape.elementCount)
    var labels = [Int](repeating: 0, count: indices.count)
    try dataset.fill(indices: indices, inputs: &inputs, labels: &labels)
    return Batch(
      sampleShape: dataset.sampleShape, indices: Array(indices), inputs: inputs, labels: labels)
  }
}
