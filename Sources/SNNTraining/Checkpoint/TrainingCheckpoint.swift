import SNNBase

/// A training run's complete state at a batch boundary: the configuration, the position
/// (epochs and batches completed), the metric history, the partial sums of the current
/// epoch, the timing, and the method's state. Written after every epoch (and on request);
/// ``Trainer/restore(from:)`` continues from it bit for bit.
///
/// The header JSON has the keys `format`, `configuration` (``RunConfiguration``),
/// `progress` (`epochs_completed`, `batches_completed` in the current epoch,
/// `global_step`), `random_states` (each generator as four hex words), `history` (raw
/// ``EpochRecord``s), `current_epoch` (raw sums of the epoch in progress), `timing`,
/// `threads`, `method_state` (the method's JSON); the method's arrays are the blobs.
public struct TrainingCheckpoint: Sendable {
  public static let formatName = "swift-snn training checkpoint"

  public var configuration: RunConfiguration
  public var epochsCompleted: Int
  /// Batches completed in epoch `epochsCompleted` (0 at an epoch boundary).
  public var batchesCompleted: Int
  /// Batches completed over the run.
  public var globalStep: Int
  public var history: [EpochRecord]
  /// Sums over the first `batchesCompleted` batches of the current epoch.
  public var currentEpoch: MetricsAccumulator
  public var timing: TrainingTiming
  /// `Parallel.defaultThreads` of the run that wrote it (kernels may reduce in
  /// thread-dependent chunks, so bit-identical resumption assumes the same count).
  public var threads: Int
  public var methodState: MethodState

  public init(
    configuration: RunConfiguration, epochsCompleted: Int, batchesCompleted: Int,
    globalStep: Int, history: [EpochRecord], currentEpoch: MetricsAccumulator,
    timing: TrainingTiming, threads: Int, methodState: MethodState
  ) {
    self.configuration = configuration
    self.epochsCompleted = epochsCompleted
    self.batchesCompleted = batchesCompleted
    self.globalStep = globalStep
    self.history = history
    self.currentEpoch = currentEpoch
    self.timing = timing
    self.threads = threads
    self.methodState = methodState
  }

  // MARK: Header

  public var header: JSONValue {
    [
      "format": JSONValue(TrainingCheckpoint.formatName),
      "configuration": configuration.json,
      "progress": [
        "epochs_completed": JSONValue(epochsCompleted),
        "batches_completed": JSONValue(batchesCompleted), "global_step": JSONValue(globalStep),
      ],
      "random_states": .object(
        methodState.generators.map { g in
          let (a, b, c, d) = g.state.state
          return (g.name, JSONValue.array([a, b, c, d].map { JSONValue(hexWord($0)) }))
        }),
      "history": .array(history.map(\.json)),
      "current_epoch": currentEpoch.json,
      "timing": [
        "wall_seconds": number(timing.wallSeconds), "train_seconds": number(timing.trainSeconds),
        "test_seconds": number(timing.testSeconds), "train_samples": JSONValue(timing.trainSamples),
        "current_epoch_train_seconds": number(timing.currentEpochTrainSeconds),
      ],
      "threads": JSONValue(threads),
      "method_state": methodState.json,
    ]
  }

