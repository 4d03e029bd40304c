import Foundation
import SNN

/// `snn bench memory`: peak resident memory and seconds per training batch as functions of
/// T, for one or more training methods. Each (method, T) runs in a fresh child process (the
/// `snn` binary re-executed with the hidden `bench memory-probe`), so every peak is that
/// T's own and not the high-water mark of the runs before it.
struct BenchMemoryCommand: Command {
  static let sharedOptions: [OptionHelp] = [
    OptionHelp(
      "--method", value: "NAME[,NAME…]",
      help: "Training method(s); each is measured at every T.", default: "bptt"),
    OptionHelp("--model", value: "SPEC", help: "Model notation or preset.", default: "conv"),
    OptionHelp(
      "--dataset", value: "NAME",
      help: "Dataset whose test split supplies the batches.", default: "mnist"),
    OptionHelp("--batch", value: "N", help: "Batch size.", default: "128"),
    OptionHelp(
      "--batches", value: "N", help: "Timed training batches per T (the median is reported).",
      default: "3"),
    OptionHelp("--warmup", value: "N", help: "Untimed training batches first.", default: "1"),
    OptionHelp("--threads", value: "K", help: "Worker threads.", default: "the number of cores"),
    OptionHelp("--seed", value: "S", help: "Seed.", default: "1"),
    OptionHelp(
      "--data", value: "DIR", help: "Data folder.", default: "$SNN_DATA, else ~/.snn/data"),
    .flag("--synthetic", help: "Random inputs in the dataset's shape instead of the dataset."),
  ]

  static let help = CommandHelp(
    name: "bench memory",
    abstract: "Measure peak memory and seconds per training batch against T.",
    usage: ["bench memory --method NAME[,NAME…] --model SPEC --T LIST --batch N [options]"],
    discussion: """
      For every method and every T of --T, a child process (this binary, re-executed) builds \
      the method as 'snn train' does with its defaults, loads --warmup + --batches batches \
      of the dataset's test split, trains on them, and reports its peak resident set \
      (getrusage high-water mark, so it is the peak of that T alone), its resident set \
      after loading the data and before building the model (the baseline), and the median \
      wall-clock and CPU seconds of one training batch (forward, backward, optimizer step). \
      Runs go one at a time. Method options of 'snn train' (e.g. --variant M, \
      --update-schedule online) are accepted and passed to the methods that have them.

      With --json the output is {"model", "dataset", "batch_size", "threads", "runs": \
      [{"method", "options", "results": [{"T", "peak_rss_mb", "baseline_rss_mb", \
      "seconds_per_batch", "cpu_seconds_per_batch", "batch_seconds"}]}]}. --svg FILE writes \
      a plot of peak memory against T, and FILE with '-time' before its extension a plot of \
      seconds per batch.
      """,
    options: [
      OptionHelp("--T", value: "LIST", help: "Time steps to measure.", default: "2,4,8,16,32")
    ]
      + sharedOptions + [
        OptionHelp(
          "--svg", value: "FILE", help: "Write SVG plots (memory; time in FILE-time.svg)."),
        .flag("--json", help: "Print JSON (see above)."),
        .flag("--quiet", help: "No progress on standard error."),
      ],
    examples: [
      "snn bench memory --method bptt,rate,ndot --model conv --T 2,4,8,16,32 --batch 128",
      "snn bench memory --method rate --variant M --model mlp --T 2,8,32 --batch 64 --json",
    ])

  /// Everything a measurement needs except T (shared by the parent and the probe).
  struct Settings {
    var descriptors: [TrainingMethodDescriptor]
    var dataset: TrainingDatasetEntry
    var modelText: String
    var batchSize: Int
    var batches: Int
    var warmup: Int
    var threads: Int?
    var seed: UInt64
    var dataRoot: String?
    var synthetic: Bool
    /// Method options given, with the methods they belong to.
    var givenOptions: [(option: MethodOption, value: JSONValue)]

    /// The first (for the probe: the only) method.
    var descriptor: TrainingMethodDescriptor { descriptors[0] }

    /// The given options that belong to the first method.
    var methodOptions: [(name: String, value: JSONValue)] {
      givenOptions.filter { given in descriptor.options.contains { $0.name == given.option.name } }
        .map { ($0.option.name, $0.value) }
    }

