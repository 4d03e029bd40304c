import SNN

/// `snn bench memory-probe` (hidden): one T of `snn bench memory`, in a process of its own so
/// that the peak resident memory it reports belongs to that T alone. Prints one JSON object.
struct BenchMemoryProbeCommand: Command {
  static let help = CommandHelp(
    name: "bench memory-probe",
    abstract: "One measurement of 'snn bench memory' (internal; run in a child process).",
    options: BenchMemoryCommand.sharedOptions + [
      OptionHelp("--T", value: "N", help: "Time steps.")
    ])

  let settings: BenchMemoryCommand.Settings
  let timeSteps: Int

  init(parsing p: inout ArgumentParser) throws {
    settings = try BenchMemoryCommand.Settings(parsing: &p)
    guard let t = try p.optionalInt("--T", in: 1...100_000) else {
      throw CommandLineError.missingOption(option: "--T", expected: "a number of time steps")
    }
    timeSteps = t
  }

  func run(in context: CommandContext) throws {
    let result = try BenchMemoryProbeCommand.measure(
      settings, timeSteps: timeSteps, environment: context.environment)
    context.standardOutput.write(result.json.rendered(pretty: false) + "\n")
  }

  /// What one T measured.
  struct Result: Equatable {
    var timeSteps: Int
    /// The process's peak resident set after the timed batches (MB, 2²⁰ bytes).
    var peakResidentMB: Double
    /// The resident set after loading the data, before the method was built (MB).
    var baselineResidentMB: Double
    /// Median wall-clock seconds of one training batch (forward, backward, step).
    var secondsPerBatch: Double
    /// Median process CPU seconds (all threads) of one training batch.
    var cpuSecondsPerBatch: Double
    /// Every timed batch's wall-clock seconds.
    var batchSeconds: [Double]

    var json: JSONValue {
      [
        "T": JSONValue(timeSteps), "peak_rss_mb": JSONValue(peakResidentMB),
        "baseline_rss_mb": JSONValue(baselineResidentMB),
        "seconds_per_batch": JSONValue(secondsPerBatch),
        "cpu_seconds_per_batch": JSONValue(cpuSecondsPerBatch),
        "batch_seconds": JSONValue(batchSeconds),
      ]
    }

    init(
      timeSteps: Int, peakResidentMB: Double, baselineResidentMB: Double,
      secondsPerBatch: Double, cpuSecondsPerBatch: Double, batchSeconds: [Double]
    ) {
      self.timeSteps = timeSteps
      self.peakResidentMB = peakResidentMB
      self.baselineResidentMB = baselineResidentMB
      self.secondsPerBatch = secondsPerBatch
      self.cpuSecondsPerBatch = cpuSecondsPerBatch
      self.batchSeconds = batchSeconds
    }

    /// Reads a child's output line; nil when a key is missing or has the wrong type.
    init?(_ value: JSONValue) {
      guard let members = value.objectMembers else { return nil }
      func number(_ key: String) -> Double? {
        members.first { $0.key == key }?.value.doubleValue
      }
      guard let t = members.first(where: { $0.key == "T" })?.value.intValue,
        let peak = number("peak_rss_mb"), let base = number("baseline_rss_mb"),
        let seconds = number("seconds_per_batch"), let cpu = number("cpu_seconds_per_batch"),
        let all = members.first(where: { $0.key == "batch_seconds" })?.value.arrayValue
      else { return nil }
      let times = all.compactMap(\.doubleValue)
      guard times.count == all.count else { return nil }
      self.init(
        timeSteps: t, peakResidentMB: peak, baselineResidentMB: base, secondsPerBatch: seconds,
        cpuSecondsPerBatch: cpu, batchSeconds: times)
    }
  }

  /// Builds the method as `snn train` would (its defaults plus the given options), loads
  /// `warmup + batches` batches, trains on them and times each training batch. Peak resident
  /// memory is the process's high-water mark, so call this once per process.
  static func measure(
    _ s: BenchMemoryCommand.Settings, timeSteps: Int, environment: [String: String]
  ) throws -> Result {
    if let threads = s.threads { Parallel.setDefaultThreads(threads) }
    let descriptor = s.descriptor
    let dataset = s.dataset
    let data: any LabelledDataset
    let needed = s.warmup + s.batches
    if s.synthetic {
      data = try SyntheticImages(
        feature: dataset.feature, frames: dataset.name.hasPrefix("nmnist") ? timeSteps : 1,
        classCount: dataset.classCount, count: s.batchSize * min(needed, 4), seed: s.seed)
    } else {
      // The test split: smaller than the training split, so less of the baseline is data.
      data = try dataset.load(
        .test,
        TrainingDatasetEntry.Request(
          root: DataRoot.resolve(explicit: s.dataRoot, environment: environment),
          timeSteps: timeSteps))
    }
    var model = try ModelSpec.parse(s.modelText, input: dataset.feature, field: "--model")
    model.readout = descriptor.defaults.readout
    if let neuron = descriptor.defaults.neuron { model.neuron = neuron }
    let analysis = try model.analyze()
    try Trainer.check(data, fits: model, analysis: analysis)
    let kind = descriptor.defaults.optimizer ?? .sgd
    let optimizer = OptimizerSettings(
      kind: kind,
      learningRate: descriptor.defaults.learningRate ?? (kind == .sgd ? 0.1 : 0.001),
      weightDecay: descriptor.defaults.weightDecay ?? 0)
    let configuration = RunConfiguration(
      method: descriptor.name, model: model, dataset: dataset.name, timeSteps: timeSteps,
      epochs: 1, batchSize: s.batchSize, seed: s.seed, optimizer: optimizer,
      methodOptions: try descriptor.resolveOptions(s.methodOptions))
    try configuration.validate()

    // Batches in a fixed shuffled order, loaded before the baseline is taken.
    let order = EpochOrder.permutation(sampleCount: data.sampleCount, seed: s.seed, epoch: 0)
    let distinct = max(1, min(needed, data.sampleCount / s.batchSize))
    var loaded: [Batch] = []
    for b in 0..<distinct {
      let start = b * s.batchSize
      loaded.append(
        try Batch.load(order[start..<min(start + s.batchSize, order.count)], from: data))
    }
    let baseline = Double(ResourceUsage.currentResidentBytes()) / 1_048_576

    let method = try descriptor.makeMethod(
      MethodSetup(
        configuration: configuration, analysis: analysis, sampleShape: data.sampleShape,
        classCount: data.classCount))
    var times: [Double] = []
    var cpu: [Double] = []
    for step in 0..<needed {
      let batch = loaded[step % loaded.count]
      let watch = Stopwatch()
      let cpuStart = CPUTime.processSeconds()
      _ = try method.trainBatch(
        batch,
        context: StepContext(
          epoch: 0, epochs: 1, batchIndex: step, batchesPerEpoch: needed, globalStep: step,
          learningRate: optimizer.learningRate,
          random: RandomStreams.generator(s.seed, "train-step", step)))
      if step >= s.warmup {
        times.append(watch.elapsedSeconds)
        cpu.append(CPUTime.processSeconds() - cpuStart)
      }
    }
    func median(_ v: [Double]) -> Double {
      let sorted = v.sorted()
      let n = sorted.count
      return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
    return Result(
      timeSteps: timeSteps,
      peakResidentMB: Double(ResourceUsage.peakResidentBytes()) / 1_048_576,
      baselineResidentMB: baseline, secondsPerBatch: median(times),
      cpuSecondsPerBatch: median(cpu), batchSeconds: times)
  }
}
