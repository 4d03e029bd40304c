import SNNBase

/// The training loop shared by every method: epochs, seeded batching, evaluation, metrics,
/// progress events, checkpoints, exact resume and the run summary.
///
/// **Order.** Epoch `e` visits the training samples in ``EpochOrder/permutation(sampleCount:seed:epoch:)``
/// order, in batches of `batchSize` (the last one smaller unless `dropLastBatch`). Step `k`
/// of the run gets the generator of stream `("train-step", k)`; evaluation batch `b` gets
/// stream `("evaluation", b)`. Test samples are visited in index order.
///
/// **Resume.** A checkpoint written at any batch boundary holds the position, the history,
/// the current epoch's partial sums and the method's full state. A fresh method made from
/// the same configuration, restored from it and run to the end, produces parameters and
/// metric history bit-identical to an uninterrupted run, provided the method honours the
/// ``TrainingMethod`` state contract and the thread count is the same.
public final class Trainer {
  /// Runtime choices that do not change the results.
  public struct Options: Sendable {
    /// Where to write a checkpoint after every epoch and when stopped early; nil: none.
    public var checkpointPath: String?
    /// Evaluate on the test set after every epoch (otherwise only after the last).
    public var evaluateEveryEpoch: Bool
    /// Drop the last, smaller batch of each epoch.
    public var dropLastBatch: Bool

    public init(
      checkpointPath: String? = nil, evaluateEveryEpoch: Bool = true, dropLastBatch: Bool = false
    ) {
      self.checkpointPath = checkpointPath
      self.evaluateEveryEpoch = evaluateEveryEpoch
      self.dropLastBatch = dropLastBatch
    }
  }

  /// Where training stands after a batch.
  public struct BatchProgress: Sendable {
    /// From 1.
    public var epoch: Int
    public var epochs: Int
    /// Batches completed in this epoch, and per epoch.
    public var batch: Int
    public var batchesPerEpoch: Int
    /// Running mean loss and accuracy of this epoch so far.
    public var loss: Double
    public var accuracy: Double
    /// Training samples per second in this process (training batches only).
    public var samplesPerSecond: Double
    /// Estimated seconds of training left (evaluation not included).
    public var etaSeconds: Double
  }

  /// What the trainer reports while it runs.
  public enum Event {
    case batch(BatchProgress)
    /// `done` of `total` evaluation samples after `epoch` (from 1).
    case evaluation(epoch: Int, done: Int, total: Int)
    case epoch(EpochRecord)
    case checkpoint(path: String)
  }

  public let configuration: RunConfiguration
  public let method: any TrainingMethod
  public let analysis: ModelAnalysis
  public let trainSet: any LabelledDataset
  public let testSet: (any LabelledDataset)?
  public let options: Options

  public private(set) var epochsCompleted = 0
  public private(set) var batchesCompleted = 0
  public private(set) var globalStep = 0
  public private(set) var history: [EpochRecord] = []
  public private(set) var currentEpoch = MetricsAccumulator()
  public private(set) var timing = TrainingTiming()

  /// Receives progress events (e.g. to draw a progress line).
  public var observer: ((Event) -> Void)?
  /// Polled after every batch: returning true stops the run at that batch boundary, after
  /// writing a checkpoint when a path is set (e.g. on Ctrl-C).
  public var shouldStop: (() -> Bool)?

  /// A trainer for a fresh `method` made from `configuration`. Checks that the data fit
  /// the model: the input shape (an MLP only needs the same C·H·W), the class count, and
  /// that the training set is not empty.
  public init(
    configuration: RunConfiguration, method: any TrainingMethod, trainSet: any LabelledDataset,
    testSet: (any LabelledDataset)?, options: Options = Options()
  ) throws(ConfigurationError) {
    try configuration.validate()
    let analysis = try configuration.model.analyze()
    var train: any LabelledDataset = trainSet
    if let n = configuration.trainSampleLimit { train = DatasetPrefix(trainSet, count: n) }
    var test = testSet
    if let n = configuration.testSampleLimit, let t = testSet { test = DatasetPrefix(t, count: n) }
    for dataset in [train] + (test.map { [$0] } ?? []) {
      try Trainer.check(dataset, fits: configuration.model, analysis: analysis)
    }
    guard train.sampleCount > 0 else {
      throw .invalid(
        field: "training set '\(train.name)'", value: "no samples", expected: "at least one sample")
    }
    if options.dropLastBatch && train.sampleCount < configuration.batchSize {
      throw .invalid(
        field: "--batch", value: "\(configuration.batchSize)",
        expected: "at most the \(train.sampleCount) training samples when the last batch is dropped"
      )
    }
    self.configuration = configuration
    self.method = method
    self.analysis = analysis
    self.trainSet = train
    self.testSet = test
    self.options = options
  }

