import SNN

/// `snn evaluate`: the test accuracy (and spike statistics) of a checkpoint.
struct EvaluateCommand: Command {
  static let help = CommandHelp(
    name: "evaluate", abstract: "Evaluate a training checkpoint on a test set.",
    usage: ["evaluate --checkpoint FILE [--dataset NAME] [--data DIR] [--json]"],
    discussion: """
      Rebuilds the checkpoint's method and model, loads its state, and runs one pass over \
      the test set in index order. With the checkpoint's dataset and batch size (the \
      defaults), the result equals the test accuracy the run recorded after that epoch, bit \
      for bit.
      """,
    options: [
      OptionHelp("--checkpoint", value: "FILE", help: "The checkpoint to evaluate (required)."),
      OptionHelp(
        "--dataset", value: "NAME",
        help: "Test set: " + TrainingDatasetCatalog.shared.names.joined(separator: ", ") + ".",
        default: "the checkpoint's"),
      OptionHelp(
        "--batch", value: "N", help: "Evaluation batch size.", default: "the checkpoint's"),
      OptionHelp(
        "--test-samples", value: "N", help: "Evaluate the first N test samples only.",
        default: "the checkpoint's"),
      OptionHelp("--threads", value: "K", help: "Worker threads.", default: "the number of cores"),
      OptionHelp(
        "--data", value: "DIR", help: "Data folder.", default: "$SNN_DATA, else ~/.snn/data"),
      .flag("--json", help: "Print the result as JSON on standard output."),
      .flag("--quiet", help: "No progress line on standard error."),
    ],
    examples: ["snn evaluate --checkpoint bptt.ckpt", "snn evaluate --checkpoint edbp.ckpt --json"])

  let path: String
  let checkpoint: TrainingCheckpoint
  let descriptor: TrainingMethodDescriptor
  let dataset: TrainingDatasetEntry
  let batchSize: Int
  let testLimit: Int?
  let threads: Int?
  let dataRoot: String?
  let json: Bool
  let quiet: Bool

  init(parsing p: inout ArgumentParser) throws {
    let file = try p.required("--checkpoint", expected: "a checkpoint file")
    let checkpoint = try TrainingCheckpoint.read(file)
    path = file
    self.checkpoint = checkpoint
    let configuration = checkpoint.configuration
    descriptor = try TrainingMethodRegistry.shared.lookup(
      configuration.method, field: "method of \(file)")
    let catalog = TrainingDatasetCatalog.shared
    dataset = try catalog.lookup(
      try p.string("--dataset", expected: "one of " + catalog.names.joined(separator: ", "))
        ?? configuration.dataset)
    batchSize = try p.optionalInt("--batch", in: 1...1_000_000) ?? configuration.batchSize
    testLimit =
      try p.optionalInt("--test-samples", in: 1...Int.max) ?? configuration.testSampleLimit
    threads = try p.optionalInt("--threads", in: 1...1024)
    dataRoot = try p.string("--data", expected: "a folder")
    json = try p.flag("--json")
    quiet = try p.flag("--quiet")
  }

  func run(in context: CommandContext) throws {
    if let threads { Parallel.setDefaultThreads(threads) }
    let configuration = checkpoint.configuration
    let request = TrainingDatasetEntry.Request(
      root: DataRoot.resolve(explicit: dataRoot, environment: context.environment),
      timeSteps: configuration.timeSteps)
    var testSet = try dataset.load(.test, request)
    if let testLimit { testSet = DatasetPrefix(testSet, count: testLimit) }
    let analysis = try configuration.model.analyze()
    try Trainer.check(testSet, fits: configuration.model, analysis: analysis)
    let method = try descriptor.makeMethod(
      MethodSetup(
        configuration: configuration, analysis: analysis, sampleShape: testSet.sampleShape,
        classCount: testSet.classCount))
    do {
      try method.restoreState(checkpoint.methodState)
    } catch {
      throw error.at(path: path)
    }
    let progress = ProgressLine(context: context, enabled: !quiet)
    let watch = Stopwatch()
    let result = try Trainer.evaluate(
      method: method, dataset: testSet, batchSize: batchSize, seed: configuration.seed
    ) { done, total in progress.update("evaluating \(done)/\(total)") }
    let seconds = watch.elapsedSeconds
    progress.finish()

    let energy = result.energyReport(analysis: analysis, timeSteps: configuration.timeSteps)
    let members: [(key: String, value: JSONValue)] = [
      ("checkpoint", JSONValue(path)),
      ("method", JSONValue(configuration.method)),
      ("model", JSONValue(configuration.model.notation)),
      ("dataset", JSONValue(dataset.name)),
      ("epochs_completed", JSONValue(checkpoint.epochsCompleted)),
      ("batch_size", JSONValue(batchSize)),
      ("test_samples", JSONValue(result.sampleCount)),
      ("test_accuracy", result.sampleCount > 0 ? JSONValue(result.accuracy) : .null),
      ("test_loss", result.loss.isFinite ? JSONValue(result.loss) : .null),
      ("mean_firing_rate", result.meanFiringRate.map { JSONValue($0) } ?? .null),
      ("firing_rates", .object(result.firingRates.map { ($0.layer, JSONValue($0.rate)) })),
      (
        "synaptic_operations_per_sample",
        result.synapticOperationsPerSample.map { JSONValue($0) } ?? .null
      ),
      (
        "multiply_accumulates_per_sample",
        result.multiplyAccumulatesPerSample.map { JSONValue($0) } ?? .null
      ),
      ("energy", energy?.json ?? .null),
      ("dense_macs_per_step", JSONValue(analysis.macsPerStep)),
      ("seconds", JSONValue(seconds)),
      ("samples_per_second", JSONValue(seconds > 0 ? Double(result.sampleCount) / seconds : 0)),
    ]
    if json {
      context.printJSON(.object(members))
      return
    }
    context.print(
      "\(path): method \(configuration.method), model \(configuration.model.notation), "
        + "after \(checkpoint.epochsCompleted) of \(configuration.epochs) epochs")
    context.print(
      "test \(dataset.name) (\(result.sampleCount) samples): accuracy "
        + Format.fixed(100 * result.accuracy, digits: 2) + "%, loss "
        + Format.fixed(result.loss, digits: 4))
    if let rate = result.meanFiringRate {
      var line = "mean firing rate " + Format.fixed(rate, digits: 4) + " spikes/neuron/step"
      if let ops = result.synapticOperationsPerSample {
        line += ", " + Format.compact(ops) + " synaptic ops/sample"
      }
      context.print(line)
    }
    if let energy { context.print(energy.summaryLine) }
    context.print(
      ProgressLine.formatDuration(seconds) + ", "
        + Format.grouped(Int((seconds > 0 ? Double(result.sampleCount) / seconds : 0).rounded()))
        + " samples/s")
  }
}
