import SNNBase

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