  /// Throws unless `dataset` can feed `model`.
  public static func check(
    _ dataset: any LabelledDataset, fits model: ModelSpec, analysis: ModelAnalysis
  )
    throws(ConfigurationError)
  {
    guard analysis.endsWithLinear else {
      throw .invalid(
        field: "--model",
        value:
          "'\(model.notation)' ends with a \(model.stages.last.map { model.stageNotation($0) } ?? "") stage",
        expected:
          "a classifier whose last stage is linear with one output per class, e.g. '\(model.notation)-\(dataset.classCount)'"
      )
    }
    let feature = dataset.sampleShape.feature
    let isMLP = model.stages.first == .flatten
    if isMLP ? feature.elementCount != model.input.elementCount : feature != model.input {
      throw .invalid(
        field: "--model", value: "input \(model.input) ('\(model.notation)')",
        expected: "the sample shape \(feature) of dataset '\(dataset.name)'"
          + (isMLP ? " (an MLP needs \(feature.elementCount) inputs)" : ""))
    }
    guard analysis.classCount == dataset.classCount else {
      throw .invalid(
        field: "--model", value: "\(analysis.classCount) outputs ('\(model.notation)')",
        expected: "\(dataset.classCount) outputs, the classes of dataset '\(dataset.name)'")
    }
  }

  /// Batches per epoch.
  public var batchesPerEpoch: Int {
    let n = trainSet.sampleCount
    let b = configuration.batchSize
    return options.dropLastBatch ? n / b : (n + b - 1) / b
  }

  // MARK: Checkpoints

  /// The run's state now (at a batch boundary).
  public func checkpoint() -> TrainingCheckpoint {
    TrainingCheckpoint(
      configuration: configuration, epochsCompleted: epochsCompleted,
      batchesCompleted: batchesCompleted, globalStep: globalStep, history: history,
      currentEpoch: currentEpoch, timing: timing, threads: Parallel.defaultThreads,
      methodState: method.exportState())
  }

  /// Continues from `checkpoint`: its configuration must equal this trainer's, and the
  /// method (freshly made from the same configuration) takes the saved state. Nothing
  /// changes unless everything loads.
  public func restore(from checkpoint: TrainingCheckpoint, path: String = "")
    throws(CheckpointError)
  {
    if let (key, mine, theirs) = configuration.firstDifference(from: checkpoint.configuration) {
      throw CheckpointError(
        .incompatible, path: path, field: "header.configuration.\(key)",
        expected: "the run's \(mine)", found: theirs)
    }
    guard checkpoint.batchesCompleted < batchesPerEpoch || checkpoint.batchesCompleted == 0 else {
      throw CheckpointError(
        .incompatible, path: path, field: "header.progress.batches_completed",
        expected: "fewer than the \(batchesPerEpoch) batches of an epoch",
        found: "\(checkpoint.batchesCompleted)")
    }
    let expectedSteps = checkpoint.epochsCompleted * batchesPerEpoch + checkpoint.batchesCompleted
    guard checkpoint.globalStep == expectedSteps else {
      throw CheckpointError(
        .incompatible, path: path, field: "header.progress.global_step",
        expected: "\(expectedSteps) (epochs × \(batchesPerEpoch) batches + batches)",
        found: "\(checkpoint.globalStep)")
    }
    do {
      try method.restoreState(checkpoint.methodState)
    } catch {
      throw error.at(path: path)
    }
    epochsCompleted = checkpoint.epochsCompleted
    batchesCompleted = checkpoint.batchesCompleted
    globalStep = checkpoint.globalStep
    history = checkpoint.history
    currentEpoch = checkpoint.currentEpoch
    timing = checkpoint.timing
  }

  /// Writes the current state to `path` atomically.
  public func writeCheckpoint(to path: String) throws(FileError) {
    try checkpoint().write(to: path)
    observer?(.checkpoint(path: path))
  }

  // MARK: Running

