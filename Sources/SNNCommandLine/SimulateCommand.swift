import SNN

/// `snn simulate`: runs a network event by event and reports its activity and speed.
struct SimulateCommand: Command {
  static let help = CommandHelp(
    name: "simulate",
    abstract: "Simulate a spiking network event by event (exact continuous time).",
    usage: [
      "simulate --network cuba [--neurons N] [--duration 1s] [--seed S] [--raster FILE.svg] [--json]",
      "simulate --network FILE.json [--duration 1s] [--seed S] [--raster FILE.svg] [--json]",
    ],
    discussion: """
      Simulates a network in exact continuous time: every neuron is integrated in closed \
      form between the events that reach it, and its next threshold crossing is predicted \
      exactly; nothing depends on a time step.

      --network cuba is the current-based benchmark network of Vogels & Abbott (2005) as \
      specified by Brette et al. (2007): 80% excitatory LIF neurons with exponential \
      synaptic currents, connection probability 0.02 at 4,000 neurons and a mean fan-in of \
      80 above. --network FILE.json reads a network description (populations, projections, \
      sources; the format is documented in Docs/Engine.md, examples in Examples/networks/).

      Output: neurons, synapses, spikes, synaptic events delivered, mean firing rate, mean \
      coefficient of variation of inter-spike intervals, build and simulation wall times, and \
      synaptic events per second of wall time. The same seed gives bit-identical spike \
      trains.
      """,
    options: [
      OptionHelp("--network", value: "cuba|FILE", help: "The built-in CUBA benchmark or a network file (JSON).", default: "cuba"),
      OptionHelp("--neurons", value: "N", help: "Network size for --network cuba.", default: "4000"),
      OptionHelp("--duration", value: "TIME", help: "Simulated time, with a unit (1s, 250ms).", default: "1s"),
      OptionHelp("--seed", value: "S", help: "Seed for connectivity, initial values and sources.", default: "1"),
      OptionHelp("--raster", value: "FILE.svg", help: "Write a spike raster plot (at most --raster-neurons rows; every k-th neuron of larger networks)."),
      OptionHelp("--raster-neurons", value: "N", help: "Rows of the raster.", default: "500"),
      OptionHelp(
        "--cost-table", value: "NAME|FILE",
        help: "Energy table for the synaptic events (fp32, fp16, int8 or a JSON file). With --json, adds an `energy` object.",
        default: "fp32"),
      .flag("--json", help: "Print one JSON object instead of text (exactly the keys above; `energy` too with --cost-table)."),
    ],
    examples: [
      "snn simulate --network cuba --neurons 4000 --duration 1s --seed 1",
      "snn simulate --network cuba --neurons 64000 --json",
      "snn simulate --network Examples/networks/balanced.json --raster raster.svg",
    ])

  var network: String
  var neurons: Int
  var duration: SimTime
  var seed: UInt64
  var raster: String?
  var rasterNeurons: Int
  var json: Bool
  /// The energy table; `energyInJSON` when it was given explicitly.
  var costTable: EnergyModel.CostTable
  var energyInJSON: Bool

  init(parsing arguments: inout ArgumentParser) throws {
    network = try arguments.string("--network", default: "cuba")
    neurons = try arguments.int("--neurons", default: 4000, in: 5...50_000_000)
    duration = try arguments.duration("--duration", default: .seconds(1))
    seed = UInt64(try arguments.int("--seed", default: 1, in: 0...Int.max))
    raster = try arguments.string("--raster")
    rasterNeurons = try arguments.int("--raster-neurons", default: 500, in: 1...100_000)
    json = try arguments.flag("--json")
    let table = try arguments.string("--cost-table")
    costTable = try EnergyCommand.costTable(table ?? "fp32")
    energyInJSON = table != nil
    guard duration.milliseconds > 0 else {
      throw CommandLineError.invalidValue(option: "--duration", value: "\(duration.milliseconds) ms", expected: "a positive duration")
    }
  }

  func run(in context: CommandContext) throws {
    let build = Stopwatch()
    let spec = try loadSpec()
    let built = try spec.build(seed: seed)
    let buildSeconds = build.elapsedSeconds
    let simulator = Simulator(network: built, recordSpikes: true)
    let watch = Stopwatch()
    simulator.run(until: duration.milliseconds)
    let simulateSeconds = watch.elapsedSeconds
    let result = SimulationResult(
      network: built, simulator: simulator, duration: duration.milliseconds, buildSeconds: buildSeconds,
      simulateSeconds: simulateSeconds)
    if let raster {
      try result.writeRaster(to: raster, neurons: rasterNeurons, title: network == "cuba" ? "CUBA, \(neurons) neurons" : network)
    }
    let energyModel = EnergyModel(table: costTable)
    // Each delivered synaptic event is one accumulate; the engine performs no MACs.
    let energy = energyModel.energy(accumulates: Double(result.synapticEvents), macs: 0)
    if json {
      var o = result.json
      if energyInJSON {
        o.set(
          "energy",
          .object([
            ("energy_pj", .number(energy)),
            ("energy_pj_per_simulated_second", .number(energy / (duration.milliseconds / 1000))),
            ("cost_table", costTable.json),
            ("formula", .string(energyModel.formula)),
          ]))
      }
      context.printJSON(o)
    } else {
      context.print(result.text(title: network == "cuba" ? "CUBA benchmark (Vogels & Abbott 2005), \(neurons) neurons" : network))
      context.print(
        "energy".padding(to: 18) + Format.energy(energy) + " (" + costTable.name
          + ": synaptic events × \(costTable.addPicojoules) pJ"
          + (costTable.memoryAccessPicojoules > 0 ? " + memory \(costTable.memoryAccessPicojoules) pJ each" : "")
          + ")")
      if let raster { context.print("raster            \(raster)") }
    }
  }

