import SNN

/// `snn bench train`: training and inference throughput of a method, and peak memory.
struct BenchTrainCommand: Command {
  static let help = CommandHelp(
    name: "bench train",
    abstract: "Measure training and inference throughput (samples/s) and peak memory.",
    discussion: """
      Builds the method and model as 'snn train' does (the method's default options), takes \
      batches of the dataset in a fixed shuffled order, runs --warmup training batches, then \
      times --batches training batches (forward, backward and optimizer step) and as many \
      evaluation batches (forward only), --repeat times each, and reports the median \
      samples per second, and the process CPU time per batch (all threads; on a shared \
      machine the wall-clock rate depends on the load, which is printed too). Peak resident memory is the process's high-water mark at the end \
      (dataset included). With --synthetic the samples are uniform random pixels in the \
      dataset's shape (no data needed; firing rates, and so the spike kernels' share, differ \
      from real data).
      """,
    options: [
      OptionHelp("--method", value: "NAME", help: "Training method.", default: "bptt"),
      OptionHelp("--model", value: "SPEC", help: "Model notation or preset.", default: "mlp"),
      OptionHelp("--dataset", value: "NAME", help: "Dataset.", default: "mnist"),
      OptionHelp("--T", value: "N", help: "Time steps.", default: "the method's"),
      OptionHelp("--batch", value: "N", help: "Batch size.", default: "128"),
      OptionHelp("--threads", value: "K", help: "Worker threads.", default: "the number of cores"),
      OptionHelp(
        "--optimizer", value: "sgd|adam|adamw", help: "Optimizer.", default: "the method's"),
      OptionHelp("--batches", value: "N", help: "Timed batches per run.", default: "20"),
      OptionHelp("--warmup", value: "N", help: "Untimed training batches first.", default: "3"),
      OptionHelp("--repeat", value: "R", help: "Runs; the median is reported.", default: "3"),
      OptionHelp("--seed", value: "S", help: "Seed.", default: "1"),
      OptionHelp(
        "--data", value: "DIR", help: "Data folder.", default: "$SNN_DATA, else ~/.snn/data"),
      .flag("--synthetic", help: "Random inputs instead of the dataset."),
      .flag(
        "--json",
        help:
          "Print JSON (train_samples_per_second, infer_samples_per_second, peak_rss_mb, runs)."),
    ],
    examples: [
      "snn bench train --method bptt --model mlp --T 8 --batch 128 --threads 2",
      "snn bench train --method bptt --model conv --T 5 --batch 128 --threads 2 --json",
    ])

  let descriptor: TrainingMethodDescriptor
  let dataset: TrainingDatasetEntry
  let modelText: String
  let timeSteps: Int
  let batchSize: Int
  let threads: Int?
  let optimizer: OptimizerSettings.Kind?
  let batches: Int
  let warmup: Int
  let repeats: Int
  let seed: UInt64
  let dataRoot: String?
  let synthetic: Bool
  let json: Bool

  init(parsing p: inout ArgumentParser) throws {
    descriptor = try TrainingMethodRegistry.shared.lookup(p.string("--method", default: "bptt"))
    dataset = try TrainingDatasetCatalog.shared.lookup(p.string("--dataset", default: "mnist"))
    modelText = try p.string("--model", default: "mlp")
    timeSteps = try p.optionalInt("--T", in: 1...100_000) ?? descriptor.defaults.timeSteps ?? 4
    batchSize = try p.int("--batch", default: 128, in: 1...100_000)
    threads = try p.optionalInt("--threads", in: 1...1024)
    if let text = try p.string("--optimizer", expected: "one of sgd, adam, adamw") {
      guard let kind = OptimizerSettings.Kind(rawValue: text) else {
        throw CommandLineError.invalidValue(
          option: "--optimizer", value: text, expected: "one of sgd, adam, adamw")
      }
      optimizer = kind
    } else {
      optimizer = nil
    }
    batches = try p.int("--batches", default: 20, in: 1...100_000)
    warmup = try p.int("--warmup", default: 3, in: 0...100_000)
    repeats = try p.int("--repeat", default: 3, in: 1...100)
    seed = UInt64(try p.int("--seed", default: 1, in: 0...Int.max))
    dataRoot = try p.string("--data", expected: "a folder")
    synthetic = try p.flag("--synthetic")
    json = try p.flag("--json")
  }

