import SNN

/// `snn train`: trains a model with one of the registered methods.
struct TrainCommand: Command {
  static var help: CommandHelp {
    let registry = TrainingMethodRegistry.shared
    let methods = registry.names
    let methodList =
      methods.isEmpty
      ? "No method is available in this build yet (planned: "
        + TrainingMethodRegistry.plannedMethods.joined(separator: ", ") + ")."
      : "One of: " + methods.joined(separator: ", ") + "."
    var options: [OptionHelp] = [
      OptionHelp(
        "--method", value: "NAME", help: "Training method (required unless --resume). " + methodList
      ),
      OptionHelp(
        "--dataset", value: "NAME",
        help: "Dataset: " + TrainingDatasetCatalog.shared.names.joined(separator: ", ")
          + " (required unless --resume)."),
      OptionHelp(
        "--model", value: "SPEC",
        help: "Architecture in the papers' notation, e.g. 15C5-AP2-40C5-AP2-300-10 or 784-800-10, "
          + "or a preset: mlp (N-800-10), conv (15C5-AP2-40C5-AP2-300-10), spide-lenet "
          + "(15C5p2-AP2-40C5p2-AP2-300-10), spide-convnet "
          + "(64C5s2p2-64C5s2p2-64C5p2-10+FB3to1:T3s2p1o1), ide-fc (N-400-10+FB1to1:L). The input "
          + "shape comes from the dataset.",
        default: "the method's, else conv"),
      OptionHelp(
        "--T", value: "N", help: "Simulation time steps per sample.",
        default: "the method's, else 4"),
      OptionHelp("--epochs", value: "N", help: "Training epochs.", default: "10"),
      OptionHelp("--batch", value: "N", help: "Mini-batch size.", default: "128"),
      OptionHelp(
        "--optimizer", value: "sgd|adam|adamw", help: "Optimizer.",
        default: "the method's, else sgd"),
      OptionHelp(
        "--lr", value: "X", help: "Base learning rate.",
        default: "0.1 for sgd, 0.001 for adam/adamw"),
      OptionHelp("--momentum", value: "M", help: "SGD momentum.", default: "0.9"),
      .flag("--nesterov", help: "Nesterov momentum (sgd)."),
      OptionHelp(
        "--weight-decay", value: "W",
        help: "Weight decay on weights (not biases or norm parameters; edbp also decays its "
          + "norm parameters, spide its biases).",
        default: "the method's, else 0"),
      OptionHelp(
        "--schedule", value: "cosine|step|constant",
        help: "Learning-rate schedule, stepped per epoch: cosine to 0 over the run; step: ×gamma "
          + "after each milestone epoch; constant. For ndot and ottt, online|accumulate sets "
          + "their --update-schedule instead.",
        default: "cosine"),
      OptionHelp(
        "--milestones", value: "LIST",
        help:
          "Epoch counts after which --schedule step multiplies the rate by --gamma, e.g. 30,60,90."),
      OptionHelp("--gamma", value: "X", help: "Factor of --schedule step.", default: "0.1"),
      OptionHelp(
        "--warmup", value: "N", help: "Linear learning-rate warm-up over the first N batches.",
        default: "0"),
      OptionHelp(
        "--clip-grad-norm", value: "X", help: "Rescale gradients to a global L2 norm of at most X."),
      OptionHelp(
        "--seed", value: "S",
        help: "Seed of initialization, order, dropout and every other random choice.", default: "1"),
      OptionHelp(
        "--train-samples", value: "N", help: "Train on the first N training samples only."),
      OptionHelp("--test-samples", value: "N", help: "Evaluate on the first N test samples only."),
      OptionHelp("--threads", value: "K", help: "Worker threads.", default: "the number of cores"),
      OptionHelp(
        "--data", value: "DIR", help: "Data folder.", default: "$SNN_DATA, else ~/.snn/data"),
      OptionHelp(
        "--checkpoint", value: "FILE",
        help: "Write a checkpoint here after every epoch and when stopped by Ctrl-C.",
        default: "the --resume file when resuming, else none"),
      OptionHelp(
        "--resume", value: "FILE",
        help: "Continue the run saved in FILE. Its configuration is kept; options given must "
          + "agree with it. The result is bit-identical to an uninterrupted run with the same "
          + "--threads."),
      OptionHelp(
        "--curves", value: "FILE.svg",
        help: "Draw the learning curves: error per epoch in FILE.svg and loss in FILE-loss.svg, "
          + "rewritten after every epoch (with --resume, from the first epoch)."),
      .flag("--json", help: "Print the run summary as JSON on standard output."),
      .flag("--quiet", help: "No progress line on standard error."),
    ]
    for (name, option, owners) in methodOptionHelp(registry) {
      // Methods sharing an option name may differ in its values, help or default: then
      // each method's version is listed.
      let versions = registry.methods.compactMap { method in
        method.options.first { $0.flagName == name }.map { (method.name, $0) }
      }
      if versions.allSatisfy({ $0.1 == option }) {
        options.append(
          OptionHelp(
            name, value: option.kind == .flag ? nil : option.valueName,
            help: "[\(owners.joined(separator: ", "))] " + option.help,
            default: option.kind == .flag ? nil : option.defaultValue.description))
      } else {
        let text = versions.map { method, o in
          "[\(method)] " + o.help
            + (o.kind == .flag ? "" : " (\(o.valueName), default \(o.defaultValue.description))")
        }
        options.append(
          OptionHelp(
            name, value: option.kind == .flag ? nil : "X", help: text.joined(separator: " ")))
      }
    }
    return CommandHelp(
      name: "train", abstract: "Train a spiking network with one of the training methods.",
      usage: [
        "train --method NAME --dataset NAME [--model SPEC] [--T N] [--epochs N] [options]",
        "train --resume FILE [options]",
      ],
      discussion: """
        The trainer visits the training set in an order that depends only on the seed and \
        the epoch, evaluates on the test set after every epoch, and prints a progress line on \
        standard error (epoch, batch, loss, accuracy, samples/s, ETA). Ctrl-C stops at the next \
        batch boundary and writes the checkpoint; a second Ctrl-C ends the process at once.

        Methods may add options of their own; they are listed last, with the methods they \
        belong to in brackets. The summary (text, or JSON with --json) reports test and train \
        accuracy, wall time, training throughput, firing rates and synaptic operations per \
        sample; see Docs/Training.md for every key.
        """,
      options: options,
      examples: [
        "snn train --method bptt --dataset mnist --model conv --T 4 --epochs 20 --checkpoint bptt.ckpt",
        "snn train --method edbp --dataset nmnist --model 12C5p1-AP2-64C5-AP2-10 --T 30 --optimizer adamw --lr 5e-4",
        "snn train --resume bptt.ckpt",
      ])
  }