    init(parsing p: inout ArgumentParser) throws {
      let registry = TrainingMethodRegistry.shared
      let names = try p.string("--method", default: "bptt").split(separator: ",").map(String.init)
      descriptors = try names.map { name throws(ConfigurationError) in
        try registry.lookup(name)
      }
      guard !descriptors.isEmpty else {
        throw CommandLineError.invalidValue(
          option: "--method", value: "", expected: "one or more method names")
      }
      dataset = try TrainingDatasetCatalog.shared.lookup(p.string("--dataset", default: "mnist"))
      modelText = try p.string("--model", default: "conv")
      batchSize = try p.int("--batch", default: 128, in: 1...100_000)
      batches = try p.int("--batches", default: 3, in: 1...100_000)
      warmup = try p.int("--warmup", default: 1, in: 0...100_000)
      threads = try p.optionalInt("--threads", in: 1...1024)
      seed = UInt64(try p.int("--seed", default: 1, in: 0...Int.max))
      dataRoot = try p.string("--data", expected: "a folder")
      synthetic = try p.flag("--synthetic")
      givenOptions = []
      for (flag, option, owners) in TrainCommand.methodOptionHelp(registry) {
        guard let value = try TrainCommand.parseMethodOption(option, &p) else { continue }
        guard descriptors.contains(where: { owners.contains($0.name) }) else {
          throw CommandLineError.invalidValue(
            option: flag, value: "given",
            expected: "no value: '\(flag)' is an option of \(owners.joined(separator: ", ")), "
              + "not of \(names.joined(separator: ", "))")
        }
        givenOptions.append((option, value))
      }
      // Resolve now so that bad values fail before any child runs.
      for d in descriptors {
        let mine = givenOptions.filter { g in d.options.contains { $0.name == g.option.name } }
        _ = try d.resolveOptions(mine.map { ($0.option.name, $0.value) })
      }
    }

    /// The probe's command line for `method` at `timeSteps`.
    func probeArguments(method: TrainingMethodDescriptor, timeSteps: Int) -> [String] {
      var a = [
        "bench", "memory-probe", "--method", method.name, "--model", modelText, "--dataset",
        dataset.name, "--T", String(timeSteps), "--batch", String(batchSize), "--batches",
        String(batches), "--warmup", String(warmup), "--seed", String(seed),
      ]
      if let threads { a += ["--threads", String(threads)] }
      if let dataRoot { a += ["--data", dataRoot] }
      if synthetic { a.append("--synthetic") }
      for (option, value) in givenOptions
      where method.options.contains(where: { $0.name == option.name }) {
        switch option.kind {
        case .flag: a.append(option.flagName)
        case .choice: a += [option.flagName, value.stringValue ?? value.description]
        case .integer, .number: a += [option.flagName, value.description]
        }
      }
      return a
    }
  }

  let settings: Settings
  let timeSteps: [Int]
  let svgPath: String?
  let json: Bool
  let quiet: Bool

  init(parsing p: inout ArgumentParser) throws {
    timeSteps = try p.intList("--T", default: [2, 4, 8, 16, 32], in: 1...100_000)
    settings = try Settings(parsing: &p)
    svgPath = try p.string("--svg", expected: "an SVG file to write")
    json = try p.flag("--json")
    quiet = try p.flag("--quiet")
  }

  /// One method's measurements.
  struct Run {
    var method: String
    var options: [(name: String, value: JSONValue)]
    var results: [BenchMemoryProbeCommand.Result]
  }

