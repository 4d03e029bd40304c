import SNN

/// `snn bench cuba`: the CUBA network at several sizes, one thread, 1 s of biological time.
struct BenchCUBACommand: Command {
  static let help = CommandHelp(
    name: "bench cuba",
    abstract: "Time the CUBA benchmark network at several sizes (1 thread).",
    discussion: """
      Builds and simulates the CUBA network (see 'snn simulate --help') for 1 s of \
      biological time at each size, --repeat times, and reports the median of the \
      simulation times (wall clock and thread CPU time: on a shared machine the CPU time is \
      the steadier figure), the synaptic events per second, and the peak resident memory of \
      the process after the largest size. Sizes run from small to large so that peak memory \
      is the largest size's.
      """,
    options: [
      OptionHelp("--sizes", value: "N,N,...", help: "Network sizes.", default: "4000,16000,64000"),
      OptionHelp("--duration", value: "TIME", help: "Simulated time.", default: "1s"),
      OptionHelp("--repeat", value: "R", help: "Runs per size; the median is reported.", default: "3"),
      OptionHelp("--seed", value: "S", help: "Seed.", default: "1"),
      .flag("--json", help: "Print a JSON array with one object per size, with the keys of 'snn simulate --json' (the table adds CPU time and peak memory)."),
    ],
    examples: ["snn bench cuba", "snn bench cuba --sizes 4000 --repeat 7 --json"])

  var sizes: [Int]
  var duration: SimTime
  var repeats: Int
  var seed: UInt64
  var json: Bool

  init(parsing arguments: inout ArgumentParser) throws {
    sizes = try arguments.intList("--sizes", default: [4000, 16000, 64000], in: 5...50_000_000)
    duration = try arguments.duration("--duration", default: .seconds(1))
    repeats = try arguments.int("--repeat", default: 3, in: 1...100)
    seed = UInt64(try arguments.int("--seed", default: 1, in: 0...Int.max))
    json = try arguments.flag("--json")
  }

  func run(in context: CommandContext) throws {
    var rows: [JSONValue] = []
    if !json {
      context.print("CUBA benchmark, \(Format.fixed(duration.seconds, digits: 2)) s of biological time, 1 thread, median of \(repeats)")
      context.print(
        "neurons".padding(to: 10) + "synapses".padding(to: 12) + "spikes".padding(to: 10) + "rate Hz".padding(to: 9)
          + "build s".padding(to: 9) + "sim s".padding(to: 9) + "cpu s".padding(to: 9) + "events/s".padding(to: 10) + "RSS MB")
    }
    for n in sizes {
      var results: [(SimulationResult, Double)] = []
      for _ in 0..<repeats {
        let build = Stopwatch()
        let network = try CUBA.spec(neurons: n).build(seed: seed)
        let buildSeconds = build.elapsedSeconds
        let simulator = Simulator(network: network, recordSpikes: true)
        let watch = Stopwatch()
        let cpu = CPUTime.threadSeconds()
        simulator.run(until: duration.milliseconds)
        let cpuSeconds = CPUTime.threadSeconds() - cpu
        results.append((
          SimulationResult(
            network: network, simulator: simulator, duration: duration.milliseconds, buildSeconds: buildSeconds,
            simulateSeconds: watch.elapsedSeconds), cpuSeconds
        ))
      }
      let median = results.sorted { $0.0.simulateSeconds < $1.0.simulateSeconds }[results.count / 2].0
      let cpuMedian = results.map(\.1).sorted()[results.count / 2]
      let rss = Double(ResourceUsage.peakResidentBytes()) / 1e6
      rows.append(median.json)
      if !json {
        context.print(
          Format.grouped(median.neurons).padding(to: 10) + Format.grouped(median.synapses).padding(to: 12)
            + Format.grouped(median.spikes).padding(to: 10) + Format.fixed(median.meanRate, digits: 2).padding(to: 9)
            + Format.fixed(median.buildSeconds, digits: 3).padding(to: 9)
            + Format.fixed(median.simulateSeconds, digits: 3).padding(to: 9)
            + Format.fixed(cpuMedian, digits: 3).padding(to: 9) + Format.compact(median.eventsPerSecond).padding(to: 10)
            + Format.fixed(rss, digits: 0))
      }
    }
    if json { context.printJSON(.array(rows)) }
  }
}

/// `snn bench queue`: push/pop throughput of the event queues.
struct BenchQueueCommand: Command {
  static let help = CommandHelp(
    name: "bench queue",
    abstract: "Measure the event queues: operations per second in a simulator-like workload.",
    discussion: """
      Holds --size pending events and repeatedly pops the earliest and pushes a new one a \
      random interval later (the "hold" model of queue benchmarks), for the 4-ary heap, the \
      indexed heap, the calendar queue (continuous time) and the bucket queue (integer \
      steps). Reports million hold operations (one pop plus one push) per second.
      """,
    options: [
      OptionHelp("--size", value: "N", help: "Pending events.", default: "64000"),
      OptionHelp("--operations", value: "N", help: "Hold operations per queue.", default: "5000000"),
      .flag("--json", help: "Print JSON."),
    ])

  var size: Int
  var operations: Int
  var json: Bool

  init(parsing arguments: inout ArgumentParser) throws {
    size = try arguments.int("--size", default: 64000, in: 1...100_000_000)
    operations = try arguments.int("--operations", default: 5_000_000, in: 1...1_000_000_000)
    json = try arguments.flag("--json")
  }

