import SNN

/// `snn energy`: synaptic operations, MACs and an energy estimate per sample for a trained
/// model.
struct EnergyCommand: Command {
  static let help = CommandHelp(
    name: "energy",
    abstract: "Count synaptic operations and estimate energy per sample for a checkpoint.",
    usage: [
      "energy --checkpoint FILE [--dataset D] [--samples N] [--cost-table fp32|fp16|int8|FILE] [--per-layer] [--backend dense|event] [--json]"
    ],
    discussion: """
      Runs the checkpoint's model on the first N test samples and counts, per layer and per \
      sample, exactly what the network does: synaptic accumulates (each spike times its \
      real fan-out, conv borders exact, average pools routed), multiply-accumulates (layers \
      fed a non-binary input: the analog first layer, at every step), spikes and firing \
      rates, next to the dense MAC count of the same network as an ANN (once per sample). \
      The energy is E = ACs × E_add + MACs × E_MAC (+ a memory access per operation if the \
      table has one), printed with its numbers; the ANN's is dense MACs × E_MAC.

      Cost tables: fp32 (0.9 pJ add, 4.6 pJ MAC), fp16 (0.4 / 1.5) and int8 (0.03 / 0.23), \
      Horowitz (ISSCC 2014, 45 nm), or a JSON file {"add_pj": x, "mac_pj": y, \
      "memory_access_pj": z, "name": ..., "source": ...}.

      The report also gives the "firing rate × T × FLOPs" estimate many papers use, labelled \
      as such, so that numbers can be compared with published ones.

      --backend event runs a model trained with a dense method on the event engine instead \
      (EventModel: the same spikes, counted where they are delivered) and adds the neuron \
      evaluations the event-driven simulation needed against the dense neurons × T.
      """,
    options: [
      OptionHelp("--checkpoint", value: "FILE", help: "A training checkpoint (required)."),
      OptionHelp(
        "--dataset", value: "NAME",
        help: "Test set: " + TrainingDatasetCatalog.shared.names.joined(separator: ", ") + ".",
        default: "the checkpoint's"),
      OptionHelp("--samples", value: "N", help: "Test samples to run.", default: "1000"),
      OptionHelp("--cost-table", value: "NAME|FILE", help: "fp32, fp16, int8 or a JSON file.", default: "fp32"),
      .flag("--per-layer", help: "Print a table per layer."),
      OptionHelp("--backend", value: "dense|event", help: "Where to run the model.", default: "dense"),
      OptionHelp("--batch", value: "N", help: "Batch size of the dense pass.", default: "the checkpoint's"),
      OptionHelp("--threads", value: "K", help: "Worker threads.", default: "the number of cores"),
      OptionHelp("--data", value: "DIR", help: "Data folder.", default: "$SNN_DATA, else ~/.snn/data"),
      .flag("--json", help: "Print the report as JSON."),
      .flag("--quiet", help: "No progress line."),
    ],
    examples: [
      "snn energy --checkpoint bptt.ckpt --per-layer",
      "snn energy --checkpoint bptt.ckpt --cost-table int8 --json",
      "snn energy --checkpoint bptt.ckpt --backend event --samples 200",
    ])

  let path: String
  let checkpoint: TrainingCheckpoint
  let descriptor: TrainingMethodDescriptor
  let dataset: TrainingDatasetEntry
  let samples: Int
  let table: EnergyModel.CostTable
  let perLayer: Bool
  let eventBackend: Bool
  let batchSize: Int
  let threads: Int?
  let dataRoot: String?
  let json: Bool
  let quiet: Bool

