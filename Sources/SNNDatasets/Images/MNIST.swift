import SNNBase

/// The MNIST and Fashion-MNIST datasets in their original IDX files.
///
/// Layout under the data root: `mnist/` and `fashion-mnist/`, each holding
/// `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`
/// and `t10k-labels-idx1-ubyte.gz`; the uncompressed names (without `.gz`) are accepted
/// too. Images are an IDX ubyte array of shape [count, rows, cols], labels one of shape
/// [count] with values 0–9.
public enum MNIST {
  /// Which dataset.
  public enum Variant: String, Sendable, CaseIterable, Equatable {
    case mnist
    case fashionMNIST

    /// The folder under the data root.
    public var folder: String {
      switch self {
      case .mnist: return "mnist"
      case .fashionMNIST: return "fashion-mnist"
      }
    }

    /// The usual normalisation for this dataset.
    public var normalization: PixelNormalization {
      self == .mnist ? .mnist : .fashionMNIST
    }

    /// Class names (digits, or Fashion-MNIST's clothing classes).
    public var classNames: [String] {
      switch self {
      case .mnist: return (0..<10).map(String.init)
      case .fashionMNIST:
        return [
          "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
          "Bag", "Ankle boot",
        ]
      }
    }
  }

  /// The file names of a split, without `.gz`: (images, labels).
  public static func fileNames(_ split: DatasetSplit) -> (images: String, labels: String) {
    let prefix = split == .train ? "train" : "t10k"
    return ("\(prefix)-images-idx3-ubyte", "\(prefix)-labels-idx1-ubyte")
  }

  /// Loads one split of MNIST or Fashion-MNIST from `root`.
  ///
  /// - Throws: `DatasetError.notFound` naming every path tried and how to fix it;
  ///   `.file` for unreadable files; `.malformed` for bad gzip or IDX data, image and label
  ///   counts that differ, or labels of 10 or more.
  public static func load(_ variant: Variant, split: DatasetSplit, root: DataRoot)
    throws(DatasetError)
    -> ImageDataset
  {
    let names = fileNames(split)
    let folder = root.appending(variant.folder)
    let images = try locate(folder: folder, name: names.images, dataset: variant.folder, root: root)
    let labels = try locate(folder: folder, name: names.labels, dataset: variant.folder, root: root)
    return try load(
      imagesPath: images, labelsPath: labels, name: "\(variant.folder)/\(split.rawValue)")
  }

  /// The path of `name.gz` or `name` in `folder`, whichever exists (`.gz` first).
  static func locate(folder: String, name: String, dataset: String, root: DataRoot)
    throws(DatasetError) -> String
  {
    let candidates = [folder + "/" + name + ".gz", folder + "/" + name]
    for path in candidates where FileIO.exists(path) { return path }
    throw .notFound(DatasetNotFound(dataset: dataset, root: root, searched: candidates))
  }

  /// Loads an image file and a label file (IDX, optionally gzip-compressed).
  public static func load(imagesPath: String, labelsPath: String, name: String) throws(DatasetError)
    -> ImageDataset
  {
    let images = try IDXArray.read(imagesPath)
    let labels = try IDXArray.read(labelsPath)
    do {
      return try dataset(
        images: images, imagesPath: imagesPath, labels: labels, labelsPath: labelsPath, name: name)
    } catch {
      throw .malformed(error)
    }
  }

  /// Checks the IDX arrays' types and shapes and builds the dataset.
  static func dataset(
    images: IDXArray, imagesPath: String, labels: IDXArray, labelsPath: String, name: String
  ) throws(DataFormatError) -> ImageDataset {
    guard images.dataType == .uint8, images.shape.count == 3 else {
      throw DataFormatError(
        path: imagesPath, offset: 2, kind: .badHeader,
        detail:
          "expected a ubyte array of 3 dimensions [count, rows, cols], found \(images.dataType.name) \(images.shape)"
      )
    }
    guard labels.dataType == .uint8, labels.shape.count == 1 else {
      throw DataFormatError(
        path: labelsPath, offset: 2, kind: .badHeader,
        detail:
          "expected a ubyte array of 1 dimension [count], found \(labels.dataType.name) \(labels.shape)"
      )
    }
    guard images.shape[0] == labels.shape[0] else {
      throw DataFormatError(
        path: labelsPath, offset: 4, kind: .sizeMismatch,
        detail: "\(labels.shape[0]) labels for \(images.shape[0]) images in \(imagesPath)")
    }
    if let bad = labels.payload.firstIndex(where: { $0 >= 10 }) {
      throw DataFormatError(
        path: labelsPath, offset: 8 + bad, kind: .valueOutOfRange,
        detail: "label \(labels.payload[bad]) of item \(bad) (expected 0-9)")
    }
    return try ImageDataset(
      name: name, count: images.shape[0], rows: images.shape[1], cols: images.shape[2],
      pixels: images.payload, labels: labels.payload)
  }
}