  func run(in context: CommandContext) throws {
    let results = QueueBenchmark.run(size: size, operations: operations)
    if json {
      context.printJSON(.array(results.map { .object([("queue", .string($0.name)), ("million_operations_per_second", .number($0.rate / 1e6))]) }))
    } else {
      context.print("hold model, \(Format.grouped(size)) pending events, \(Format.grouped(operations)) operations")
      for r in results { context.print(r.name.padding(to: 24) + Format.fixed(r.rate / 1e6, digits: 2) + " M ops/s") }
    }
  }
}

/// `snn bench scaling`: event-driven cost follows events, not neurons × steps.
struct BenchScalingCommand: Command {
  static let help = CommandHelp(
    name: "bench scaling",
    abstract: "Show that simulation cost grows with synaptic events, not with neurons × steps.",
    discussion: """
      Runs the CUBA-4000 network together with an added population of S silent neurons \
      (LIF neurons at rest that receive no input), for S = 0, 10×, 100× the network size. \
      The event-driven engine never touches a silent neuron after its first prediction, so \
      its time stays flat while a clock-driven simulation of the same neurons (the \
      ClockDrivenSimulator reference, dt = --dt) grows with neurons × steps. A second table \
      runs CUBA at growing sizes and reports nanoseconds per synaptic event.
      """,
    options: [
      OptionHelp("--duration", value: "TIME", help: "Simulated time per run.", default: "200ms"),
      OptionHelp("--dt", value: "TIME", help: "Step of the clock-driven comparison.", default: "0.1ms"),
      .flag("--json", help: "Print JSON."),
    ])

  var duration: SimTime
  var dt: SimTime
  var json: Bool

  init(parsing arguments: inout ArgumentParser) throws {
    duration = try arguments.duration("--duration", default: .milliseconds(200))
    dt = try arguments.duration("--dt", default: .milliseconds(0.1))
    json = try arguments.flag("--json")
    guard dt.milliseconds > 0 else { throw CommandLineError.invalidValue(option: "--dt", value: "0", expected: "a positive step") }
  }

  func run(in context: CommandContext) throws {
    var silentRows: [JSONValue] = []
    if !json {
      context.print("CUBA-4000 plus S silent neurons, \(Format.fixed(duration.milliseconds, digits: 0)) ms")
      context.print("silent".padding(to: 10) + "neurons".padding(to: 10) + "events".padding(to: 12) + "event-driven s".padding(to: 16) + "clock-driven s")
    }
    for silent in [0, 40_000, 400_000] {
      var spec = CUBA.spec(neurons: 4000)
      let rest = LIF.Parameters(tauMem: 20, vRest: -60, vReset: -60, vThreshold: -50, tauRefractory: 5, iOffset: 0, channels: [.exponential(tau: 5), .exponential(tau: 10)])
      if silent > 0 {
        spec.populations.append(PopulationSpec(name: "silent", size: silent, model: .lif(rest, initialPotential: .constant(-60))))
      }
      let network = try spec.build(seed: 1)
      let simulator = Simulator(network: network, recordSpikes: false)
      let cpu = CPUTime.threadSeconds()
      simulator.run(until: duration.milliseconds)
      let eventSeconds = CPUTime.threadSeconds() - cpu
      var reference = ClockDrivenSimulator(network: network, dt: dt.milliseconds)
      let cpu2 = CPUTime.threadSeconds()
      reference.run(until: duration.milliseconds)
      let clockSeconds = CPUTime.threadSeconds() - cpu2
      let events = simulator.counter.totalAccumulates
      silentRows.append(.object([
        ("silent_neurons", JSONValue(silent)), ("neurons", JSONValue(network.neuronCount)), ("synaptic_events", JSONValue(events)),
        ("event_driven_cpu_seconds", .number(eventSeconds)), ("clock_driven_cpu_seconds", .number(clockSeconds)),
      ]))
      if !json {
        context.print(
          Format.grouped(silent).padding(to: 10) + Format.grouped(network.neuronCount).padding(to: 10)
            + Format.grouped(Int(events)).padding(to: 12) + Format.fixed(eventSeconds, digits: 3).padding(to: 16)
            + Format.fixed(clockSeconds, digits: 3))
      }
    }
    var sizeRows: [JSONValue] = []
    if !json {
      context.print("")
      context.print("CUBA at growing sizes, \(Format.fixed(duration.milliseconds, digits: 0)) ms")
      context.print("neurons".padding(to: 10) + "events".padding(to: 13) + "cpu s".padding(to: 9) + "ns/event")
    }
    for n in [2000, 4000, 8000, 16000, 32000] {
      let network = try CUBA.spec(neurons: n).build(seed: 1)
      let simulator = Simulator(network: network, recordSpikes: false)
      let cpu = CPUTime.threadSeconds()
      simulator.run(until: duration.milliseconds)
      let seconds = CPUTime.threadSeconds() - cpu
      let events = Double(simulator.counter.totalAccumulates)
      sizeRows.append(.object([("neurons", JSONValue(n)), ("synaptic_events", .number(events)), ("cpu_seconds", .number(seconds)), ("ns_per_event", .number(seconds / events * 1e9))]))
      if !json {
        context.print(
          Format.grouped(n).padding(to: 10) + Format.grouped(Int(events)).padding(to: 13) + Format.fixed(seconds, digits: 3).padding(to: 9)
            + Format.fixed(seconds / events * 1e9, digits: 1))
      }
    }
    if json { context.printJSON(.object([("silent", .array(silentRows)), ("sizes", .array(sizeRows))])) }
  }
}
