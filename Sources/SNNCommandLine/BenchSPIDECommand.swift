import SNN

/// `snn bench spide`: training and inference throughput of SPIDE on the event engine.
struct BenchSPIDECommand: Command {
  static let help = CommandHelp(
    name: "bench spide",
    abstract: "Time SPIDE training (forward + backward phases + update) and inference per sample.",
    discussion: """
      Trains the model on the first --batch × --batches MNIST training images (synthetic \
      random images when MNIST is not in the data folder; the output says which), after \
      --warmup training batches, --repeat times, and reports the median training throughput \
      (samples per second, wall clock), the process CPU time per sample, the inference \
      throughput (forward phase and readout only), and per sample: forward and backward \
      synaptic events, spikes, firing rates, and the dense MACs of the same network over T + T_b \
      steps. On a shared machine the CPU time per sample is the steadier figure.

      A fresh network fires less than a trained one. --checkpoint starts from the parameters \
      of a SPIDE checkpoint of an MNIST-shaped model instead; its model, T and method options \
      (T_b, dropout) then replace --model, --T, --T-backward, --dropout and --dropout-fc.
      """,
    options: [
      OptionHelp("--model", value: "SPEC", help: "Model.", default: "15C5p2-AP2-40C5p2-AP2-300-10"),
      OptionHelp("--T", value: "N", help: "Forward steps.", default: "30"),
      OptionHelp("--T-backward", value: "N", help: "Backward steps.", default: "100"),
      OptionHelp("--batch", value: "N", help: "Batch size.", default: "128"),
      OptionHelp("--batches", value: "N", help: "Timed training batches per repeat.", default: "4"),
      OptionHelp("--warmup", value: "N", help: "Training batches before timing.", default: "2"),
      OptionHelp("--repeat", value: "R", help: "Repeats; medians are reported.", default: "5"),
      OptionHelp("--threads", value: "K", help: "Worker threads.", default: "2"),
      OptionHelp("--dropout-fc", value: "P", help: "Dropout of hidden linear layers.", default: "0.5"),
      OptionHelp("--dropout", value: "P", help: "Dropout of conv layers.", default: "0"),
      OptionHelp("--checkpoint", value: "FILE", help: "Time the trained network of this SPIDE checkpoint."),
      OptionHelp("--data", value: "DIR", help: "Data folder.", default: "$SNN_DATA, else ~/.snn/data"),
      .flag("--json", help: "Print the figures as one JSON object."),
    ],
    examples: [
      "snn bench spide", "snn bench spide --threads 1 --repeat 7 --json",
      "snn bench spide --checkpoint mnist-lenet.ckpt",
    ])

  var model: String
  var timeSteps: Int
  var backwardSteps: Int
  var batchSize: Int
  var batches: Int
  var warmup: Int
  var repeats: Int
  var threads: Int
  var dropoutFC: Double
  var dropout: Double
  var checkpointPath: String?
  var data: String?
  var json: Bool

  init(parsing p: inout ArgumentParser) throws {
    model = try p.string("--model", default: "15C5p2-AP2-40C5p2-AP2-300-10")
    timeSteps = try p.int("--T", default: 30, in: 1...100_000)
    backwardSteps = try p.int("--T-backward", default: 100, in: 1...100_000)
    batchSize = try p.int("--batch", default: 128, in: 1...100_000)
    batches = try p.int("--batches", default: 4, in: 1...100_000)
    warmup = try p.int("--warmup", default: 2, in: 0...100_000)
    repeats = try p.int("--repeat", default: 5, in: 1...1000)
    threads = try p.int("--threads", default: 2, in: 1...1024)
    dropoutFC = try p.double("--dropout-fc", default: 0.5, in: 0...0.95)
    dropout = try p.double("--dropout", default: 0, in: 0...0.95)
    checkpointPath = try p.string("--checkpoint", expected: "a SPIDE checkpoint file")
    data = try p.string("--data", expected: "a folder")
    json = try p.flag("--json")
  }

