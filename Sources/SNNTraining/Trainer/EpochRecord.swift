import SNNBase

/// The results of one training epoch.
public struct EpochRecord: Sendable {
  /// The epoch number, from 1.
  public var epoch: Int
  /// The scheduled learning rate of the epoch (before warm-up).
  public var learningRate: Double
  public var train: MetricsAccumulator
  /// The evaluation on the test set after the epoch, when one ran.
  public var test: MetricsAccumulator?
  /// The method's per-epoch diagnostics (``TrainingMethod/epochDidEnd(epoch:)``).
  public var extra: [(key: String, value: JSONValue)]
  /// Wall-clock seconds of the training batches and of the evaluation (not reproducible;
  /// excluded from ``isBitIdentical(to:)``).
  public var trainSeconds: Double
  public var testSeconds: Double

  public init(
    epoch: Int, learningRate: Double, train: MetricsAccumulator, test: MetricsAccumulator?,
    extra: [(key: String, value: JSONValue)], trainSeconds: Double, testSeconds: Double
  ) {
    self.epoch = epoch
    self.learningRate = learningRate
    self.train = train
    self.test = test
    self.extra = extra
    self.trainSeconds = trainSeconds
    self.testSeconds = testSeconds
  }

  /// Same results, timings aside.
  public func isBitIdentical(to other: EpochRecord) -> Bool {
    epoch == other.epoch && learningRate.bitPattern == other.learningRate.bitPattern
      && train.isBitIdentical(to: other.train)
      && (test == nil) == (other.test == nil)
      && (test.map { t in other.test.map { t.isBitIdentical(to: $0) } ?? false } ?? true)
      && JSONValue.object(extra) == JSONValue.object(other.extra)
  }

  /// The raw form stored in checkpoints.
  public var json: JSONValue {
    [
      "epoch": JSONValue(epoch), "learning_rate": number(learningRate), "train": train.json,
      "test": test?.json ?? .null, "extra": .object(extra),
      "train_seconds": number(trainSeconds), "test_seconds": number(testSeconds),
    ]
  }

  public init(json: JSONValue, field: String) throws(ConfigurationError) {
    var r = try JSONObjectReader(json, path: field)
    epoch = try r.int("epoch", in: 1...Int.max)
    learningRate = try MetricsAccumulator.readNumber(
      try r.value("learning_rate", expected: "a number"), r.field("learning_rate"))
    train = try MetricsAccumulator(
      json: try r.value("train", expected: "an object"), field: r.field("train"))
    let t = try r.value("test", expected: "an object or null")
    test = t == .null ? nil : try MetricsAccumulator(json: t, field: r.field("test"))
    let e = try r.value("extra", expected: "an object")
    guard let members = e.objectMembers else {
      throw .invalid(field: r.field("extra"), value: e.kindName, expected: "an object")
    }
    extra = members
    trainSeconds = try MetricsAccumulator.readNumber(
      try r.value("train_seconds", expected: "a number"), r.field("train_seconds"))
    testSeconds = try MetricsAccumulator.readNumber(
      try r.value("test_seconds", expected: "a number"), r.field("test_seconds"))
    try r.finish()
  }

  /// The readable form in run summaries.
  public var summaryJSON: JSONValue {
    var members: [(key: String, value: JSONValue)] = [
      ("epoch", JSONValue(epoch)), ("learning_rate", number(learningRate)),
    ]
    members += train.summary(prefix: "train_")
    if let test { members += test.summary(prefix: "test_") }
    members.append(("train_seconds", number(trainSeconds)))
    members.append(("test_seconds", number(testSeconds)))
    members.append(("extra", .object(extra)))
    return .object(members)
  }
}
