import SNNBase

/// A run's learning curves — error and loss per epoch, on the training set (running, as
/// the epoch trained) and on the test set — drawn as two SVG line charts.
///
/// Built from the trainer's history (`snn train --curves`, written after every epoch) or
/// from the `history` of a run summary (`snn train --json`) or of a checkpoint
/// (`snn curves`).
public struct TrainingCurves: Sendable, Equatable {
  /// One epoch's figures; accuracies in [0, 1].
  public struct Point: Sendable, Equatable {
    public var epoch: Int
    public var learningRate: Double
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var testLoss: Double?
    public var testAccuracy: Double?

    public init(
      epoch: Int, learningRate: Double, trainLoss: Double, trainAccuracy: Double,
      testLoss: Double? = nil, testAccuracy: Double? = nil
    ) {
      self.epoch = epoch
      self.learningRate = learningRate
      self.trainLoss = trainLoss
      self.trainAccuracy = trainAccuracy
      self.testLoss = testLoss
      self.testAccuracy = testAccuracy
    }

    public init(_ record: EpochRecord) {
      self.init(
        epoch: record.epoch, learningRate: record.learningRate, trainLoss: record.train.loss,
        trainAccuracy: record.train.accuracy, testLoss: record.test?.loss,
        testAccuracy: record.test?.accuracy)
    }
  }

  public var points: [Point]
  /// The charts' title, e.g. "spide 15C5p2-AP2-40C5p2-AP2-300-10 on mnist, T 30".
  public var title: String

  public init(points: [Point], title: String) {
    self.points = points
    self.title = title
  }

  public init(history: [EpochRecord], title: String) {
    self.init(points: history.map(Point.init), title: title)
  }

  /// The title `snn train` uses for a run.
  public static func title(for configuration: RunConfiguration) -> String {
    "\(configuration.method) \(configuration.model.notation) on \(configuration.dataset), "
      + "T \(configuration.timeSteps)"
  }

  /// Reads the `history` array of a run summary (the JSON of `snn train --json`); `field`
  /// names the summary in errors (e.g. the file's path). The title comes from the summary's
  /// `method`, `model`, `dataset` and `T` when present.
  public init(summary: JSONValue, field: String) throws(ConfigurationError) {
    guard let history = summary["history"]?.arrayValue else {
      throw .missing(
        field: field + ".history", expected: "an array of epochs (the JSON of 'snn train --json')")
    }
    var points: [Point] = []
    for (i, entry) in history.enumerated() {
      let path = "\(field).history[\(i)]"
      func number(_ key: String) throws(ConfigurationError) -> Double {
        guard let v = entry[key]?.doubleValue, v.isFinite else {
          throw .missing(field: path + "." + key, expected: "a finite number")
        }
        return v
      }
      func optionalNumber(_ key: String) throws(ConfigurationError) -> Double? {
        guard let v = entry[key], v != .null else { return nil }
        guard let d = v.doubleValue, d.isFinite else {
          throw .invalid(field: path + "." + key, value: v.description, expected: "a finite number or null")
        }
        return d
      }
      guard let epoch = entry["epoch"]?.intValue, epoch >= 1 else {
        throw .missing(field: path + ".epoch", expected: "an epoch number from 1")
      }
      points.append(
        Point(
          epoch: epoch, learningRate: try number("learning_rate"), trainLoss: try number("train_loss"),
          trainAccuracy: try number("train_accuracy"), testLoss: try optionalNumber("test_loss"),
          testAccuracy: try optionalNumber("test_accuracy")))
    }
    let parts = ["method", "model", "dataset"].compactMap { summary[$0]?.stringValue }
    let title =
      parts.count == 3
      ? "\(parts[0]) \(parts[1]) on \(parts[2])" + (summary["T"]?.intValue.map { ", T \($0)" } ?? "")
      : "training run"
    self.init(points: points, title: title)
  }

  /// Error (100 − accuracy, in %) per epoch, on a logarithmic axis when every value is
  /// positive (late epochs of a good run differ by tenths of a percent).
  public func errorChart() -> String {
    chart("error", unit: " (%)") { 100 * (1 - $0) } train: { $0.trainAccuracy } test: { $0.testAccuracy }
  }

  /// Cross-entropy loss per epoch (training: running mean over the epoch).
  public func lossChart() -> String {
    chart("loss", unit: "") { $0 } train: { $0.trainLoss } test: { $0.testLoss }
  }

  /// The training and test series of one quantity (`value` of the figure each point
  /// holds), on a logarithmic axis when every value is positive.
  private func chart(
    _ quantity: String, unit: String, value: (Double) -> Double, train: (Point) -> Double,
    test: (Point) -> Double?
  ) -> String {
    let series = [
      ("train \(quantity) (running)", points.map { (x: Double($0.epoch), y: value(train($0))) }),
      ("test \(quantity)", points.compactMap { p in test(p).map { (x: Double(p.epoch), y: value($0)) } }),
    ].filter { !$0.1.isEmpty }
    let positive = !series.isEmpty && series.allSatisfy { $0.1.allSatisfy { $0.y > 0 } }
    return Plot.lineChart(
      series: series.map { (label: $0.0, points: $0.1) },
      title: quantity.prefix(1).uppercased() + quantity.dropFirst() + " per epoch: " + title,
      xLabel: "epoch", yLabel: quantity + unit + (positive ? ", log scale" : ""), logY: positive)
  }

  /// Writes the error chart to `path` and the loss chart next to it
  /// (``lossPath(_:)``), each atomically.
  public func write(to path: String) throws(FileError) {
    try FileIO.writeAtomically(errorChart(), to: path)
    try FileIO.writeAtomically(lossChart(), to: TrainingCurves.lossPath(path))
  }

  /// `curves.svg` → `curves-loss.svg`.
  public static func lossPath(_ path: String) -> String {
    Plot.siblingPath(path, suffix: "-loss")
  }
}
