import SNNBase
import SNNDatasets

/// An ``SNNDatasets/ImageDataset`` (MNIST, Fashion-MNIST) as a ``LabelledDataset``: one
/// static frame of `1 × rows × cols` per sample, pixels mapped by a `PixelNormalization`
/// (x = (p/255 − mean)/std), which the dense methods inject as current at every step.
public struct ImageClassificationDataset: LabelledDataset, Sendable {
  public let images: ImageDataset
  public let normalization: PixelNormalization
  public let name: String

  public init(_ images: ImageDataset, normalization: PixelNormalization, name: String? = nil) {
    self.images = images
    self.normalization = normalization
    self.name = name ?? images.name
  }

  /// Loads one split of MNIST or Fashion-MNIST from `root` with the dataset's usual
  /// normalization (MNIST: mean 0.1307, std 0.3081; Fashion-MNIST: 0.2860, 0.3530).
  public static func load(_ variant: MNIST.Variant, split: DatasetSplit, root: DataRoot)
    throws(DatasetError) -> ImageClassificationDataset
  {
    ImageClassificationDataset(
      try MNIST.load(variant, split: split, root: root), normalization: variant.normalization)
  }

  public var sampleCount: Int { images.count }
  public var classCount: Int { images.classCount }
  public var sampleShape: SampleShape {
    SampleShape(
      frames: 1, feature: FeatureShape(channels: 1, height: images.rows, width: images.cols))
  }

  public func fill(indices: ArraySlice<Int>, inputs: inout [Float], labels: inout [Int]) throws {
    images.normalizedBatch(indices, normalization, into: &inputs)
    for (row, index) in indices.enumerated() { labels[row] = Int(images.labels[index]) }
  }
}
