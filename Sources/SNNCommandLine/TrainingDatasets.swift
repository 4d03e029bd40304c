import SNN
import Synchronization

/// A dataset `snn train` and `snn evaluate` can load by name (`--dataset mnist`).
public struct TrainingDatasetEntry: Sendable {
  public enum Split: String, Sendable {
    case train
    case test
  }

  /// What a loader needs to know.
  public struct Request: Sendable {
    /// The data folder (`--data`, else `SNN_DATA`, else `~/.snn/data`) and where it came
    /// from (for "not found" messages).
    public var root: DataRoot
    /// Simulation steps T (event data is binned into T frames).
    public var timeSteps: Int

    public init(root: DataRoot, timeSteps: Int) {
      self.root = root
      self.timeSteps = timeSteps
    }

    /// The data folder's path.
    public var dataRoot: String { root.path }
  }

  public var name: String
  public var summary: String
  /// The feature shape of one frame (`1×28×28`, `2×34×34`): known before loading, so the
  /// model notation can be checked at once.
  public var feature: FeatureShape
  public var classCount: Int
  public var load: @Sendable (Split, Request) throws -> any LabelledDataset

  public init(
    name: String, summary: String, feature: FeatureShape, classCount: Int,
    load: @escaping @Sendable (Split, Request) throws -> any LabelledDataset
  ) {
    self.name = name
    self.summary = summary
    self.feature = feature
    self.classCount = classCount
    self.load = load
  }
}

/// The datasets known to the training commands, by name.
public final class TrainingDatasetCatalog: Sendable {
  private let storage: Mutex<[TrainingDatasetEntry]>

  public init(_ entries: [TrainingDatasetEntry]) { storage = Mutex(entries) }

  /// The catalog the commands use.
  public static let shared = TrainingDatasetCatalog(builtIn)

  public var entries: [TrainingDatasetEntry] { storage.withLock { $0 } }
  public var names: [String] { entries.map(\.name) }

  /// Adds an entry, replacing one of the same name.
  public func register(_ entry: TrainingDatasetEntry) {
    storage.withLock { list in
      if let i = list.firstIndex(where: { $0.name == entry.name }) {
        list[i] = entry
      } else {
        list.append(entry)
      }
    }
  }

  /// The entry named `name`; the error lists the known names.
  public func lookup(_ name: String, field: String = "--dataset") throws(ConfigurationError)
    -> TrainingDatasetEntry
  {
    guard let entry = entries.first(where: { $0.name == name }) else {
      throw .unknown(field: "dataset (\(field))", value: name, allowed: names)
    }
    return entry
  }

  /// MNIST, Fashion-MNIST (static images, normalized with each dataset's mean and std) and
  /// N-MNIST (events binned into T frames of equal event count, 2 polarity channels, counts
  /// per pixel). N-MNIST is read from `nmnist/` under the data folder, or, when that is
  /// absent, from `nmnist-small/` (the 1,000 + 100 sample subset); the dataset's name says
  /// which.
  public static let builtIn: [TrainingDatasetEntry] = [
    TrainingDatasetEntry(
      name: "mnist", summary: "MNIST handwritten digits, 1×28×28, 10 classes",
      feature: FeatureShape(channels: 1, height: 28, width: 28), classCount: 10,
      load: { split, request in try loadImages(.mnist, split, request) }),
    TrainingDatasetEntry(
      name: "fashion-mnist", summary: "Fashion-MNIST, 1×28×28, 10 classes",
      feature: FeatureShape(channels: 1, height: 28, width: 28), classCount: 10,
      load: { split, request in try loadImages(.fashionMNIST, split, request) }),
    TrainingDatasetEntry(
      name: "nmnist",
      summary:
        "N-MNIST events binned into T frames, 2×34×34, 10 classes (nmnist/, else nmnist-small/)",
      feature: FeatureShape(channels: 2, height: 34, width: 34), classCount: 10,
      load: { split, request in try loadNMNIST(split, request) }),
  ]

  static func loadImages(
    _ variant: MNIST.Variant, _ split: TrainingDatasetEntry.Split,
    _ request: TrainingDatasetEntry.Request
  ) throws(DatasetError) -> any LabelledDataset {
    try ImageClassificationDataset.load(
      variant, split: split == .train ? .train : .test,
      root: request.root)
  }

  static func loadNMNIST(
    _ split: TrainingDatasetEntry.Split, _ request: TrainingDatasetEntry.Request
  )
    throws(DatasetError) -> any LabelledDataset
  {
    let root = request.root
    let folder =
      FileIO.exists(root.appending(NMNIST.defaultFolder)) ? NMNIST.defaultFolder : "nmnist-small"
    let events = try NMNIST.load(
      split: split == .train ? .train : .test, root: root, folder: folder)
    return FramedEventDataset(
      events, framing: EventFraming(frameCount: request.timeSteps, split: .equalCount))
  }
}
