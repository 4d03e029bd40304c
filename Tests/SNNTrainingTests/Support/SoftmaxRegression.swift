import SNNBase

@testable import SNNTraining

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A test-only method: multinomial logistic regression on the flattened input, written with
/// plain loops. It exercises every part of the method contract: parameters and optimizer
/// state in blobs, a generator of its own (input noise), the per-step generator (input
/// dropout), operation counts, extra sums, per-epoch diagnostics and summary extras.
final class SoftmaxRegression: TrainingMethod {
  let name = "test-softmax"
  var parameters: ParameterStore
  var optimizer: ParameterOptimizer
  /// The method's own generator: Gaussian input noise of standard deviation `noise`.
  var noiseGenerator: Xoshiro256StarStar
  let noise: Float
  let dropout: Double
  let inputCount: Int
  let classCount: Int
  var steps = 0

  static let options: [MethodOption] = [
    MethodOption(
      name: "noise", valueName: "X", help: "Input noise standard deviation.",
      kind: .number(0...1), defaultValue: 0.01),
    MethodOption(
      name: "dropout", valueName: "P", help: "Input dropout probability.",
      kind: .number(0...0.9), defaultValue: 0.1),
  ]

  static let descriptor = TrainingMethodDescriptor(
    name: "test-softmax", summary: "softmax regression (test only)", backend: .dense,
    options: options
  ) { setup in try SoftmaxRegression(setup) }

  init(_ setup: MethodSetup) throws {
    let layers = setup.analysis.layers
    guard layers.count == 1, layers[0].kind == .linear else {
      throw ConfigurationError.invalid(
        field: "--model", value: setup.model.notation, expected: "a single linear layer")
    }
    inputCount = layers[0].input.elementCount
    classCount = layers[0].output.elementCount
    parameters = try ParameterStore(model: setup.model, seed: setup.configuration.seed)
    optimizer = ParameterOptimizer(settings: setup.configuration.optimizer, parameters: parameters)
    noiseGenerator = RandomStreams.generator(setup.configuration.seed, "test-softmax/noise")
    noise = Float(setup.options.double("noise"))
    dropout = setup.options.double("dropout")
  }

  var parameterCount: Int { parameters.scalarCount }

  /// Logits of one sample.
  private func logits(_ x: ArraySlice<Float>) -> [Float] {
    let w = parameters[0].values
    let b = parameters[1].values
    var z = [Float](repeating: 0, count: classCount)
    for k in 0..<classCount {
      var s = b[k]
      for i in 0..<inputCount { s += w[k * inputCount + i] * x[x.startIndex + i] }
      z[k] = s
    }
    return z
  }