  /// Every registered method's options, merged by name: (flag name, option, methods).
  static func methodOptionHelp(_ registry: TrainingMethodRegistry) -> [(
    String, MethodOption, [String]
  )] {
    var merged: [(String, MethodOption, [String])] = []
    for method in registry.methods {
      for option in method.options {
        if let i = merged.firstIndex(where: { $0.0 == option.flagName }) {
          merged[i].2.append(method.name)
        } else {
          merged.append((option.flagName, option, [method.name]))
        }
      }
    }
    return merged
  }

  let configuration: RunConfiguration
  let descriptor: TrainingMethodDescriptor
  let dataset: TrainingDatasetEntry
  let resumePath: String?
  let resumeCheckpoint: TrainingCheckpoint?
  let checkpointPath: String?
  let curvesPath: String?
  let dataRoot: String?
  let threads: Int?
  let json: Bool
  let quiet: Bool

  init(parsing p: inout ArgumentParser) throws {
    let registry = TrainingMethodRegistry.shared
    let resumeFile = try p.string("--resume", expected: "a checkpoint file")
    let checkpoint = try resumeFile.map { path throws(CheckpointError) in
      try TrainingCheckpoint.read(path)
    }
    resumePath = resumeFile
    resumeCheckpoint = checkpoint
    let stored = checkpoint?.configuration
    /// The error for an option that disagrees with the checkpoint.
    let conflict = { (option: String, value: String, storedValue: String) -> CommandLineError in
      .invalidValue(
        option: option, value: value,
        expected:
          "\(storedValue), the value in \(resumeFile ?? "the checkpoint") (a resumed run keeps its configuration)"
      )
    }

    // Method and dataset.
    let methodName = try p.string("--method", expected: "a method name") ?? stored?.method
    guard let methodName else {
      throw CommandLineError.missingOption(
        option: "--method",
        expected: registry.names.isEmpty
          ? "a training method, but none is available in this build yet"
          : "one of " + registry.names.joined(separator: ", "))
    }
    if let stored, stored.method != methodName {
      throw conflict("--method", methodName, stored.method)
    }
    descriptor = try registry.lookup(methodName)
    let catalog = TrainingDatasetCatalog.shared
    let datasetName =
      try p.string("--dataset", expected: "one of " + catalog.names.joined(separator: ", "))
      ?? stored?.dataset
    guard let datasetName else {
      throw CommandLineError.missingOption(
        option: "--dataset", expected: "one of " + catalog.names.joined(separator: ", "))
    }
    if let stored, stored.dataset != datasetName {
      throw conflict("--dataset", datasetName, stored.dataset)
    }
    dataset = try catalog.lookup(datasetName)
    let defaults = descriptor.defaults.resolved(for: datasetName)

    // Scalars.
    let timeSteps =
      try p.optionalInt("--T", in: 1...100_000) ?? stored?.timeSteps ?? defaults.timeSteps ?? 4
    let epochs = try p.optionalInt("--epochs", in: 1...1_000_000) ?? stored?.epochs ?? 10
    let batchSize = try p.optionalInt("--batch", in: 1...1_000_000) ?? stored?.batchSize ?? 128
    let seed = try p.optionalInt("--seed", in: 0...Int.max).map(UInt64.init) ?? stored?.seed ?? 1
    let trainLimit =
      try p.optionalInt("--train-samples", in: 1...Int.max) ?? stored?.trainSampleLimit
    let testLimit = try p.optionalInt("--test-samples", in: 1...Int.max) ?? stored?.testSampleLimit

    // Model.
    var model: ModelSpec
    if let text = try p.string("--model", expected: "a model notation or preset") {
      model = try ModelSpec.parse(text, input: dataset.feature, field: "--model")
      model.readout = defaults.readout
      if let neuron = defaults.neuron { model.neuron = neuron }
      if let stored, stored.model != model {
        throw conflict("--model", text, stored.model.notation)
      }
    } else if let stored {
      model = stored.model
    } else {
      model = try ModelSpec.parse(
        defaults.model ?? "conv", input: dataset.feature, field: "--model")
      model.readout = defaults.readout
      if let neuron = defaults.neuron { model.neuron = neuron }
    }

    // Optimizer.
    var optimizer = stored?.optimizer ?? OptimizerSettings()
    let kindText = try p.string("--optimizer", expected: "one of sgd, adam, adamw")
    if let kindText {
      guard let kind = OptimizerSettings.Kind(rawValue: kindText) else {
        throw CommandLineError.invalidValue(
          option: "--optimizer", value: kindText, expected: "one of sgd, adam, adamw")
      }
      optimizer.kind = kind
    } else if stored == nil {
      optimizer.kind = defaults.optimizer ?? .sgd
    }
    if let lr = try p.optionalDouble("--lr", in: Double.leastNonzeroMagnitude...1e6) {
      optimizer.learningRate = lr
    } else if stored == nil {
      optimizer.learningRate = defaults.learningRate ?? (optimizer.kind == .sgd ? 0.1 : 0.001)
    }
    if let momentum = try p.optionalDouble("--momentum", in: 0...0.999_999) {
      if optimizer.kind != .sgd {
        throw CommandLineError.invalidValue(
          option: "--momentum", value: String(momentum),
          expected: "no value: momentum applies to --optimizer sgd only")
      }
      optimizer.momentum = momentum
    }
    if try p.flag("--nesterov") { optimizer.nesterov = true }
    if let decay = try p.optionalDouble("--weight-decay", in: 0...1e6) {
      optimizer.weightDecay = decay
    } else if stored == nil {
      optimizer.weightDecay = defaults.weightDecay ?? 0
    }
    var scheduleName = try p.string("--schedule", expected: "one of cosine, step, constant")
    // `--schedule online|accumulate` names the update schedule of the online methods
    // (their `--update-schedule`); the learning-rate schedule then keeps its default.
    var updateSchedule: String? = nil
    if let name = scheduleName, name == "online" || name == "accumulate",
      descriptor.options.contains(where: { $0.name == "update-schedule" })
    {
      updateSchedule = name
      scheduleName = nil
    }
    let milestones = try p.intList("--milestones", default: [], in: 1...Int.max)
    let gamma = try p.optionalDouble("--gamma", in: Double.leastNonzeroMagnitude...1e6)
    if let scheduleName {
      switch scheduleName {
      case "cosine": optimizer.schedule = .cosine(minimum: 0)
      case "constant": optimizer.schedule = .constant
      case "step": optimizer.schedule = .step(milestones: [], gamma: 0.1)
      default:
        throw CommandLineError.invalidValue(
          option: "--schedule", value: scheduleName, expected: "one of cosine, step, constant")
      }
    }
    if case .step(let storedMilestones, let storedGamma) = optimizer.schedule {
      let m = milestones.isEmpty ? storedMilestones : milestones
      guard !m.isEmpty else {
        throw CommandLineError.missingOption(
          option: "--milestones",
          expected: "the epochs after which --schedule step lowers the rate, e.g. 30,60,90")
      }
      optimizer.schedule = .step(milestones: m, gamma: gamma ?? storedGamma)
    } else if !milestones.isEmpty || gamma != nil {
      throw CommandLineError.invalidValue(
        option: milestones.isEmpty ? "--gamma" : "--milestones",
        value: milestones.isEmpty
          ? String(gamma!) : milestones.map(String.init).joined(separator: ","),
        expected: "no value: it applies to --schedule step only")
    }
    if let warmup = try p.optionalInt("--warmup", in: 0...Int.max) {
      optimizer.warmupSteps = warmup
    }
    if let clip = try p.optionalDouble("--clip-grad-norm", in: Double.leastNonzeroMagnitude...1e12)
    {
      optimizer.gradientClipNorm = clip
    }

    // Method options: this method's, then a clear error for any other method's.
    var given: [(name: String, value: JSONValue)] = stored?.methodOptions.entries ?? []
    for option in descriptor.options {
      guard let value = try TrainCommand.parseMethodOption(option, &p) else { continue }
      given.removeAll { $0.name == option.name }
      given.append((option.name, value))
    }
    if let updateSchedule {
      if let given = given.first(where: { $0.name == "update-schedule" }),
        given.value.stringValue != updateSchedule, stored == nil
      {
        throw CommandLineError.invalidValue(
          option: "--schedule", value: updateSchedule,
          expected: "the same value as --update-schedule (\(given.value.description))")
      }
      given.removeAll { $0.name == "update-schedule" }
      given.append(("update-schedule", JSONValue(updateSchedule)))
    }
    for (flagName, option, owners) in TrainCommand.methodOptionHelp(registry)
    where !descriptor.options.contains(where: { $0.flagName == flagName }) {
      if try TrainCommand.parseMethodOption(option, &p) != nil {
        throw CommandLineError.invalidValue(
          option: flagName, value: "given",
          expected:
            "no value: '\(flagName)' is an option of \(owners.joined(separator: ", ")), not of \(descriptor.name)"
        )
      }
    }
    let methodOptions = try descriptor.resolveOptions(given)

    let candidate = RunConfiguration(
      method: methodName, model: model, dataset: datasetName, timeSteps: timeSteps, epochs: epochs,
      batchSize: batchSize, seed: seed, optimizer: optimizer, methodOptions: methodOptions,
      trainSampleLimit: trainLimit, testSampleLimit: testLimit)
    if let stored, let difference = candidate.firstDifference(from: stored) {
      // Name the exact option inside the optimizer settings and method options.
      let nested: [String: JSONValue] = [
        "optimizer": candidate.optimizer.json, "method_options": candidate.methodOptions.json,
      ]
      let storedNested: [String: JSONValue] = [
        "optimizer": stored.optimizer.json, "method_options": stored.methodOptions.json,
      ]
      if let mine = nested[difference.key]?.objectMembers,
        let theirs = storedNested[difference.key]?.objectMembers
      {
        for (a, b) in zip(mine, theirs) where a.value != b.value {
          let option =
            difference.key == "optimizer" ? TrainCommand.optimizerOption(a.key) : "--" + a.key
          throw conflict(option, a.value.description, b.value.description)
        }
      }
      throw conflict(
        TrainCommand.optionName(forKey: difference.key), difference.mine, difference.theirs)
    }
    try candidate.validate()
    configuration = candidate

    checkpointPath = try p.string("--checkpoint", expected: "a file to write") ?? resumeFile
    curvesPath = try p.string("--curves", expected: "an SVG file to write")
    dataRoot = try p.string("--data", expected: "a folder")
    threads = try p.optionalInt("--threads", in: 1...1024)
    json = try p.flag("--json")
    quiet = try p.flag("--quiet")
  }

