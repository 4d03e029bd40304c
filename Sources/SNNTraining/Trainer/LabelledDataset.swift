import SNNBase

/// The shape of one sample: `frames` frames of `feature` each.
///
/// Static images have one frame, which the method presents at every time step; event data
/// binned into T frames (N-MNIST) has `frames == T`.
public struct SampleShape: Hashable, Sendable, CustomStringConvertible {
  public var frames: Int
  public var feature: FeatureShape

  public init(frames: Int = 1, feature: FeatureShape) {
    self.frames = frames
    self.feature = feature
  }

  /// Floats per sample: `frames · C · H · W`.
  public var elementCount: Int { frames * feature.elementCount }

  public var description: String { frames == 1 ? feature.description : "\(frames)×\(feature)" }
}

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

/// A dataset held in memory: `inputs` sample-major, one label per sample.
public struct InMemoryDataset: LabelledDataset, Sendable {
  public let name: String
  public let sampleShape: SampleShape
  public let classCount: Int
  public let inputs: [Float]
  public let labels: [Int]

  /// Throws when the counts disagree or a label is out of range.
  public init(
    name: String, sampleShape: SampleShape, classCount: Int, inputs: [Float], labels: [Int]
  ) throws(ConfigurationError) {
    guard classCount >= 1 else {
      throw .invalid(field: "\(name) class count", value: "\(classCount)", expected: "at least 1")
    }
    guard inputs.count == labels.count * sampleShape.elementCount else {
      throw .invalid(
        field: "\(name) inputs", value: "\(inputs.count) values",
        expected: "\(labels.count) samples × \(sampleShape.elementCount) values")
    }
    if let bad = labels.firstIndex(where: { !(0..<classCount).contains($0) }) {
      throw .invalid(
        field: "\(name) label of sample \(bad)", value: "\(labels[bad])",
        expected: "a label in 0..<\(classCount)")
    }
    self.name = name
    self.sampleShape = sampleShape
    self.classCount = classCount
    self.inputs = inputs
    self.labels = labels
  }

  public var sampleCount: Int { labels.count }

  public func fill(
    indices: ArraySlice<Int>, inputs batchInputs: inout [Float], labels batchLabels: inout [Int]
  ) {
    let n = sampleShape.elementCount
    precondition(batchInputs.count == indices.count * n && batchLabels.count == indices.count)
    inputs.withUnsafeBufferPointer { source in
      batchInputs.withUnsafeMutableBufferPointer { destination in
        for (row, index) in indices.enumerated() {
          precondition((0..<labels.count).contains(index), "sample index \(index) out of range")
          let from = source.baseAddress! + index * n
          (destination.baseAddress! + row * n).update(from: from, count: n)
        }
      }
    }
    for (row, index) in indices.enumerated() { batchLabels[row] = labels[index] }
  }
}

/// The first `count` samples of another dataset (`--train-samples`, `--test-samples`).
public struct DatasetPrefix: LabelledDataset {
  public let base: any LabelledDataset
  public let sampleCount: Int

  public init(_ base: any LabelledDataset, count: Int) {
    precondition(count >= 0)
    self.base = base
    sampleCount = min(count, base.sampleCount)
  }

  public var name: String { base.name }
  public var classCount: Int { base.classCount }
  public var sampleShape: SampleShape { base.sampleShape }

  public func fill(indices: ArraySlice<Int>, inputs: inout [Float], labels: inout [Int]) throws {
    try base.fill(indices: indices, inputs: &inputs, labels: &labels)
  }
}

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

/// The order of the training samples in an epoch: a pure function of the seed and the
/// epoch, so that a resumed run sees exactly the batches an uninterrupted run sees.
///
/// Epoch `e`'s order is `0..<n` shuffled (Fisher–Yates, ``Swift/Array/seededShuffle(using:)``)
/// by the generator of stream `("epoch-order", e)` of the seed (``RandomStreams``).
public enum EpochOrder {
  public static func permutation(sampleCount: Int, seed: UInt64, epoch: Int) -> [Int] {
    var order = Array(0..<sampleCount)
    var generator = RandomStreams.generator(seed, "epoch-order", epoch)
    order.seededShuffle(using: &generator)
    return order
  }
}
