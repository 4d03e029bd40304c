import SNN
import Synchronization

@testable import SNNCommandLine

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The global step at which the test method raises SIGINT (−1: never), to exercise the
/// Ctrl-C path of `snn train` for real.
let interruptAtStep = Atomic<Int>(-1)

/// Held while a test runs a command in this process. `snn train` installs a process-wide
/// SIGINT handler and the Ctrl-C test raises a real SIGINT, so suites that run commands
/// concurrently (TrainingCommandTests, RealDataCommandTests, SPIDECommandTests,
/// EnergyCommandTests) take turns through this lock (``runCommand(_:withData:)``).
let commandLock = Mutex<Void>(())

/// Runs `snn args` in this process with captured output, under ``commandLock``.
/// `withData` passes the test process's `SNN_DATA` to the command.
func runCommand(_ args: [String], withData: Bool = false) -> (code: Int32, out: String, err: String) {
  let out = StringSink()
  let err = StringSink()
  let environment = withData ? ["SNN_DATA": String(cString: getenv("SNN_DATA"))] : [:]
  let context = CommandContext(
    standardOutput: out, standardError: err, environment: environment,
    standardErrorIsTerminal: false)
  let code = commandLock.withLock { _ in SNNTool.run(args, context: context) }
  return (code, out.text, err.text)
}

/// A test-only method for the command tests: softmax regression with plain loops and the
/// shared optimizer, with a method option and per-step dropout from the step generator.
final class CommandTestMethod: TrainingMethod {
  let name = "test-softmax"
  var parameters: ParameterStore
  var optimizer: ParameterOptimizer
  let dropout: Double
  let inputCount: Int
  let classCount: Int
  var steps = 0

  static let descriptor = TrainingMethodDescriptor(
    name: "test-softmax", summary: "softmax regression (test only)", backend: .dense,
    options: [
      MethodOption(
        name: "dropout", valueName: "P", help: "Input dropout probability.", kind: .number(0...0.9),
        defaultValue: 0.05)
    ]
  ) { setup in try CommandTestMethod(setup) }

  /// A second method, only so that option ownership can be tested.
  static let other = TrainingMethodDescriptor(
    name: "test-other", summary: "another test method", backend: .event,
    options: [
      MethodOption(
        name: "variant", valueName: "M|S", help: "Variant.", kind: .choice(["M", "S"]),
        defaultValue: "M")
    ]
  ) { setup in try CommandTestMethod(setup) }

  init(_ setup: MethodSetup) throws {
    let layer = setup.analysis.layers[0]
    guard setup.analysis.layers.count == 1 else {
      throw ConfigurationError.invalid(
        field: "--model", value: setup.model.notation, expected: "one linear layer")
    }
    inputCount = layer.input.elementCount
    classCount = layer.output.elementCount
    parameters = try ParameterStore(model: setup.model, seed: setup.configuration.seed)
    optimizer = ParameterOptimizer(settings: setup.configuration.optimizer, parameters: parameters)
    dropout = setup.options["dropout"]?.doubleValue ?? 0
  }

  var parameterCount: Int { parameters.scalarCount }

  func forward(_ x: [Float]) -> [Float] {
    let w = parameters[0].values
    let b = parameters[1].values
    return (0..<classCount).map { k in
      (0..<inputCount).reduce(b[k]) { $0 + w[k * inputCount + $1] * x[$1] }
    }
  }