  /// The value of a method option, or nil when it is absent.
  static func parseMethodOption(_ option: MethodOption, _ p: inout ArgumentParser) throws
    -> JSONValue?
  {
    switch option.kind {
    case .flag:
      // Spelled out: `? JSONValue(true) : nil` would type `nil` as JSONValue.null (JSONValue
      // is ExpressibleByNilLiteral) and report an absent flag as given.
      guard try p.flag(option.flagName) else { return Optional<JSONValue>.none }
      return JSONValue(true)
    case .choice(let allowed):
      return try p.string(option.flagName, expected: "one of " + allowed.joined(separator: ", "))
        .map { JSONValue($0) }
    case .integer(let range):
      return try p.optionalInt(option.flagName, in: range).map { JSONValue($0) }
    case .number(let range):
      return try p.optionalDouble(option.flagName, in: range).map { JSONValue($0) }
    }
  }

  /// The command-line option behind a configuration key.
  static func optionName(forKey key: String) -> String {
    switch key {
    case "method": return "--method"
    case "model", "model_notation": return "--model"
    case "dataset": return "--dataset"
    case "T": return "--T"
    case "epochs": return "--epochs"
    case "batch_size": return "--batch"
    case "seed": return "--seed"
    case "train_samples": return "--train-samples"
    case "test_samples": return "--test-samples"
    default: return key
    }
  }

