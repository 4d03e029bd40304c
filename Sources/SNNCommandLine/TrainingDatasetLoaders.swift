import SNN

/// The training commands' adapters from the `SNNDatasets` readers to ``LabelledDataset``.
///
/// - MNIST / Fashion-MNIST: the IDX files under `<root>/mnist` or `<root>/fashion-mnist`,
///   normalised per pixel with the dataset's statistics (``PixelNormalization``), 1 frame.
/// - N-MNIST: `<root>/nmnist/Train|Test` (folders or ZIP archives), else the shared subset
///   `<root>/nmnist-small`; each sample framed into T frames of equal event count,
///   2 polarity channels (OFF, ON), event counts as values (SpikingJelly's framing, spec
///   A5), `[T, 2, 34, 34]`.
enum TrainingDatasetLoaders {
  /// MNIST or Fashion-MNIST.
  static func images(_ variant: MNIST.Variant, split: TrainingDatasetEntry.Split, root: String)
    throws -> any LabelledDataset
  {
    let set = try MNIST.load(
      variant, split: split == .train ? .train : .test, root: DataRoot(path: root))
    return ImageLabelledDataset(images: set, normalization: variant.normalization)
  }

  /// N-MNIST framed into `request.timeSteps` frames.
  static func nmnist(split: TrainingDatasetEntry.Split, request: TrainingDatasetEntry.Request)
    throws -> any LabelledDataset
  {
    let root = DataRoot(path: request.dataRoot)
    let s: DatasetSplit = split == .train ? .train : .test
    let folder =
      FileIO.exists(root.appending(NMNIST.defaultFolder)) ? NMNIST.defaultFolder : "nmnist-small"
    let events = try NMNIST.load(split: s, root: root, folder: folder)
    return FramedEventLabelledDataset(
      events: events, framing: EventFraming(frameCount: request.timeSteps))
  }
}

/// Grey-scale images as a ``LabelledDataset``: `[1, 1, rows, cols]` normalised values.
struct ImageLabelledDataset: LabelledDataset, Sendable {
  let images: ImageDataset
  let table: [Float]

  init(images: ImageDataset, normalization: PixelNormalization) {
    self.images = images
    table = normalization.table
  }

  var name: String { images.name }
  var sampleCount: Int { images.count }
  var classCount: Int { images.classCount }
  var sampleShape: SampleShape {
    SampleShape(feature: FeatureShape(channels: 1, height: images.rows, width: images.cols))
  }

  func fill(indices: ArraySlice<Int>, inputs: inout [Float], labels: inout [Int]) {
    let n = images.pixelsPerImage
    for (row, index) in indices.enumerated() {
      let pixels = images.image(index)
      var k = row * n
      for p in pixels {
        inputs[k] = table[Int(p)]
        k += 1
      }
      labels[row] = Int(images.labels[index])
    }
  }
}

/// Event recordings framed per sample: `[T, C, H, W]` values.
struct FramedEventLabelledDataset: LabelledDataset, Sendable {
  let events: EventDataset
  let framing: EventFraming

  var name: String { events.name }
  var sampleCount: Int { events.count }
  var classCount: Int { 10 }
  var sampleShape: SampleShape {
    let shape = framing.outputShape(width: events.width, height: events.height)
    return SampleShape(
      frames: shape[0], feature: FeatureShape(channels: shape[1], height: shape[2], width: shape[3])
    )
  }

  func fill(indices: ArraySlice<Int>, inputs: inout [Float], labels: inout [Int]) {
    let n = sampleShape.elementCount
    for (row, index) in indices.enumerated() {
      let frames = framing.frames(events.sample(index))
      for k in 0..<n { inputs[row * n + k] = frames[k] }
      labels[row] = Int(events.labels[index])
    }
  }
}