  func run(in context: CommandContext) throws {
    if let threads { Parallel.setDefaultThreads(threads) }
    let data: any LabelledDataset
    if synthetic {
      data = try SyntheticImages(
        feature: dataset.feature, frames: dataset.name == "nmnist" ? timeSteps : 1,
        classCount: dataset.classCount, count: batchSize * 8, seed: seed)
    } else {
      data = try dataset.load(
        .train,
        TrainingDatasetEntry.Request(
          root: DataRoot.resolve(explicit: dataRoot, environment: context.environment),
          timeSteps: timeSteps))
    }
    var model = try ModelSpec.parse(modelText, input: dataset.feature, field: "--model")
    model.readout = descriptor.defaults.readout
    if let neuron = descriptor.defaults.neuron { model.neuron = neuron }
    let analysis = try model.analyze()
    try Trainer.check(data, fits: model, analysis: analysis)
    let kind = optimizer ?? descriptor.defaults.optimizer ?? .sgd
    let settings = OptimizerSettings(
      kind: kind,
      learningRate: descriptor.defaults.learningRate ?? (kind == .sgd ? 0.1 : 0.001),
      weightDecay: descriptor.defaults.weightDecay ?? 0)
    let configuration = RunConfiguration(
      method: descriptor.name, model: model, dataset: dataset.name, timeSteps: timeSteps,
      epochs: 1, batchSize: batchSize, seed: seed, optimizer: settings,
      methodOptions: try descriptor.resolveOptions([]))
    try configuration.validate()
    let method = try descriptor.makeMethod(
      MethodSetup(
        configuration: configuration, analysis: analysis, sampleShape: data.sampleShape,
        classCount: data.classCount))

    // Batches in a fixed shuffled order, loaded once (loading is not timed).
    let order = EpochOrder.permutation(sampleCount: data.sampleCount, seed: seed, epoch: 0)
    let needed = min(warmup + batches, max(1, data.sampleCount / batchSize))
    var loaded: [Batch] = []
    for b in 0..<needed {
      let start = (b * batchSize) % max(1, data.sampleCount - batchSize + 1)
      loaded.append(try Batch.load(order[start..<min(start + batchSize, order.count)], from: data))
    }
    var step = 0
    func trainOnce(_ batch: Batch) throws {
      _ = try method.trainBatch(
        batch,
        context: StepContext(
          epoch: 0, epochs: 1, batchIndex: step, batchesPerEpoch: batches, globalStep: step,
          learningRate: settings.learningRate,
          random: RandomStreams.generator(seed, "train-step", step)))
      step += 1
    }
    for b in 0..<warmup { try trainOnce(loaded[b % loaded.count]) }
    var trainRates: [Double] = []
    var inferRates: [Double] = []
    var trainCPU: [Double] = []
    var inferCPU: [Double] = []
    let loadBefore = BenchTrainCommand.loadAverage()
    for _ in 0..<repeats {
      var samples = 0
      let watch = Stopwatch()
      var cpu = CPUTime.processSeconds()
      for b in 0..<batches {
        let batch = loaded[(warmup + b) % loaded.count]
        try trainOnce(batch)
        samples += batch.count
      }
      trainRates.append(Double(samples) / watch.elapsedSeconds)
      trainCPU.append((CPUTime.processSeconds() - cpu) / Double(batches))
      samples = 0
      cpu = CPUTime.processSeconds()
      let evalWatch = Stopwatch()
      for b in 0..<batches {
        let batch = loaded[(warmup + b) % loaded.count]
        _ = try method.evaluateBatch(
          batch,
          context: EvaluationContext(
            batchIndex: b, random: RandomStreams.generator(seed, "evaluation", b)))
        samples += batch.count
      }
      inferRates.append(Double(samples) / evalWatch.elapsedSeconds)
      inferCPU.append((CPUTime.processSeconds() - cpu) / Double(batches))
    }
    let loadAfter = BenchTrainCommand.loadAverage()
    func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
    let peak = Double(ResourceUsage.peakResidentBytes()) / 1_048_576
    if json {
      context.printJSON([
        "method": JSONValue(descriptor.name), "model": JSONValue(model.notation),
        "dataset": JSONValue(synthetic ? "synthetic" : dataset.name), "T": JSONValue(timeSteps),
        "batch_size": JSONValue(batchSize), "threads": JSONValue(Parallel.defaultThreads),
        "optimizer": JSONValue(kind.rawValue),
        "train_samples_per_second": JSONValue(median(trainRates)),
        "infer_samples_per_second": JSONValue(median(inferRates)),
        "peak_rss_mb": JSONValue(peak),
        "train_runs": JSONValue(trainRates), "infer_runs": JSONValue(inferRates),
        "train_cpu_seconds_per_batch": JSONValue(median(trainCPU)),
        "infer_cpu_seconds_per_batch": JSONValue(median(inferCPU)),
        "load_average": loadBefore.map { JSONValue([$0, loadAfter ?? $0]) } ?? .null,
      ])
      return
    }
    context.print(
      "\(descriptor.name) \(model.notation) T=\(timeSteps) batch \(batchSize), "
        + "\(Parallel.defaultThreads) threads, \(kind.rawValue), "
        + (synthetic ? "synthetic data" : dataset.name)
        + ", median of \(repeats) × \(batches) batches")
    context.print(
      "train  " + Format.grouped(Int(median(trainRates).rounded())) + " samples/s  (runs: "
        + trainRates.map { Format.grouped(Int($0.rounded())) }.joined(separator: ", ") + ")")
    context.print(
      "infer  " + Format.grouped(Int(median(inferRates).rounded())) + " samples/s  (runs: "
        + inferRates.map { Format.grouped(Int($0.rounded())) }.joined(separator: ", ") + ")")
    context.print(
      "CPU per batch: train " + Format.fixed(1000 * median(trainCPU), digits: 1) + " ms, infer "
        + Format.fixed(1000 * median(inferCPU), digits: 1) + " ms (all threads)")
    context.print(
      "peak RSS " + Format.fixed(peak, digits: 0) + " MB"
        + (loadBefore.map {
          "; load average " + Format.fixed($0, digits: 2) + " before, "
            + Format.fixed(loadAfter ?? $0, digits: 2) + " after"
        } ?? ""))
  }
}