  /// The command-line option behind an optimizer setting.
  static func optimizerOption(_ key: String) -> String {
    switch key {
    case "kind": return "--optimizer"
    case "learning_rate": return "--lr"
    case "momentum": return "--momentum"
    case "nesterov": return "--nesterov"
    case "weight_decay": return "--weight-decay"
    case "schedule": return "--schedule"
    case "warmup_steps": return "--warmup"
    case "gradient_clip_norm": return "--clip-grad-norm"
    default: return key
    }
  }

  func run(in context: CommandContext) throws {
    if let threads { Parallel.setDefaultThreads(threads) }
    let request = TrainingDatasetEntry.Request(
      root: DataRoot.resolve(explicit: dataRoot, environment: context.environment),
      timeSteps: configuration.timeSteps)
    let trainSet = try dataset.load(.train, request)
    let testSet = try dataset.load(.test, request)
    let analysis = try configuration.model.analyze()
    try Trainer.check(trainSet, fits: configuration.model, analysis: analysis)
    let method = try descriptor.makeMethod(
      MethodSetup(
        configuration: configuration, analysis: analysis, sampleShape: trainSet.sampleShape,
        classCount: trainSet.classCount))
    let trainer = try Trainer(
      configuration: configuration, method: method, trainSet: trainSet, testSet: testSet,
      options: Trainer.Options(checkpointPath: checkpointPath))
    if let resumeCheckpoint, let resumePath {
      try trainer.restore(from: resumeCheckpoint, path: resumePath)
      if resumeCheckpoint.threads != Parallel.defaultThreads {
        context.log(
          "snn train: warning: the checkpoint was written with \(resumeCheckpoint.threads) threads, this run uses "
            + "\(Parallel.defaultThreads); results may differ in the last bits from an uninterrupted run"
        )
      }
      if !quiet {
        context.log(
          "resuming \(resumePath) after epoch \(resumeCheckpoint.epochsCompleted)"
            + (resumeCheckpoint.batchesCompleted > 0
              ? ", batch \(resumeCheckpoint.batchesCompleted)" : ""))
      }
    }

    let progress = ProgressLine(context: context, enabled: !quiet)
    let epochs = configuration.epochs
    var curves = TrainingCurves(history: trainer.history, title: TrainingCurves.title(for: configuration))
    if let curvesPath {
      // Written now (empty, or the resumed run's epochs) so that a bad path fails at once.
      try curves.write(to: curvesPath)
    }
    trainer.observer = { event in
      switch event {
      case .batch(let b):
        progress.update(
          "epoch \(b.epoch)/\(b.epochs)  batch \(b.batch)/\(b.batchesPerEpoch)  loss "
            + Format.fixed(b.loss, digits: 4) + "  acc " + Format.fixed(100 * b.accuracy, digits: 1)
            + "%  "
            + Format.grouped(Int(b.samplesPerSecond.rounded())) + " samples/s  ETA "
            + ProgressLine.formatDuration(b.etaSeconds))
      case .evaluation(let epoch, let done, let total):
        progress.update("epoch \(epoch)/\(epochs)  evaluating \(done)/\(total)")
      case .epoch(let record):
        progress.finish(TrainCommand.epochLine(record, epochs: epochs))
        if let curvesPath {
          curves.points.append(TrainingCurves.Point(record))
          do {
            try curves.write(to: curvesPath)
          } catch {
            context.log("snn train: warning: learning curves not written: \(error)")
          }
        }
      case .checkpoint:
        break
      }
    }
    InterruptHandler.install()
    defer { InterruptHandler.uninstall() }
    trainer.shouldStop = { InterruptHandler.requested }
    let summary = try trainer.run()
    progress.finish()

    if json {
      var value = summary.json
      value.set("checkpoint", checkpointPath.map { JSONValue($0) } ?? .null)
      context.printJSON(value)
    } else {
      for line in TrainCommand.summaryLines(summary, checkpoint: checkpointPath) {
        context.print(line)
      }
    }
    if !summary.completed {
      let position =
        "epoch \(trainer.epochsCompleted + (trainer.batchesCompleted > 0 ? 1 : 0))"
        + (trainer.batchesCompleted > 0 ? ", batch \(trainer.batchesCompleted)" : " (end)")
      throw InterruptedError(
        message: "interrupted in " + position
          + (checkpointPath.map {
            "; checkpoint written to \($0); continue with 'snn train --resume \($0)'"
          }
            ?? "; no checkpoint written (use --checkpoint FILE)"))
    }
  }

