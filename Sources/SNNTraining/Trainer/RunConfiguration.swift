import SNNBase

/// Everything that determines a training run's results: the method and its options, the
/// model, the data, the schedule and the seed. Stored in every checkpoint; a resumed run
/// must have the same configuration.
///
/// Runtime choices that do not change what is computed (paths, output format) are not
/// part of it. The thread count is not either, but see ``Trainer`` on reproducibility.
public struct RunConfiguration: Equatable, Sendable {
  public var method: String
  public var model: ModelSpec
  /// The dataset's name (`mnist`, `fashion-mnist`, `nmnist`, or a test dataset's).
  public var dataset: String
  /// Simulation time steps T per sample.
  public var timeSteps: Int
  public var epochs: Int
  public var batchSize: Int
  /// The run seed (0...Int64.max).
  public var seed: UInt64
  public var optimizer: OptimizerSettings
  public var methodOptions: MethodOptionValues
  /// Train on the first N training samples only (nil: all).
  public var trainSampleLimit: Int?
  /// Evaluate on the first N test samples only (nil: all).
  public var testSampleLimit: Int?

  public init(
    method: String, model: ModelSpec, dataset: String, timeSteps: Int, epochs: Int,
    batchSize: Int, seed: UInt64, optimizer: OptimizerSettings,
    methodOptions: MethodOptionValues = MethodOptionValues(), trainSampleLimit: Int? = nil,
    testSampleLimit: Int? = nil
  ) {
    self.method = method
    self.model = model
    self.dataset = dataset
    self.timeSteps = timeSteps
    self.epochs = epochs
    self.batchSize = batchSize
    self.seed = seed
    self.optimizer = optimizer
    self.methodOptions = methodOptions
    self.trainSampleLimit = trainSampleLimit
    self.testSampleLimit = testSampleLimit
  }

  /// Throws unless every value is in range (field names are the command-line options).
  public func validate() throws(ConfigurationError) {
    guard !method.isEmpty else { throw .missing(field: "--method", expected: "a method name") }
    try model.validate()
    guard timeSteps >= 1 else {
      throw .invalid(field: "--T", value: "\(timeSteps)", expected: "an integer ≥ 1")
    }
    guard epochs >= 1 else {
      throw .invalid(field: "--epochs", value: "\(epochs)", expected: "an integer ≥ 1")
    }
    guard batchSize >= 1 else {
      throw .invalid(field: "--batch", value: "\(batchSize)", expected: "an integer ≥ 1")
    }
    guard seed <= UInt64(Int64.max) else {
      throw .invalid(field: "--seed", value: "\(seed)", expected: "an integer in 0...\(Int64.max)")
    }
    try optimizer.validate(epochs: epochs)
    if let n = trainSampleLimit, n < 1 {
      throw .invalid(field: "--train-samples", value: "\(n)", expected: "an integer ≥ 1")
    }
    if let n = testSampleLimit, n < 1 {
      throw .invalid(field: "--test-samples", value: "\(n)", expected: "an integer ≥ 1")
    }
  }

  // MARK: JSON

  public var json: JSONValue {
    [
      "method": JSONValue(method),
      "model_notation": JSONValue(model.notation),
      "model": model.json,
      "dataset": JSONValue(dataset),
      "T": JSONValue(timeSteps),
      "epochs": JSONValue(epochs),
      "batch_size": JSONValue(batchSize),
      "seed": JSONValue(seed),
      "optimizer": optimizer.json,
      "method_options": methodOptions.json,
      "train_samples": trainSampleLimit.map { JSONValue($0) } ?? .null,
      "test_samples": testSampleLimit.map { JSONValue($0) } ?? .null,
    ]
  }

  /// Reads the JSON form strictly (unknown keys are errors; `model_notation` must agree
  /// with `model`).
  public init(json: JSONValue, field: String) throws(ConfigurationError) {
    var r = try JSONObjectReader(json, path: field)
    let method = try r.string("method")
    let notation = try r.string("model_notation")
    let model = try ModelSpec(
      json: try r.value("model", expected: "an object"), field: r.field("model"))
    guard model.notation == notation else {
      throw .invalid(
        field: r.field("model_notation"), value: notation,
        expected: "'\(model.notation)', the notation of the model")
    }
    let options = try JSONObjectReader(
      try r.value("method_options", expected: "an object"), path: r.field("method_options"))
    var entries: [(name: String, value: JSONValue)] = []
    var optionReader = options
    for key in options.keys { entries.append((key, optionReader.optional(key)!)) }
    func limit(_ key: String, _ r: inout JSONObjectReader) throws(ConfigurationError) -> Int? {
      let v = try r.value(key, expected: "an integer or null")
      return v == .null ? nil : try JSONObjectReader.int(v, field: r.field(key), in: 1...Int.max)
    }
    self.init(
      method: method, model: model, dataset: try r.string("dataset"),
      timeSteps: try r.int("T", in: 1...Int.max), epochs: try r.int("epochs", in: 1...Int.max),
      batchSize: try r.int("batch_size", in: 1...Int.max),
      seed: UInt64(try r.int("seed", in: 0...Int.max)),
      optimizer: try OptimizerSettings(
        json: try r.value("optimizer", expected: "an object"), field: r.field("optimizer")),
      methodOptions: MethodOptionValues(entries),
      trainSampleLimit: try limit("train_samples", &r),
      testSampleLimit: try limit("test_samples", &r))
    try r.finish()
  }

  /// The first top-level setting in which `other` differs, as (key, this value, other
  /// value), or nil when they are equal.
  public func firstDifference(from other: RunConfiguration) -> (
    key: String, mine: String, theirs: String
  )? {
    guard let mine = json.objectMembers, let theirs = other.json.objectMembers else { return nil }
    for (a, b) in zip(mine, theirs) where a.value != b.value {
      return (a.key, a.value.description, b.value.description)
    }
    return nil
  }
}