  init(parsing p: inout ArgumentParser) throws {
    let file = try p.required("--checkpoint", expected: "a checkpoint file")
    checkpoint = try TrainingCheckpoint.read(file)
    path = file
    let configuration = checkpoint.configuration
    descriptor = try TrainingMethodRegistry.shared.lookup(configuration.method, field: "method of \(file)")
    let catalog = TrainingDatasetCatalog.shared
    dataset = try catalog.lookup(
      try p.string("--dataset", expected: "one of " + catalog.names.joined(separator: ", ")) ?? configuration.dataset)
    samples = try p.int("--samples", default: 1000, in: 1...Int.max)
    table = try EnergyCommand.costTable(try p.string("--cost-table", default: "fp32"))
    perLayer = try p.flag("--per-layer")
    eventBackend = try p.choice("--backend", ["dense", "event"], default: "dense") == "event"
    batchSize = try p.optionalInt("--batch", in: 1...1_000_000) ?? configuration.batchSize
    threads = try p.optionalInt("--threads", in: 1...1024)
    dataRoot = try p.string("--data", expected: "a folder")
    json = try p.flag("--json")
    quiet = try p.flag("--quiet")
  }

  /// A built-in table by name, or one read from a JSON file.
  static func costTable(_ name: String) throws -> EnergyModel.CostTable {
    if let t = EnergyModel.CostTable.builtIn.first(where: { $0.name == name }) { return t }
    do {
      return try EnergyModel.CostTable(json: try JSONValue.parse(try FileIO.read(name)), path: name)
    } catch {
      if case let e as FileError = error, e.code == 2 {
        throw CommandLineError.invalidValue(option: "--cost-table", value: name, expected: "fp32, fp16, int8 or a JSON file")
      }
      throw InputFileError(path: name, underlying: error)
    }
  }

  func run(in context: CommandContext) throws {
    if let threads { Parallel.setDefaultThreads(threads) }
    let configuration = checkpoint.configuration
    let request = TrainingDatasetEntry.Request(
      root: DataRoot.resolve(explicit: dataRoot, environment: context.environment), timeSteps: configuration.timeSteps)
    var testSet: any LabelledDataset = try dataset.load(.test, request)
    testSet = DatasetPrefix(testSet, count: min(samples, testSet.sampleCount))
    let analysis = try configuration.model.analyze()
    try Trainer.check(testSet, fits: configuration.model, analysis: analysis)
    let method = try descriptor.makeMethod(
      MethodSetup(
        configuration: configuration, analysis: analysis, sampleShape: testSet.sampleShape, classCount: testSet.classCount))
    do {
      try method.restoreState(checkpoint.methodState)
    } catch {
      throw error.at(path: path)
    }
    let progress = ProgressLine(context: context, enabled: !quiet)
    let energyModel = EnergyModel(table: table)
    var counter: SynOpCounter
    var accuracy: Double
    var evaluations: Int? = nil
    let n = testSet.sampleCount
    if eventBackend {
      guard let dense = (method as? any DenseTrainingMethod)?.model else {
        throw CommandLineError.invalidValue(
          option: "--backend", value: "event", expected: "a model trained with a dense method (\(configuration.method) runs on its own engine: use --backend dense)")
      }
      dense.isTraining = false
      let events = try EventModel(dense: dense)
      counter = SynOpCounter(layerNames: analysis.layers.map(\.name))
      var correct = 0
      var evaluated = 0
      // One sample at a time; `fill` overwrites both buffers.
      var inputs = [Float](repeating: 0, count: testSet.sampleShape.elementCount)
      var labels = [0]
      for i in 0..<n {
        try testSet.fill(indices: [i][...], inputs: &inputs, labels: &labels)
        let run = try events.run(input: inputs)
        counter.merge(run.counter)
        evaluated += run.neuronEvaluations
        let predicted = run.logits.indices.max { run.logits[$0] < run.logits[$1] }!
        if predicted == labels[0] { correct += 1 }
        progress.update("event engine \(i + 1)/\(n)")
      }
      accuracy = Double(correct) / Double(n)
      evaluations = evaluated
    } else {
      let result = try Trainer.evaluate(method: method, dataset: testSet, batchSize: batchSize, seed: configuration.seed) {
        done, total in progress.update("evaluating \(done)/\(total)")
      }
      guard let ops = result.operations else {
        throw CommandLineError.invalidValue(
          option: "--checkpoint", value: path, expected: "a method that counts its operations (\(configuration.method) does not)")
      }
      counter = ops
      accuracy = result.accuracy
    }
    progress.finish()
    let report = EnergyReport(counter: counter, samples: n, analysis: analysis, timeSteps: configuration.timeSteps, model: energyModel)
    let neurons = analysis.layers.filter { !$0.isReadout }.reduce(0) { $0 + $1.output.elementCount }
    let isDense = method is any DenseTrainingMethod
    let backendName =
      eventBackend ? "the event engine" : isDense ? "the dense backend" : "the method's own engine (\(configuration.method))"
    if json {
      var o = report.json
      o.set("checkpoint", .string(path))
      o.set("method", .string(configuration.method))
      o.set("model", .string(configuration.model.notation))
      o.set("backend", .string(eventBackend ? "event" : isDense ? "dense" : configuration.method))
      o.set("test_accuracy", .number(accuracy))
      if let evaluations {
        o.set("event_neuron_evaluations_per_sample", .number(Double(evaluations) / Double(n)))
        o.set("dense_neuron_updates_per_sample", .number(Double(neurons * configuration.timeSteps)))
      }
      context.printJSON(o)
      return
    }
    context.print("\(path): \(configuration.method), \(configuration.model.notation), T = \(configuration.timeSteps), \(n) test samples on \(backendName), accuracy \(Format.fixed(100 * accuracy, digits: 2))%")
    context.print(EnergyCommand.text(report, perLayer: perLayer))
    if let evaluations {
      context.print(
        "neuron evaluations    " + Format.compact(Double(evaluations) / Double(n)) + " per sample (a dense simulation: "
          + Format.compact(Double(neurons * configuration.timeSteps)) + ")")
    }
  }