  static func epochLine(_ record: EpochRecord, epochs: Int) -> String {
    var line =
      "epoch \(record.epoch)/\(epochs)  train loss " + Format.fixed(record.train.loss, digits: 4)
      + " acc " + Format.fixed(100 * record.train.accuracy, digits: 2) + "%"
    if let test = record.test {
      line +=
        "  test loss " + Format.fixed(test.loss, digits: 4) + " acc "
        + Format.fixed(100 * test.accuracy, digits: 2) + "%"
    }
    if let rate = (record.test ?? record.train).meanFiringRate {
      line += "  rate " + Format.fixed(rate, digits: 4)
    }
    return line + "  " + ProgressLine.formatDuration(record.trainSeconds + record.testSeconds)
  }

  static func summaryLines(_ s: RunSummary, checkpoint: String?) -> [String] {
    let c = s.configuration
    var lines = [
      "method \(c.method), model \(c.model.notation), dataset \(c.dataset), T \(c.timeSteps), "
        + "batch \(c.batchSize), seed \(c.seed)",
      "epochs \(s.epochsCompleted)/\(c.epochs)" + (s.completed ? "" : " (stopped early)") + ", "
        + ProgressLine.formatDuration(s.timing.wallSeconds) + " wall, "
        + Format.grouped(Int(s.trainSamplesPerSecond.rounded())) + " training samples/s",
    ]
    if let train = s.finalTrain {
      lines.append(
        "train loss " + Format.fixed(train.loss, digits: 4) + ", accuracy "
          + Format.fixed(100 * train.accuracy, digits: 2) + "%")
    }
    if let test = s.finalTest {
      lines.append(
        "test  loss " + Format.fixed(test.loss, digits: 4) + ", accuracy "
          + Format.fixed(100 * test.accuracy, digits: 2) + "%")
    }
    if let counted = s.countedPass, let rate = counted.meanFiringRate {
      var line = "mean firing rate " + Format.fixed(rate, digits: 4) + " spikes/neuron/step"
      if let ops = counted.synapticOperationsPerSample {
        line += ", " + Format.compact(ops) + " synaptic ops/sample"
      }
      lines.append(line)
    }
    if let energy = s.energyReport { lines.append(energy.summaryLine) }
    lines.append(
      Format.grouped(s.parameterCount) + " parameters, "
        + Format.compact(Double(s.analysis.macsPerStep))
        + " dense MACs per step")
    for (key, value) in s.extra { lines.append("\(key): \(value)") }
    if let checkpoint { lines.append("checkpoint: \(checkpoint)") }
    return lines
  }
}