  private func probabilities(_ z: [Float]) -> [Float] {
    let m = z.max()!
    let e = z.map { Math.exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
  }

  private func count(_ x: ArraySlice<Float>, _ z: [Float], into counter: inout SynOpCounter) {
    let active = x.filter { $0 > 0.5 }.count
    counter.addSpikes(active, layer: 0)
    counter.addNeuronUpdates(inputCount, layer: 0)
    counter.addAccumulates(active * classCount, layer: 1)
    counter.addMultiplyAccumulates(inputCount * classCount, layer: 1)
  }

  func trainBatch(_ batch: Batch, context: StepContext) throws -> BatchMetrics {
    var random = context.random
    var counter = SynOpCounter(layerNames: ["input", "fc1"])
    var lossSum = 0.0
    var correct = 0
    var positive = 0.0
    parameters.zeroGradients()
    let n = inputCount
    for s in 0..<batch.count {
      var x = Array(batch.inputs[(s * n)..<((s + 1) * n)])
      for i in 0..<n {
        x[i] += noise * Float(noiseGenerator.nextNormal())
        if random.nextUnitDouble() < dropout { x[i] = 0 }
      }
      let z = logits(x[...])
      count(x[...], z, into: &counter)
      positive += Double(z.filter { $0 > 0 }.count)
      let p = probabilities(z)
      let y = batch.labels[s]
      lossSum -= Double(Math.log(max(p[y], 1e-30)))
      if z.firstIndex(of: z.max()!) == y { correct += 1 }
      let scale = 1 / Float(batch.count)
      parameters.withGradients(0) { g in
        for k in 0..<classCount {
          let d = (p[k] - (k == y ? 1 : 0)) * scale
          for i in 0..<n { g[k * n + i] += d * x[i] }
        }
      }
      parameters.withGradients(1) { g in
        for k in 0..<classCount { g[k] += (p[k] - (k == y ? 1 : 0)) * scale }
      }
    }
    optimizer.step(&parameters, learningRate: context.learningRate)
    steps += 1
    return BatchMetrics(
      sampleCount: batch.count, lossSum: lossSum, correctCount: correct, operations: counter,
      extraSums: [("positive_logits", positive)])
  }

  func evaluateBatch(_ batch: Batch, context: EvaluationContext) throws -> BatchMetrics {
    var counter = SynOpCounter(layerNames: ["input", "fc1"])
    var lossSum = 0.0
    var correct = 0
    let n = inputCount
    for s in 0..<batch.count {
      let x = batch.inputs[(s * n)..<((s + 1) * n)]
      let z = logits(x)
      count(x, z, into: &counter)
      let p = probabilities(z)
      lossSum -= Double(Math.log(max(p[batch.labels[s]], 1e-30)))
      if z.firstIndex(of: z.max()!) == batch.labels[s] { correct += 1 }
    }
    return BatchMetrics(
      sampleCount: batch.count, lossSum: lossSum, correctCount: correct, operations: counter)
  }

  func epochDidEnd(epoch: Int) -> [(key: String, value: JSONValue)] {
    let norm = parameters[0].values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    return [("weight_norm", JSONValue(norm))]
  }

  func summaryExtras() -> [(key: String, value: JSONValue)] {
    [("test_method_steps", JSONValue(steps))]
  }

  func exportState() -> MethodState {
    MethodState(
      json: ["steps": JSONValue(steps), "optimizer": optimizer.stateJSON],
      blobs: parameters.blobs() + optimizer.stateBlobs,
      generators: [("noise", noiseGenerator)])
  }

  func restoreState(_ state: MethodState) throws(CheckpointError) {
    var newParameters = parameters
    try newParameters.load(state.blobs)
    var newOptimizer = optimizer
    guard let optimizerJSON = state.json["optimizer"], let steps = state.json["steps"]?.intValue
    else {
      throw CheckpointError(
        .invalidHeader, field: "header.method_state", expected: "steps and optimizer",
        found: "\(state.json)")
    }
    try newOptimizer.restore(
      blobs: state.blobs, json: optimizerJSON, field: "header.method_state.optimizer")
    let generator = try state.generator("noise")
    parameters = newParameters
    optimizer = newOptimizer
    noiseGenerator = generator
    self.steps = steps
  }
}

/// Gaussian blobs around `classCount` well-separated centres in a `1×2×2` input space.
func makeBlobs(
  classCount: Int = 3, trainCount: Int = 300, testCount: Int = 90, seed: UInt64 = 7
) throws -> (train: InMemoryDataset, test: InMemoryDataset) {
  var g = Xoshiro256StarStar(seed: seed)
  let shape = SampleShape(feature: FeatureShape(channels: 1, height: 2, width: 2))
  var centres: [[Float]] = []
  for k in 0..<classCount {
    var c = [Float](repeating: 0, count: 4)
    c[k % 4] = 2
    c[(k + 1) % 4] = k >= 4 ? 2 : 0
    centres.append(c)
  }
  func make(_ count: Int, _ name: String) throws -> InMemoryDataset {
    var inputs: [Float] = []
    var labels: [Int] = []
    for i in 0..<count {
      let k = i % classCount
      for j in 0..<4 { inputs.append(centres[k][j] + Float(0.3 * g.nextNormal())) }
      labels.append(k)
    }
    return try InMemoryDataset(
      name: name, sampleShape: shape, classCount: classCount, inputs: inputs, labels: labels)
  }
  return (try make(trainCount, "blobs"), try make(testCount, "blobs"))
}

/// A configuration for the softmax method on the blobs.
func softmaxConfiguration(
  epochs: Int = 4, batchSize: Int = 32, seed: UInt64 = 11,
  optimizer: OptimizerSettings = OptimizerSettings(
    kind: .sgd, learningRate: 0.5, momentum: 0.9, weightDecay: 1e-3)
) throws -> RunConfiguration {
  let model = try ModelSpec.parse("4-3", input: FeatureShape(channels: 1, height: 2, width: 2))
  return RunConfiguration(
    method: "test-softmax", model: model, dataset: "blobs", timeSteps: 1, epochs: epochs,
    batchSize: batchSize, seed: seed, optimizer: optimizer,
    methodOptions: try SoftmaxRegression.descriptor.resolveOptions([]))
}

/// A fresh softmax method for `configuration` on `dataset`.
func makeSoftmax(_ configuration: RunConfiguration, _ dataset: any LabelledDataset) throws
  -> SoftmaxRegression
{
  let setup = MethodSetup(
    configuration: configuration, analysis: try configuration.model.analyze(),
    sampleShape: dataset.sampleShape, classCount: dataset.classCount)
  return try SoftmaxRegression(setup)
}

/// A fresh directory under /tmp for one test.
func temporaryDirectory(_ name: String) -> String {
  let path = "/tmp/snn-training-tests-\(name)-\(UInt64.random(in: 0...UInt64.max))"
  mkdir(path, 0o755)
  return path
}
