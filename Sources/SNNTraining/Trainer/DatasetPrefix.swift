import SNNBase

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