  func run(in context: CommandContext) throws {
    Parallel.setDefaultThreads(threads)
    let feature = FeatureShape(channels: 1, height: 28, width: 28)
    let count = batchSize * max(batches, warmup, 1)
    let root = DataRoot.resolve(explicit: data, environment: context.environment)
    let dataset: InMemoryDataset
    let source: String
    if let images = try? MNIST.load(.mnist, split: .train, root: root) {
      let n = min(count, images.count)
      dataset = try InMemoryDataset(
        name: "mnist", sampleShape: SampleShape(feature: feature), classCount: 10,
        inputs: images.normalizedBatch(0..<n, .mnist), labels: images.labels(0..<n).map { Int($0) })
      source = "MNIST (first \(n) training images)"
    } else {
      var g = Xoshiro256StarStar(seed: 1)
      let inputs = (0..<(count * 784)).map { _ in Float(g.nextUniform(-0.42, 2.8)) }
      dataset = try InMemoryDataset(
        name: "synthetic", sampleShape: SampleShape(feature: feature), classCount: 10,
        inputs: inputs, labels: (0..<count).map { $0 % 10 })
      source = "synthetic random images (MNIST not found under \(root.path))"
    }
    let descriptor = try TrainingMethodRegistry.shared.lookup("spide")
    var configuration: RunConfiguration
    var saved: TrainingCheckpoint?
    if let checkpointPath {
      let checkpoint = try TrainingCheckpoint.read(checkpointPath)
      configuration = checkpoint.configuration
      guard configuration.method == "spide" else {
        throw ConfigurationError.invalid(
          field: "method of \(checkpointPath)", value: configuration.method, expected: "spide")
      }
      guard configuration.model.input == feature else {
        throw ConfigurationError.invalid(
          field: "model of \(checkpointPath)", value: configuration.model.notation,
          expected: "a model of 1×28×28 images (MNIST or Fashion-MNIST)")
      }
      configuration.batchSize = batchSize
      saved = checkpoint
    } else {
      var spec = try ModelSpec.parse(model, input: feature, field: "--model")
      spec.readout = .linear
      let options = try descriptor.resolveOptions([
        ("T-backward", JSONValue(backwardSteps)), ("dropout-fc", JSONValue(dropoutFC)),
        ("dropout", JSONValue(dropout)),
      ])
      configuration = RunConfiguration(
        method: "spide", model: spec, dataset: dataset.name, timeSteps: timeSteps, epochs: 1,
        batchSize: batchSize, seed: 1,
        optimizer: OptimizerSettings(
          kind: .sgd, learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4, schedule: .constant),
        methodOptions: options)
    }
    try configuration.validate()
    let spec = configuration.model
    let timeSteps = configuration.timeSteps
    let backwardSteps = configuration.methodOptions.int("T-backward")
    let analysis = try spec.analyze()
    let method = try descriptor.makeMethod(
      MethodSetup(
        configuration: configuration, analysis: analysis, sampleShape: dataset.sampleShape,
        classCount: 10))
    if let saved, let checkpointPath {
      do {
        try method.restoreState(saved.methodState)
      } catch {
        throw error.at(path: checkpointPath)
      }
    }
    let available = dataset.sampleCount / batchSize
    func batch(_ k: Int) throws -> Batch {
      let start = (k % max(available, 1)) * batchSize
      return try Batch.load(Array(start..<(start + batchSize))[...], from: dataset)
    }
    var step = 0
    func train(_ b: Batch) throws -> BatchMetrics {
      defer { step += 1 }
      return try method.trainBatch(
        b,
        context: StepContext(
          epoch: 0, epochs: 1, batchIndex: step, batchesPerEpoch: batches, globalStep: step,
          learningRate: 0.1, random: RandomStreams.generator(1, "train-step", step)))
    }
    for k in 0..<warmup { _ = try train(try batch(k)) }
    let timed = try (0..<batches).map { try batch(warmup + $0) }
    var trainRates: [Double] = []
    var trainCPU: [Double] = []
    var inferenceRates: [Double] = []
    var sums: [String: Double] = [:]
    var measured = 0
    for r in 0..<repeats {
      let cpu = CPUTime.processSeconds()
      let watch = Stopwatch()
      for b in timed {
        let m = try train(b)
        if r == 0 {
          for (k, v) in m.extraSums { sums[k, default: 0] += v }
          measured += m.sampleCount
        }
      }
      let seconds = watch.elapsedSeconds
      trainCPU.append((CPUTime.processSeconds() - cpu) / Double(batches * batchSize))
      trainRates.append(Double(batches * batchSize) / seconds)
      let inference = Stopwatch()
      for (k, b) in timed.enumerated() {
        _ = try method.evaluateBatch(
          b, context: EvaluationContext(batchIndex: k, random: RandomStreams.generator(1, "evaluation", k)))
      }
      inferenceRates.append(Double(batches * batchSize) / inference.elapsedSeconds)
    }
    func median(_ x: [Double]) -> Double { x.sorted()[x.count / 2] }
    let n = Double(measured)
    let neuronsForward = sums["forward_neuron_steps", default: 0]
    let neuronsBackward = sums["backward_neuron_steps", default: 0]
    let dense = Double(analysis.macsPerStep) * Double(timeSteps + backwardSteps)
    let result: JSONValue = [
      "model": JSONValue(spec.notation), "checkpoint": checkpointPath.map { JSONValue($0) } ?? nil,
      "data": JSONValue(source), "T": JSONValue(timeSteps),
      "T_backward": JSONValue(backwardSteps), "batch": JSONValue(batchSize),
      "threads": JSONValue(threads), "repeats": JSONValue(repeats),
      "train_samples_per_second": JSONValue(median(trainRates)),
      "train_samples_per_second_all": JSONValue(trainRates),
      "train_cpu_ms_per_sample": JSONValue(1000 * median(trainCPU)),
      "inference_samples_per_second": JSONValue(median(inferenceRates)),
      "forward_synaptic_events_per_sample": JSONValue(sums["forward_synaptic_events", default: 0] / n),
      "backward_synaptic_events_per_sample": JSONValue(sums["backward_synaptic_events", default: 0] / n),
      "forward_spikes_per_sample": JSONValue(sums["forward_spikes", default: 0] / n),
      "backward_spikes_per_sample": JSONValue(sums["backward_spikes", default: 0] / n),
      "forward_rate": JSONValue(sums["forward_spikes", default: 0] / max(neuronsForward, 1)),
      "backward_rate": JSONValue(sums["backward_spikes", default: 0] / max(neuronsBackward, 1)),
      "forward_block_evaluations_per_sample": JSONValue(sums["forward_block_evaluations", default: 0] / n),
      "backward_block_evaluations_per_sample": JSONValue(sums["backward_block_evaluations", default: 0] / n),
      "dense_macs_per_sample": JSONValue(dense),
    ]
    if json {
      context.printJSON(result)
      return
    }
    if let checkpointPath { context.print("trained network: \(checkpointPath)") }
    context.print("SPIDE \(spec.notation), T \(timeSteps), T_b \(backwardSteps), batch \(batchSize), \(threads) threads, \(source)")
    context.print(
      "training: " + Format.fixed(median(trainRates), digits: 1) + " samples/s (median of \(repeats): "
        + trainRates.map { Format.fixed($0, digits: 1) }.joined(separator: ", ") + "), "
        + Format.fixed(1000 * median(trainCPU), digits: 2) + " ms CPU per sample")
    context.print("inference: " + Format.fixed(median(inferenceRates), digits: 1) + " samples/s")
    context.print(
      "per sample: forward " + Format.compact(sums["forward_synaptic_events", default: 0] / n)
        + " synaptic events, " + Format.compact(sums["forward_spikes", default: 0] / n)
        + " spikes; backward " + Format.compact(sums["backward_synaptic_events", default: 0] / n)
        + " synaptic events, " + Format.compact(sums["backward_spikes", default: 0] / n) + " spikes")
    context.print(
      "firing rates: forward " + Format.fixed(sums["forward_spikes", default: 0] / max(neuronsForward, 1), digits: 4)
        + ", backward " + Format.fixed(sums["backward_spikes", default: 0] / max(neuronsBackward, 1), digits: 5)
        + " spikes per neuron per step; dense MACs over T + T_b: " + Format.compact(dense))
  }
}