  func softmax(_ z: [Float]) -> [Float] {
    let e = z.map { Math.exp($0 - z.max()!) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
  }

  func metrics(_ batch: Batch, train random: inout Xoshiro256StarStar?) -> BatchMetrics {
    var counter = SynOpCounter(layerNames: ["input"])
    var loss = 0.0
    var correct = 0
    if random != nil { parameters.zeroGradients() }
    for s in 0..<batch.count {
      var x = Array(batch.inputs[(s * inputCount)..<((s + 1) * inputCount)])
      if random != nil {
        for i in x.indices where random!.nextUnitDouble() < dropout { x[i] = 0 }
      }
      counter.addSpikes(x.filter { $0 > 1 }.count, layer: 0)
      counter.addNeuronUpdates(inputCount, layer: 0)
      let z = forward(x)
      let p = softmax(z)
      let y = batch.labels[s]
      loss -= Double(Math.log(max(p[y], 1e-30)))
      if z.firstIndex(of: z.max()!) == y { correct += 1 }
      guard random != nil else { continue }
      let scale = 1 / Float(batch.count)
      for k in 0..<classCount {
        let d = (p[k] - (k == y ? 1 : 0)) * scale
        parameters[0].gradients.withUnsafeMutableBufferPointer { g in
          for i in 0..<inputCount { g[k * inputCount + i] += d * x[i] }
        }
        parameters[1].gradients[k] += d
      }
    }
    return BatchMetrics(
      sampleCount: batch.count, lossSum: loss, correctCount: correct, operations: counter)
  }

  func trainBatch(_ batch: Batch, context: StepContext) throws -> BatchMetrics {
    var random: Xoshiro256StarStar? = context.random
    let result = metrics(batch, train: &random)
    optimizer.step(&parameters, learningRate: context.learningRate)
    steps += 1
    if context.globalStep == interruptAtStep.load(ordering: .relaxed) {
      // A process-directed signal, as a terminal sends it (the test runner's worker thread
      // may block SIGINT); wait until the handler has run, at most 5 s.
      kill(getpid(), SIGINT)
      for _ in 0..<50_000 where !InterruptHandler.requested { usleep(100) }
    }
    return result
  }

  func evaluateBatch(_ batch: Batch, context: EvaluationContext) throws -> BatchMetrics {
    var none: Xoshiro256StarStar? = nil
    return metrics(batch, train: &none)
  }

  func summaryExtras() -> [(key: String, value: JSONValue)] { [("test_steps", JSONValue(steps))] }

  func exportState() -> MethodState {
    MethodState(
      json: ["steps": JSONValue(steps), "optimizer": optimizer.stateJSON],
      blobs: parameters.blobs() + optimizer.stateBlobs)
  }

  func restoreState(_ state: MethodState) throws(CheckpointError) {
    var p = parameters
    try p.load(state.blobs)
    var o = optimizer
    try o.restore(
      blobs: state.blobs, json: state.json["optimizer"] ?? .null,
      field: "header.method_state.optimizer")
    guard let steps = state.json["steps"]?.intValue else {
      throw CheckpointError(
        .invalidHeader, field: "header.method_state.steps", expected: "an integer", found: "nothing"
      )
    }
    parameters = p
    optimizer = o
    self.steps = steps
  }
}

/// Gaussian blobs around three centres in a 1×2×2 input space.
func blobs(_ split: TrainingDatasetEntry.Split) throws -> InMemoryDataset {
  var g = Xoshiro256StarStar(seed: split == .train ? 1 : 2)
  let count = split == .train ? 240 : 60
  var inputs: [Float] = []
  var labels: [Int] = []
  for i in 0..<count {
    let k = i % 3
    for j in 0..<4 { inputs.append((j == k ? 2 : 0) + Float(0.3 * g.nextNormal())) }
    labels.append(k)
  }
  return try InMemoryDataset(
    name: "blobs",
    sampleShape: SampleShape(feature: FeatureShape(channels: 1, height: 2, width: 2)),
    classCount: 3, inputs: inputs, labels: labels)
}

/// Registers the test method and dataset (idempotent).
func registerTrainingFixtures() {
  TrainingMethodRegistry.shared.register(CommandTestMethod.descriptor)
  TrainingMethodRegistry.shared.register(CommandTestMethod.other)
  TrainingDatasetCatalog.shared.register(
    TrainingDatasetEntry(
      name: "blobs", summary: "three Gaussian blobs (test only)",
      feature: FeatureShape(channels: 1, height: 2, width: 2), classCount: 3,
      load: { split, _ in try blobs(split) }))
}

func temporaryDirectory(_ name: String) -> String {
  let path = "/tmp/snn-cli-tests-\(name)-\(UInt64.random(in: 0...UInt64.max))"
  mkdir(path, 0o755)
  return path
}