  /// The report as text.
  static func text(_ r: EnergyReport, perLayer: Bool) -> String {
    var lines: [String] = []
    if perLayer {
      lines.append(
        "layer".padding(to: 8) + "ACs".padding(to: 11) + "MACs".padding(to: 11) + "dense MACs".padding(to: 12)
          + "spikes".padding(to: 10) + "rate".padding(to: 8) + "rate×T×FLOPs".padding(to: 14) + "energy pJ")
      for l in r.layers {
        lines.append(
          l.name.padding(to: 8) + Format.compact(l.synapticOpsPerSample).padding(to: 11)
            + Format.compact(l.macsPerSample).padding(to: 11) + Format.compact(l.denseMACsPerSample).padding(to: 12)
            + Format.compact(l.spikesPerSample).padding(to: 10) + Format.fixed(l.firingRate, digits: 4).padding(to: 8)
            + Format.compact(l.rateConventionOpsPerSample).padding(to: 14) + Format.compact(l.energyPicojoulesPerSample))
      }
    }
    let pj = Format.energy
    lines += [
      "synaptic ops (ACs)    " + Format.compact(r.synapticOpsPerSample) + " per sample",
      "MACs                  " + Format.compact(r.macsPerSample) + " per sample",
      "dense MACs (ANN)      " + Format.compact(r.denseMACsPerSample) + " per sample",
      "energy                " + pj(r.energyPicojoulesPerSample) + " per sample (ANN: " + pj(r.annEnergyPicojoulesPerSample)
        + ", ratio " + Format.fixed(r.energyRatio, digits: 3) + ")",
      "rate×T×FLOPs estimate " + Format.compact(r.rateConventionOpsPerSample) + " SOPs, " + pj(r.rateConventionEnergyPicojoulesPerSample)
        + " per sample (the convention of many papers, not a measurement)",
      "formula               " + r.model.formula,
    ]
    return lines.joined(separator: "\n")
  }
}

extension EnergyReport {
  /// One line for run summaries: the energy per sample, the ANN baseline and the table.
  var summaryLine: String {
    "energy " + Format.energy(energyPicojoulesPerSample) + " per sample (" + model.table.name
      + "; ANN " + Format.energy(annEnergyPicojoulesPerSample) + ", ratio "
      + Format.fixed(energyRatio, digits: 3) + "; see snn energy --per-layer)"
  }
}
