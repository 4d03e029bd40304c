/// Labelled grey-scale images, stored compactly: one byte per pixel, one byte per label.
///
/// `pixels` holds `count` images of `rows × cols` bytes each, row-major, image after image
/// (60,000 MNIST training images are 47 MB). Normalised Float values are produced per
/// batch (see ``PixelNormalization``), never for the whole set at once.
public struct ImageDataset: Sendable, Equatable {
  /// A short name for messages, e.g. `mnist/train`.
  public var name: String
  public let count: Int
  public let rows: Int
  public let cols: Int
  /// `count × rows × cols` pixel intensities 0–255.
  public let pixels: [UInt8]
  /// `count` class labels, each below `classCount`.
  public let labels: [UInt8]
  /// The number of classes.
  public let classCount: Int

  /// Creates a dataset after checking that the sizes agree and every label is below
  /// `classCount`.
  ///
  /// - Throws: `DataFormatError` (`.sizeMismatch` or `.valueOutOfRange`, naming `name`).
  public init(
    name: String, count: Int, rows: Int, cols: Int, pixels: [UInt8], labels: [UInt8],
    classCount: Int = 10
  ) throws(DataFormatError) {
    guard count >= 0, rows > 0, cols > 0, pixels.count == count * rows * cols else {
      throw DataFormatError(
        path: name, offset: nil, kind: .sizeMismatch,
        detail: "\(pixels.count) pixel bytes for \(count) images of \(rows)x\(cols)")
    }
    guard labels.count == count else {
      throw DataFormatError(
        path: name, offset: nil, kind: .sizeMismatch,
        detail: "\(labels.count) labels for \(count) images")
    }
    if let bad = labels.firstIndex(where: { Int($0) >= classCount }) {
      throw DataFormatError(
        path: name, offset: nil, kind: .valueOutOfRange,
        detail: "label \(labels[bad]) of image \(bad) is not below \(classCount)")
    }
    self.name = name
    self.count = count
    self.rows = rows
    self.cols = cols
    self.pixels = pixels
    self.labels = labels
    self.classCount = classCount
  }

  /// Pixels per image (`rows × cols`).
  public var pixelsPerImage: Int { rows * cols }

  /// The pixels of image `index`.
  public func image(_ index: Int) -> ArraySlice<UInt8> {
    precondition(index >= 0 && index < count, "image index \(index) out of range 0..<\(count)")
    let n = pixelsPerImage
    return pixels[index * n..<(index + 1) * n]
  }

  /// How many images carry each label.
  public func labelHistogram() -> [Int] {
    var histogram = [Int](repeating: 0, count: classCount)
    for label in labels { histogram[Int(label)] += 1 }
    return histogram
  }

  /// The mean and standard deviation of all pixels scaled to [0, 1] (population
  /// statistics over every pixel of every image).
  public func pixelStatistics() -> (mean: Double, std: Double) {
    var histogram = [Int](repeating: 0, count: 256)
    pixels.withUnsafeBufferPointer { p in
      for v in p { histogram[Int(v)] += 1 }
    }
    let n = Double(pixels.count)
    var sum = 0.0
    var sumSquares = 0.0
    for (v, c) in histogram.enumerated() {
      let x = Double(v) / 255
      sum += Double(c) * x
      sumSquares += Double(c) * x * x
    }
    let mean = sum / n
    return (mean, (sumSquares / n - mean * mean).squareRoot())
  }

  /// The first `n` images (for quick experiments and tests).
  public func prefix(_ n: Int) -> ImageDataset {
    let k = min(max(n, 0), count)
    // The checks cannot fail on a prefix of a valid dataset.
    return try! ImageDataset(
      name: name, count: k, rows: rows, cols: cols, pixels: Array(pixels[..<(k * pixelsPerImage)]),
      labels: Array(labels[..<k]), classCount: classCount)
  }
}
