import SNNBase

/// A labelled classification dataset, as the trainer sees it.
///
/// The datasets module provides MNIST, Fashion-MNIST and N-MNIST through this protocol;
/// ``InMemoryDataset`` holds arrays (tests, synthetic data). The trainer decides the order
/// and asks for batches by index.
public protocol LabelledDataset {
  /// A short name for summaries (`mnist`, `nmnist`, `synthetic`).
  var name: String { get }
  var sampleCount: Int { get }
  /// Labels are in `0..<classCount`.
  var classCount: Int { get }
  var sampleShape: SampleShape { get }

  /// Writes samples `indices` (each in `0..<sampleCount`) into `inputs`, sample-major
  /// (`[indices.count, frames, C, H, W]`, `inputs.count == indices.count ·
  /// sampleShape.elementCount`), and their labels into `labels` (`labels.count ==
  /// indices.count`). The same index always gives the same values.
  func fill(indices: ArraySlice<Int>, inputs: inout [Float], labels: inout [Int]) throws
}