  /// Reads a checkpoint's header and blobs; every field is validated, and errors name
  /// `path`, the field (`header.progress.epochs_completed`) and what was expected.
  public init(header: JSONValue, blobs: [TensorBlob], path: String) throws(CheckpointError) {
    do {
      var r = try JSONObjectReader(header, path: "header")
      let format = try r.string("format")
      guard format == TrainingCheckpoint.formatName else {
        throw ConfigurationError.invalid(
          field: r.field("format"), value: "'\(format)'",
          expected: "'\(TrainingCheckpoint.formatName)'")
      }
      configuration = try RunConfiguration(
        json: try r.value("configuration", expected: "an object"), field: r.field("configuration"))
      var p = try r.object("progress")
      epochsCompleted = try p.int("epochs_completed", in: 0...configuration.epochs)
      let batchesField = p.field("batches_completed")
      batchesCompleted = try p.int("batches_completed", in: 0...Int.max)
      globalStep = try p.int("global_step", in: 0...Int.max)
      try p.finish()
      if epochsCompleted == configuration.epochs && batchesCompleted != 0 {
        throw ConfigurationError.invalid(
          field: batchesField, value: "\(batchesCompleted)", expected: "0 after the last epoch")
      }
      var generators: [(name: String, state: Xoshiro256StarStar)] = []
      var g = try r.object("random_states")
      for key in g.keys {
        let field = g.field(key)
        let words = g.optional(key)!.arrayValue ?? []
        let parsed = words.compactMap { $0.stringValue.flatMap(parseHexWord) }
        guard words.count == 4, parsed.count == 4, parsed.contains(where: { $0 != 0 }) else {
          throw ConfigurationError.invalid(
            field: field, value: "\(g.optional(key)!)",
            expected: "four 64-bit words as hex strings (\"0x\" and 16 digits), not all zero")
        }
        generators.append(
          (key, Xoshiro256StarStar(state: (parsed[0], parsed[1], parsed[2], parsed[3]))))
      }
      try g.finish()
      history = try r.array("history").enumerated().map { (i, v) throws(ConfigurationError) in
        try EpochRecord(json: v, field: "header.history[\(i)]")
      }
      guard history.count == epochsCompleted else {
        throw ConfigurationError.invalid(
          field: "header.history", value: "\(history.count) epochs",
          expected: "\(epochsCompleted), one record per completed epoch")
      }
      for (i, record) in history.enumerated() where record.epoch != i + 1 {
        throw ConfigurationError.invalid(
          field: "header.history[\(i)].epoch", value: "\(record.epoch)", expected: "\(i + 1)")
      }
      currentEpoch = try MetricsAccumulator(
        json: try r.value("current_epoch", expected: "an object"), field: r.field("current_epoch"))
      var t = try r.object("timing")
      timing = TrainingTiming()
      timing.wallSeconds = try t.double("wall_seconds")
      timing.trainSeconds = try t.double("train_seconds")
      timing.testSeconds = try t.double("test_seconds")
      timing.trainSamples = try t.int("train_samples", in: 0...Int.max)
      timing.currentEpochTrainSeconds = try t.double("current_epoch_train_seconds")
      try t.finish()
      threads = try r.int("threads", in: 1...Int.max)
      let methodJSON = try r.value("method_state", expected: "an object")
      guard methodJSON.objectMembers != nil else {
        throw ConfigurationError.invalid(
          field: r.field("method_state"), value: methodJSON.kindName, expected: "an object")
      }
      try r.finish()
      methodState = MethodState(json: methodJSON, blobs: blobs, generators: generators)
    } catch let error as ConfigurationError {
      throw CheckpointError(header: error, path: path)
    } catch let error as CheckpointError {
      throw error.at(path: path)
    } catch {
      preconditionFailure("unexpected error \(error)")
    }
  }

  // MARK: Files

  /// Writes the checkpoint atomically.
  public func write(to path: String) throws(FileError) {
    try CheckpointFile.write(header: header, blobs: methodState.blobs, to: path)
  }

  /// Reads and validates a checkpoint file.
  public static func read(_ path: String) throws(CheckpointError) -> TrainingCheckpoint {
    let (header, blobs) = try CheckpointFile.read(path)
    return try TrainingCheckpoint(header: header, blobs: blobs, path: path)
  }
}

extension CheckpointError {
  /// An invalid-header error from a configuration error raised while reading the header.
  public init(header error: ConfigurationError, path: String) {
    switch error {
    case .invalid(let field, let value, let expected):
      self.init(.invalidHeader, path: path, field: field, expected: expected, found: value)
    case .missing(let field, let expected):
      self.init(.invalidHeader, path: path, field: field, expected: expected, found: "nothing")
    case .unknown(let field, let value, let allowed):
      self.init(
        .invalidHeader, path: path, field: field,
        expected: allowed.isEmpty ? "nothing" : "one of " + allowed.joined(separator: ", "),
        found: "'\(value)'")
    }
  }
}

/// `0x` and 16 hex digits.
func hexWord(_ v: UInt64) -> String {
  let s = String(v, radix: 16)
  return "0x" + String(repeating: "0", count: 16 - s.count) + s
}

func parseHexWord(_ s: String) -> UInt64? {
  guard s.hasPrefix("0x"), s.count == 18 else { return nil }
  return UInt64(s.dropFirst(2), radix: 16)
}