extension BenchTrainCommand {
  /// The one-minute load average (`/proc/loadavg`), or nil where there is none.
  static func loadAverage() -> Double? {
    guard let bytes = try? FileIO.read("/proc/loadavg") else { return nil }
    let text = String(decoding: bytes, as: UTF8.self)
    return text.split(separator: " ").first.flatMap { Double($0) }
  }
}

/// Uniform random inputs in a dataset's shape with random labels (for `--synthetic`).
struct SyntheticImages: LabelledDataset {
  let name = "synthetic"
  let sampleCount: Int
  let classCount: Int
  let sampleShape: SampleShape
  let inputs: [Float]
  let labels: [Int]

  init(feature: FeatureShape, frames: Int, classCount: Int, count: Int, seed: UInt64) throws {
    sampleShape = SampleShape(frames: frames, feature: feature)
    sampleCount = count
    self.classCount = classCount
    var g = RandomStreams.generator(seed, "bench/synthetic")
    inputs = (0..<(count * sampleShape.elementCount)).map { _ in Float(g.nextUnitDouble()) }
    labels = (0..<count).map { _ in g.nextIndex(below: classCount) }
  }

  func fill(indices: ArraySlice<Int>, inputs out: inout [Float], labels outLabels: inout [Int]) {
    let n = sampleShape.elementCount
    for (row, index) in indices.enumerated() {
      for i in 0..<n { out[row * n + i] = inputs[index * n + i] }
      outLabels[row] = labels[index]
    }
  }
}
