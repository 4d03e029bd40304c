import SNN

/// `snn bench edbp`: training throughput of event-driven backprop and its event counts
/// against the dense MACs of the same network.
struct BenchEDBPCommand: Command {
  static let help = CommandHelp(
    name: "bench edbp",
    abstract: "Measure EDBP training speed (samples/s) and events per sample vs dense MACs.",
    discussion: """
      Trains the EDBP method (Zhu et al. 2022) on the first --samples MNIST training images \
      (batches of --batch, T = 5, the given --model) once per thread count and repeat, after \
      the initial scale search (not timed), each repeat from the same starting weights. \
      Prints the median samples/s per thread count (wall clock) and samples per second of \
      process CPU time (steadier on a shared machine), the forward synaptic events and \
      backward events per sample, and the dense MACs of the same network (MACs per step × \
      T), whose ratio shows what event-driven training saves.
      """,
    options: [
      OptionHelp("--samples", value: "N", help: "Training samples per repeat.", default: "1000"),
      OptionHelp("--batch", value: "N", help: "Mini-batch size.", default: "50"),
      OptionHelp(
        "--model", value: "SPEC", help: "Architecture.", default: "15C5-AP2-40C5-AP2-300-10"),
      OptionHelp(
        "--threads-list", value: "LIST", help: "Thread counts to measure.", default: "1,2"),
      OptionHelp(
        "--repeat", value: "R",
        help: "Runs per thread count; the median is reported (--repeats is accepted too).",
        default: "3"),
      OptionHelp(
        "--data", value: "DIR", help: "Data folder.", default: "$SNN_DATA, else ~/.snn/data"),
      .flag("--json", help: "Print JSON."),
    ])

  var samples: Int
  var batch: Int
  var model: String
  var threadsList: [Int]
  var repeats: Int
  var data: String?
  var json: Bool

  init(parsing arguments: inout ArgumentParser) throws {
    samples = try arguments.int("--samples", default: 1000, in: 1...60_000)
    batch = try arguments.int("--batch", default: 50, in: 1...10_000)
    model = try arguments.string("--model", default: "15C5-AP2-40C5-AP2-300-10")
    threadsList = try arguments.intList("--threads-list", default: [1, 2], in: 1...1024)
    // `--repeat` as in the other bench commands; `--repeats`, the first spelling, still works.
    let singular = try arguments.optionalInt("--repeat", in: 1...1000)
    let plural = try arguments.optionalInt("--repeats", in: 1...1000)
    if singular != nil, plural != nil {
      throw CommandLineError.invalidValue(
        option: "--repeats", value: "\(plural!)", expected: "either --repeat or --repeats, not both")
    }
    repeats = singular ?? plural ?? 3
    data = try arguments.string("--data", expected: "a folder")
    json = try arguments.flag("--json")
  }

  func run(in context: CommandContext) throws {
    let root = DataRoot.resolve(explicit: data, environment: context.environment)
    let train = try TrainingDatasetCatalog.shared.lookup("mnist").load(
      .train, TrainingDatasetEntry.Request(root: root, timeSteps: 5))
    let set = DatasetPrefix(train, count: min(samples, train.sampleCount))
    var spec = try ModelSpec.parse(model, input: set.sampleShape.feature, field: "--model")
    spec.readout = .spiking
    let descriptor = EDBPMethod.descriptor
    let configuration = RunConfiguration(
      method: "edbp", model: spec, dataset: "mnist", timeSteps: 5, epochs: 1, batchSize: batch,
      seed: 3, optimizer: OptimizerSettings(kind: .adamw, learningRate: 5e-4, weightDecay: 5e-4),
      methodOptions: try descriptor.resolveOptions([]))
    let setup = MethodSetup(
      configuration: configuration, analysis: try spec.analyze(), sampleShape: set.sampleShape,
      classCount: set.classCount)
    var batches: [Batch] = []
    var start = 0
    while start < set.sampleCount {
      let end = min(start + batch, set.sampleCount)
      batches.append(try Batch.load(Array(start..<end)[...], from: set))
      start = end
    }
    // The scale search once; every repeat starts from its result.
    let initial = try EDBPMethod(setup: setup)
    initial.scaleSearch(batches[0])
    let state = initial.exportState()
    var results: [(threads: Int, median: Double, all: [Double], cpu: Double)] = []
    var forward = 0.0, backward = 0.0, backwardSpikes = 0.0
    for threads in threadsList {
      var rates: [Double] = []
      var cpuRates: [Double] = []
      for _ in 0..<repeats {
        let method = try EDBPMethod(setup: setup)
        try method.restoreState(state)
        method.threadCount = threads
        var f = 0.0, b = 0.0, s = 0.0
        let clock = Stopwatch()
        let cpuStart = CPUTime.processSeconds()
        for (k, item) in batches.enumerated() {
          let metrics = try method.trainBatch(
            item,
            context: StepContext(
              epoch: 0, epochs: 1, batchIndex: k, batchesPerEpoch: batches.count, globalStep: k,
              learningRate: 5e-4, random: Xoshiro256StarStar(seed: UInt64(k))))
          for (key, value) in metrics.extraSums {
            if key == "forward_synaptic_events" { f += value }
            if key == "backward_events" { b += value }
            if key == "backward_spike_events" { s += value }
          }
        }
        rates.append(Double(set.sampleCount) / clock.elapsedSeconds)
        cpuRates.append(Double(set.sampleCount) / (CPUTime.processSeconds() - cpuStart))
        let n = Double(set.sampleCount)
        (forward, backward, backwardSpikes) = (f / n, b / n, s / n)
      }
      let sorted = rates.sorted()
      results.append(
        (threads, sorted[sorted.count / 2], rates, cpuRates.sorted()[cpuRates.count / 2]))
    }
    let dense = Double(try spec.analyze().macsPerStep * 5)
    if json {
      context.printJSON(
        .object([
          ("model", .string(spec.notation)), ("samples", .number(Double(set.sampleCount))),
          ("batch", .number(Double(batch))),
          ("forward_synaptic_events_per_sample", .number(forward)),
          ("backward_events_per_sample", .number(backward)),
          ("backward_spike_events_per_sample", .number(backwardSpikes)),
          ("dense_macs_per_sample", .number(dense)),
          (
            "samples_per_second",
            .array(
              results.map {
                .object([
                  ("threads", .number(Double($0.threads))), ("median", .number($0.median)),
                  ("per_cpu_second_median", .number($0.cpu)),
                  ("runs", .array($0.all.map { .number($0) })),
                ])
              })
          ),
        ]))
    } else {
      context.print(
        "edbp \(spec.notation), T 5, \(Format.grouped(set.sampleCount)) MNIST samples, batch \(batch)"
      )
      context.print(
        "per sample: forward synaptic events " + Format.compact(forward) + ", backward events "
          + Format.compact(backward) + " (" + Format.compact(backwardSpikes)
          + " gradient-carrying spikes), dense MACs " + Format.compact(dense))
      context.print(
        "events / dense MACs: forward " + Format.fixed(forward / dense, digits: 3) + ", backward "
          + Format.fixed(backward / dense, digits: 3))
      for r in results {
        context.print(
          "\(r.threads) thread(s): " + Format.fixed(r.median, digits: 0) + " samples/s (median of "
            + r.all.map { Format.fixed($0, digits: 0) }.joined(separator: ", ") + "); "
            + Format.fixed(r.cpu, digits: 0) + " samples per CPU-second")
      }
    }
  }
}
