/// Many event recordings in one set of flat columns: the events of sample i are
/// `offsets[i] ..< offsets[i + 1]` of `x`, `y`, `polarity` and `timestamp`.
///
/// Seven bytes per event (x, y, polarity one byte each, a 32-bit timestamp); the full
/// N-MNIST training set (~250 M events) takes about 1.7 GB, its first saccades about a
/// third of that. Sample order is deterministic (for N-MNIST: label, then numeric id).
public struct EventDataset: Sendable, Equatable {
  /// A short name for messages, e.g. `nmnist/train`.
  public var name: String
  public let width: Int
  public let height: Int
  public internal(set) var x: [UInt8]
  public internal(set) var y: [UInt8]
  public internal(set) var polarity: [UInt8]
  public internal(set) var timestamp: [UInt32]
  /// `count + 1` event offsets; `offsets[0] == 0`, `offsets[count] == eventCount`.
  public internal(set) var offsets: [Int]
  public internal(set) var labels: [UInt8]
  /// Where each sample came from (`Train/3/00012.bin`), relative to the folder or archive.
  public internal(set) var sources: [String]

  public init(name: String, width: Int, height: Int) {
    self.name = name
    self.width = width
    self.height = height
    x = []
    y = []
    polarity = []
    timestamp = []
    offsets = [0]
    labels = []
    sources = []
  }

  /// The number of samples.
  public var count: Int { labels.count }
  /// The number of events over all samples.
  public var eventCount: Int { x.count }

  /// The event range of sample `index`.
  public func eventRange(_ index: Int) -> Range<Int> {
    precondition(index >= 0 && index < count, "sample index \(index) out of range 0..<\(count)")
    return offsets[index]..<offsets[index + 1]
  }

  /// A copy of sample `index`.
  public func sample(_ index: Int) -> EventSample {
    let r = eventRange(index)
    return EventSample(
      x: Array(x[r]), y: Array(y[r]), polarity: Array(polarity[r]), timestamp: Array(timestamp[r]),
      label: labels[index], width: width, height: height)
  }

  /// Appends a sample.
  public mutating func append(_ sample: EventSample, source: String = "") {
    precondition(
      sample.width == width && sample.height == height, "sample size differs from the dataset's")
    x += sample.x
    y += sample.y
    polarity += sample.polarity
    timestamp += sample.timestamp
    offsets.append(x.count)
    labels.append(sample.label)
    sources.append(source)
  }

  /// Appends all samples of `other` (same sensor size).
  mutating func append(contentsOf other: EventDataset) {
    precondition(
      other.width == width && other.height == height, "sample size differs from the dataset's")
    let base = x.count
    x += other.x
    y += other.y
    polarity += other.polarity
    timestamp += other.timestamp
    offsets += other.offsets.dropFirst().map { $0 + base }
    labels += other.labels
    sources += other.sources
  }

  /// How many samples carry each label (0–9).
  public func labelHistogram(classCount: Int = 10) -> [Int] {
    var histogram = [Int](repeating: 0, count: classCount)
    for label in labels where Int(label) < classCount { histogram[Int(label)] += 1 }
    return histogram
  }

  /// Events per sample: (mean, min, max); zeros for an empty dataset.
  public func eventsPerSample() -> (mean: Double, min: Int, max: Int) {
    guard count > 0 else { return (0, 0, 0) }
    var lo = Int.max, hi = 0
    for i in 0..<count {
      let n = offsets[i + 1] - offsets[i]
      lo = Swift.min(lo, n)
      hi = Swift.max(hi, n)
    }
    return (Double(eventCount) / Double(count), lo, hi)
  }
}