  /// Trains until every epoch is done, or until ``shouldStop`` asks to stop. Returns the
  /// summary (``RunSummary/completed`` tells which).
  public func run() throws -> RunSummary {
    let wall = Stopwatch()
    let startWall = timing.wallSeconds
    var segmentTrainSeconds = 0.0
    var segmentTrainSamples = 0
    let epochs = configuration.epochs
    let perEpoch = batchesPerEpoch
    let b = configuration.batchSize
    var stopped = false

    func finishWall() { timing.wallSeconds = startWall + wall.elapsedSeconds }

    epochLoop: while epochsCompleted < epochs {
      let epoch = epochsCompleted
      let order = EpochOrder.permutation(
        sampleCount: trainSet.sampleCount, seed: configuration.seed, epoch: epoch)
      while batchesCompleted < perEpoch {
        let watch = Stopwatch()
        let start = batchesCompleted * b
        let indices = order[start..<min(start + b, order.count)]
        let batch = try Batch.load(indices, from: trainSet)
        let context = StepContext(
          epoch: epoch, epochs: epochs, batchIndex: batchesCompleted, batchesPerEpoch: perEpoch,
          globalStep: globalStep,
          learningRate: configuration.optimizer.learningRate(
            epoch: epoch, of: epochs, step: globalStep),
          random: RandomStreams.generator(configuration.seed, "train-step", globalStep))
        let metrics = try method.trainBatch(batch, context: context)
        precondition(
          metrics.sampleCount == batch.count,
          "\(method.name) reported \(metrics.sampleCount) samples for a batch of \(batch.count)")
        currentEpoch.add(metrics)
        batchesCompleted += 1
        globalStep += 1
        let seconds = watch.elapsedSeconds
        timing.currentEpochTrainSeconds += seconds
        segmentTrainSeconds += seconds
        segmentTrainSamples += batch.count
        timing.trainSeconds += seconds
        timing.trainSamples += batch.count
        if let observer {
          let rate = segmentTrainSeconds > 0 ? Double(segmentTrainSamples) / segmentTrainSeconds : 0
          let remaining = (perEpoch - batchesCompleted) * b + (epochs - epoch - 1) * perEpoch * b
          observer(
            .batch(
              BatchProgress(
                epoch: epoch + 1, epochs: epochs, batch: batchesCompleted,
                batchesPerEpoch: perEpoch,
                loss: currentEpoch.loss, accuracy: currentEpoch.accuracy, samplesPerSecond: rate,
                etaSeconds: rate > 0 ? Double(remaining) / rate : .infinity)))
        }
        if batchesCompleted < perEpoch, shouldStop?() == true {
          stopped = true
          break epochLoop
        }
      }

      // End of the epoch: evaluate, record, checkpoint.
      let isLast = epoch + 1 == epochs
      var test: MetricsAccumulator?
      var testSeconds = 0.0
      if let testSet, options.evaluateEveryEpoch || isLast {
        let watch = Stopwatch()
        test = try Trainer.evaluate(
          method: method, dataset: testSet, batchSize: b, seed: configuration.seed
        ) { [observer] done, total in
          observer?(.evaluation(epoch: epoch + 1, done: done, total: total))
        }
        testSeconds = watch.elapsedSeconds
        timing.testSeconds += testSeconds
      }
      let extra = method.epochDidEnd(epoch: epoch)
      let record = EpochRecord(
        epoch: epoch + 1,
        learningRate: configuration.optimizer.learningRate(epoch: epoch, of: epochs, step: Int.max),
        train: currentEpoch, test: test, extra: extra,
        trainSeconds: timing.currentEpochTrainSeconds,
        testSeconds: testSeconds)
      history.append(record)
      epochsCompleted += 1
      batchesCompleted = 0
      currentEpoch = MetricsAccumulator()
      timing.currentEpochTrainSeconds = 0
      observer?(.epoch(record))
      if let path = options.checkpointPath {
        finishWall()
        try writeCheckpoint(to: path)
      }
      if !isLast, shouldStop?() == true {
        stopped = true
        break
      }
    }
    if stopped, batchesCompleted > 0, let path = options.checkpointPath {
      finishWall()
      try writeCheckpoint(to: path)
    }
    finishWall()
    return summary(completed: !stopped)
  }

  /// The summary of the run so far.
  public func summary(completed: Bool) -> RunSummary {
    RunSummary(
      configuration: configuration, completed: completed,
      epochsCompleted: epochsCompleted, history: history, timing: timing,
      parameterCount: method.parameterCount, analysis: analysis, extra: method.summaryExtras())
  }

  /// One pass over `dataset` in index order, in batches of `batchSize`, with evaluation
  /// batch `k` getting stream `("evaluation", k)` of `seed`. `progress(done, total)` is
  /// called after each batch.
  public static func evaluate(
    method: any TrainingMethod, dataset: any LabelledDataset, batchSize: Int, seed: UInt64,
    progress: ((Int, Int) -> Void)? = nil
  ) throws -> MetricsAccumulator {
    precondition(batchSize >= 1)
    var metrics = MetricsAccumulator()
    let n = dataset.sampleCount
    var start = 0
    var index = 0
    while start < n {
      let indices = Array(start..<min(start + batchSize, n))
      let batch = try Batch.load(indices[...], from: dataset)
      let result = try method.evaluateBatch(
        batch,
        context: EvaluationContext(
          batchIndex: index, random: RandomStreams.generator(seed, "evaluation", index)))
      precondition(
        result.sampleCount == batch.count,
        "\(method.name) reported \(result.sampleCount) samples for a batch of \(batch.count)")
      metrics.add(result)
      start += batch.count
      index += 1
      progress?(start, n)
    }
    return metrics
  }
}