  func run(in context: CommandContext) throws {
    let executable = try BenchMemoryCommand.executablePath()
    var runs: [Run] = []
    for descriptor in settings.descriptors {
      var one = settings
      one.descriptors = [descriptor]
      var run = Run(method: descriptor.name, options: one.methodOptions, results: [])
      for t in timeSteps {
        if !quiet { context.log("bench memory: \(descriptor.name) T=\(t) …") }
        let arguments = settings.probeArguments(method: descriptor, timeSteps: t)
        let result = try BenchMemoryCommand.runProbe(executable, arguments)
        if !quiet {
          context.log(
            "bench memory: \(descriptor.name) T=\(t): peak "
              + Format.fixed(result.peakResidentMB, digits: 0) + " MB, "
              + Format.fixed(result.secondsPerBatch, digits: 3) + " s/batch")
        }
        run.results.append(result)
      }
      runs.append(run)
    }
    if let svgPath { try BenchMemoryCommand.writePlots(runs, path: svgPath, settings: settings) }

    let threads = settings.threads ?? Parallel.defaultThreads
    if json {
      context.printJSON([
        "model": JSONValue(settings.modelText),
        "dataset": JSONValue(settings.synthetic ? "synthetic" : settings.dataset.name),
        "batch_size": JSONValue(settings.batchSize), "threads": JSONValue(threads),
        "batches": JSONValue(settings.batches), "warmup": JSONValue(settings.warmup),
        "runs": .array(
          runs.map { run in
            [
              "method": JSONValue(run.method),
              "options": .object(run.options.map { (key: $0.name, value: $0.value) }),
              "results": .array(run.results.map(\.json)),
            ]
          }),
      ])
      return
    }
    context.print(
      "model \(settings.modelText), batch \(settings.batchSize), \(threads) threads, "
        + (settings.synthetic ? "synthetic data" : settings.dataset.name + " test split")
        + ", median of \(settings.batches) batches after \(settings.warmup) warm-up; "
        + "one process per T")
    for run in runs {
      let options = run.options.map {
        "--\($0.name) \($0.value.stringValue ?? $0.value.description)"
      }
      context.print("")
      context.print(run.method + (options.isEmpty ? "" : " " + options.joined(separator: " ")))
      context.print("     T  peak RSS MB  baseline MB  s/batch  CPU s/batch")
      for r in run.results {
        context.print(
          BenchMemoryCommand.pad(String(r.timeSteps), 6)
            + BenchMemoryCommand.pad(Format.fixed(r.peakResidentMB, digits: 1), 13)
            + BenchMemoryCommand.pad(Format.fixed(r.baselineResidentMB, digits: 1), 13)
            + BenchMemoryCommand.pad(Format.fixed(r.secondsPerBatch, digits: 3), 9)
            + BenchMemoryCommand.pad(Format.fixed(r.cpuSecondsPerBatch, digits: 3), 13))
      }
    }
  }

  static func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
  }

  /// The running `snn` binary.
  static func executablePath() throws -> String {
    #if os(Linux)
      if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        return path
      }
    #endif
    if let path = Bundle.main.executablePath { return path }
    throw ChildProcessError(
      command: "snn", exitCode: nil, message: "cannot find the path of the running executable")
  }

  /// Runs the probe and reads its one line of JSON. The child's standard error passes
  /// through.
  static func runProbe(_ executable: String, _ arguments: [String]) throws
    -> BenchMemoryProbeCommand.Result
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    let commandLine = "snn " + arguments.joined(separator: " ")
    do {
      try process.run()
    } catch {
      throw ChildProcessError(command: commandLine, exitCode: nil, message: "\(error)")
    }
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationReason == .exit, process.terminationStatus == 0 else {
      throw ChildProcessError(
        command: commandLine,
        exitCode: process.terminationReason == .exit ? process.terminationStatus : nil,
        message: process.terminationReason == .exit
          ? "exited with status \(process.terminationStatus)"
          : "killed by signal \(process.terminationStatus)")
    }
    let text = String(decoding: output, as: UTF8.self)
    guard let value = try? JSONValue.parse(text), let result = BenchMemoryProbeCommand.Result(value)
    else {
      throw ChildProcessError(
        command: commandLine, exitCode: nil,
        message: "printed no measurement (expected one JSON object, got \(text.prefix(200)))")
    }
    return result
  }

  /// Writes the memory plot to `path` and the time plot next to it.
  static func writePlots(_ runs: [Run], path: String, settings: Settings) throws {
    func label(_ run: Run) -> String {
      run.method
        + run.options.map { " \($0.name)=\($0.value.stringValue ?? $0.value.description)" }
        .joined()
    }
    let subtitle = "\(settings.modelText), batch \(settings.batchSize)"
    let memory = Plot.lineChart(
      series: runs.map { run in
        (label(run), run.results.map { (Double($0.timeSteps), $0.peakResidentMB) })
      },
      title: "Peak resident memory vs T (\(subtitle))", xLabel: "T",
      yLabel: "peak RSS (MB)")
    let time = Plot.lineChart(
      series: runs.map { run in
        (label(run), run.results.map { (Double($0.timeSteps), $0.secondsPerBatch) })
      },
      title: "Seconds per training batch vs T (\(subtitle))", xLabel: "T",
      yLabel: "seconds per batch")
    try FileIO.writeAtomically(memory, to: path)
    try FileIO.writeAtomically(time, to: timePlotPath(path))
  }

  /// `plot.svg` → `plot-time.svg`.
  static func timePlotPath(_ path: String) -> String { Plot.siblingPath(path, suffix: "-time") }
}

/// A child process `snn` started failed or printed something unexpected.
public struct ChildProcessError: Error, CustomStringConvertible {
  public var command: String
  /// The child's exit status, when it exited normally with a failure.
  public var exitCode: Int32?
  public var message: String
  public var description: String { "\(command): \(message)" }
}