  func loadSpec() throws -> NetworkSpec {
    if network == "cuba" { return CUBA.spec(neurons: neurons) }
    do {
      let bytes = try FileIO.read(network)
      let spec = try NetworkSpec(json: try JSONValue.parse(bytes))
      try spec.validate()
      return spec
    } catch {
      throw InputFileError(path: network, underlying: error)
    }
  }
}

/// What one simulation run produced, in the units `snn simulate` reports.
struct SimulationResult {
  let neurons: Int
  let synapses: Int
  let spikes: Int
  let synapticEvents: UInt64
  let meanRate: Double
  let cvISI: Double
  let buildSeconds: Double
  let simulateSeconds: Double
  let record: SpikeRecord
  let groups: [(start: Int, name: String)]
  let duration: Double

  init(network: Network, simulator: Simulator, duration: Double, buildSeconds: Double, simulateSeconds: Double) {
    // Rates and CVs count neurons, not spike sources.
    let neuronPopulations = network.spec.populations.indices.filter { !network.spec.populations[$0].model.isSource }
    neurons = neuronPopulations.reduce(0) { $0 + network.spec.populations[$1].size }
    synapses = network.synapseCount
    spikes = neuronPopulations.reduce(0) { $0 + simulator.spikeCounts[$1] }
    synapticEvents = simulator.counter.totalAccumulates
    meanRate = SpikeStatistics.meanRate(spikeCount: spikes, neuronCount: neurons, duration: duration)
    var cvs: [(Double, Int)] = []
    for q in neuronPopulations {
      let range = network.populationOffsets[q]..<network.populationOffsets[q + 1]
      let cv = SpikeStatistics.meanISICV(simulator.spikes, neurons: range)
      if !cv.isNaN { cvs.append((cv, range.count)) }
    }
    let weight = cvs.reduce(0) { $0 + $1.1 }
    cvISI = weight > 0 ? cvs.reduce(0) { $0 + $1.0 * Double($1.1) } / Double(weight) : .nan
    self.buildSeconds = buildSeconds
    self.simulateSeconds = simulateSeconds
    record = simulator.spikes
    groups = network.spec.populations.indices.map { (network.populationOffsets[$0], network.spec.populations[$0].name) }
    self.duration = duration
  }

  var eventsPerSecond: Double { simulateSeconds > 0 ? Double(synapticEvents) / simulateSeconds : 0 }

  /// The JSON object with exactly the documented keys.
  var json: JSONValue {
    .object([
      ("neurons", JSONValue(neurons)),
      ("synapses", JSONValue(synapses)),
      ("spikes", JSONValue(spikes)),
      ("synaptic_events", JSONValue(synapticEvents)),
      ("mean_rate_hz", .number(meanRate)),
      ("cv_isi", cvISI.isNaN ? .null : .number(cvISI)),
      ("build_seconds", .number(buildSeconds)),
      ("simulate_seconds", .number(simulateSeconds)),
      ("events_per_second", .number(eventsPerSecond)),
    ])
  }

  func text(title: String) -> String {
    func row(_ label: String, _ value: String) -> String { label.padding(to: 18) + value }
    return [
      title,
      row("neurons", Format.grouped(neurons)),
      row("synapses", Format.grouped(synapses)),
      row("spikes", Format.grouped(spikes)),
      row("synaptic events", Format.grouped(Int(synapticEvents))),
      row("mean rate", Format.fixed(meanRate, digits: 2) + " Hz"),
      row("ISI CV", cvISI.isNaN ? "n/a" : Format.fixed(cvISI, digits: 3)),
      row("build", Format.seconds(buildSeconds)),
      row("simulate", Format.seconds(simulateSeconds)),
      row("events/s", Format.compact(eventsPerSecond)),
    ].joined(separator: "\n")
  }

  /// Writes a raster of at most `shown` rows: every k-th neuron when there are more, so that
  /// every population appears.
  func writeRaster(to path: String, neurons shown: Int, title: String) throws {
    let total = groups.isEmpty ? 0 : (record.neurons.map { Int($0) + 1 }.max() ?? 0)
    let population = max(total, neurons, 1)
    let stride = (population + shown - 1) / shown
    let points = zip(record.times, record.neurons).compactMap { t, n -> (time: Double, neuron: Int)? in
      Int(n) % stride == 0 ? (t, Int(n) / stride) : nil
    }
    let colors = ["#1f4e9c", "#c0392b", "#2ca02c", "#ff7f0e"]
    let marks = groups.enumerated().map {
      (start: ($0.element.start + stride - 1) / stride, color: colors[$0.offset % colors.count], label: $0.element.name)
    }
    let svg = Plot.raster(
      spikes: points, neuronCount: (population + stride - 1) / stride, duration: duration,
      title: stride > 1 ? "\(title) (every \(stride)th neuron)" : title, groups: marks.count > 1 ? marks : [])
    try FileIO.writeAtomically(svg, to: path)
  }
}

extension String {
  /// Left-aligned in a column of `width` characters (at least one space after).
  func padding(to width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
