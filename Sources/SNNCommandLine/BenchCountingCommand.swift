import SNN

/// `snn bench counting`: what exact operation counting costs, on the event engine and on the
/// dense backend, counting on against counting off in alternating runs.
struct BenchCountingCommand: Command {
  static let help = CommandHelp(
    name: "bench counting",
    abstract: "Measure the cost of synaptic-operation counting (on vs off, both backends).",
    discussion: """
      Event engine: simulates the CUBA network (--neurons, 1 s) with counting on and off in \
      alternating runs and compares the median thread CPU times. Dense backend: runs \
      training batches (forward and backward, no optimizer step, so the relative cost is \
      not diluted) of --model at --T with batch --batch on uniform random pixels, counting \
      on and off alternately, and compares the median process CPU times per batch. The \
      overhead is (on − off) / off; it is noise-limited, so read it with the spread, which \
      is printed too.
      """,
    options: [
      OptionHelp("--neurons", value: "N", help: "CUBA size.", default: "4000"),
      OptionHelp("--model", value: "SPEC", help: "Dense model notation or preset.", default: "conv"),
      OptionHelp("--T", value: "N", help: "Time steps of the dense model.", default: "5"),
      OptionHelp("--batch", value: "N", help: "Batch size.", default: "64"),
      OptionHelp("--batches", value: "N", help: "Dense batches per run.", default: "5"),
      OptionHelp("--repeat", value: "R", help: "Runs per setting (alternating); medians are reported.", default: "7"),
      OptionHelp("--threads", value: "K", help: "Worker threads of the dense backend.", default: "the number of cores"),
      .flag("--json", help: "Print JSON (engine and dense objects with on/off seconds and overhead_percent)."),
    ],
    examples: ["snn bench counting", "snn bench counting --neurons 16000 --model mlp --T 8 --repeat 9"])

  var neurons: Int
  var modelText: String
  var timeSteps: Int
  var batchSize: Int
  var batches: Int
  var repeats: Int
  var threads: Int?
  var json: Bool

  init(parsing p: inout ArgumentParser) throws {
    neurons = try p.int("--neurons", default: 4000, in: 5...10_000_000)
    modelText = try p.string("--model", default: "conv")
    timeSteps = try p.int("--T", default: 5, in: 1...1000)
    batchSize = try p.int("--batch", default: 64, in: 1...4096)
    batches = try p.int("--batches", default: 5, in: 1...1000)
    repeats = try p.int("--repeat", default: 7, in: 1...101)
    threads = try p.optionalInt("--threads", in: 1...1024)
    json = try p.flag("--json")
  }

  struct Comparison {
    var on: [Double]
    var off: [Double]
    static func median(_ x: [Double]) -> Double { x.sorted()[x.count / 2] }
    var overheadPercent: Double { 100 * (Comparison.median(on) - Comparison.median(off)) / Comparison.median(off) }
    /// Half the interquartile range of the off runs, relative to their median (%).
    var spreadPercent: Double {
      let s = off.sorted()
      return 100 * (s[(3 * s.count) / 4] - s[s.count / 4]) / 2 / Comparison.median(off)
    }
    var json: JSONValue {
      .object([
        ("seconds_on", .number(Comparison.median(on))), ("seconds_off", .number(Comparison.median(off))),
        ("overhead_percent", .number(overheadPercent)), ("spread_percent", .number(spreadPercent)),
      ])
    }
  }

  func run(in context: CommandContext) throws {
    if let threads { Parallel.setDefaultThreads(threads) }
    let progress = ProgressLine(context: context, enabled: !json)
    // Event engine.
    let network = try CUBA.spec(neurons: neurons).build(seed: 1)
    var engine = Comparison(on: [], off: [])
    for r in 0..<(2 * repeats) {
      let counting = r % 2 == 0
      progress.update("engine run \(r + 1)/\(2 * repeats)")
      let simulator = Simulator(network: network, recordSpikes: false)
      simulator.countsOperations = counting
      let cpu = CPUTime.threadSeconds()
      simulator.run(until: 1000)
      let seconds = CPUTime.threadSeconds() - cpu
      if counting { engine.on.append(seconds) } else { engine.off.append(seconds) }
    }
    // Dense backend.
    let input = FeatureShape(channels: 1, height: 28, width: 28)
    let notation = ModelSpec.presetNotation(modelText, input: input) ?? modelText
    let spec = try ModelSpec.parse(notation, input: input)
    var rng = Xoshiro256StarStar(seed: 7)
    let pixels = (0..<(batchSize * input.elementCount)).map { _ in Float(rng.nextUnitDouble()) }
    let classes = try spec.analyze().layers.last!.output.elementCount
    let gradient = Tensor(shape: [batchSize, classes]) { _ in Float(rng.nextUnitDouble() - 0.5) / Float(batchSize) }
    let shape = SampleShape(frames: 1, feature: input)
    var models: [Bool: DenseModel] = [:]
    for counting in [true, false] {
      models[counting] = try DenseModel(
        spec: spec, configuration: DenseModel.Configuration(timeSteps: timeSteps, countsOperations: counting), seed: 1)
    }
    var dense = Comparison(on: [], off: [])
    for r in 0..<(2 * repeats + 2) {
      let counting = r % 2 == 0
      progress.update("dense run \(r + 1)/\(2 * repeats + 2)")
      let model = models[counting]!
      let cpu = CPUTime.processSeconds()
      for _ in 0..<batches {
        _ = model.forward(inputs: pixels, sampleShape: shape, batchSize: batchSize)
        model.parameters.zeroGradients()
        model.backward(gradient)
      }
      let seconds = (CPUTime.processSeconds() - cpu) / Double(batches)
      // The first pair warms up.
      if r < 2 { continue }
      if counting { dense.on.append(seconds) } else { dense.off.append(seconds) }
    }
    progress.finish()
    if json {
      context.printJSON(
        .object([
          ("engine", engine.json), ("engine_network", .string("CUBA \(neurons) neurons, 1 s")),
          ("dense", dense.json),
          ("dense_network", .string("\(notation), T = \(timeSteps), batch \(batchSize), forward + backward")),
        ]))
      return
    }
    func row(_ name: String, _ c: Comparison, _ unit: String) -> String {
      name.padding(to: 44) + Format.fixed(Comparison.median(c.on), digits: 4).padding(to: 11)
        + Format.fixed(Comparison.median(c.off), digits: 4).padding(to: 11)
        + (Format.fixed(c.overheadPercent, digits: 2) + "%").padding(to: 11)
        + "±" + Format.fixed(c.spreadPercent, digits: 2) + "%  " + unit
    }
    context.print("counting on vs off, median of \(repeats) alternating runs each")
    context.print("".padding(to: 44) + "on".padding(to: 11) + "off".padding(to: 11) + "overhead".padding(to: 11) + "spread")
    context.print(row("engine: CUBA \(neurons), 1 s", engine, "thread CPU s"))
    context.print(row("dense: \(modelText) T=\(timeSteps) batch \(batchSize) fwd+bwd", dense, "process CPU s/batch"))
  }
}
