import SNNBase
import SNNTensor
import Testing

@testable import SNNTraining

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Four classes of 1×6×6 images: a bright 3×3 patch in one quadrant, plus noise.
func makeQuadrants(trainCount: Int = 96, testCount: Int = 32, seed: UInt64 = 3) throws -> (
  train: InMemoryDataset, test: InMemoryDataset
) {
  var g = Xoshiro256StarStar(seed: seed)
  let shape = SampleShape(feature: FeatureShape(channels: 1, height: 6, width: 6))
  func make(_ count: Int) throws -> InMemoryDataset {
    var inputs: [Float] = []
    var labels: [Int] = []
    for i in 0..<count {
      let k = (i * 7 + i / 4) % 4
      let (y0, x0) = ((k / 2) * 3, (k % 2) * 3)
      for y in 0..<6 {
        for x in 0..<6 {
          let inside = y >= y0 && y < y0 + 3 && x >= x0 && x < x0 + 3
          inputs.append((inside ? 1.5 : 0) + Float(0.4 * g.nextNormal()))
        }
      }
      labels.append(k)
    }
    return try InMemoryDataset(
      name: "quadrants", sampleShape: shape, classCount: 4, inputs: inputs, labels: labels)
  }
  return (try make(trainCount), try make(testCount))
}

@Suite struct DenseMethodTests {
  func configuration(
    method: String, model: String = "4C3-AP2-8-4", steps: Int = 3, epochs: Int = 3,
    options: [(name: String, value: JSONValue)] = [],
    optimizer: OptimizerSettings = OptimizerSettings(
      kind: .sgd, learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4)
  ) throws -> RunConfiguration {
    let descriptor = try TrainingMethodRegistry.shared.lookup(method)
    return RunConfiguration(
      method: method,
      model: try ModelSpec.parse(model, input: FeatureShape(channels: 1, height: 6, width: 6)),
      dataset: "quadrants", timeSteps: steps, epochs: epochs, batchSize: 16, seed: 4,
      optimizer: optimizer, methodOptions: try descriptor.resolveOptions(options))
  }

  func makeMethod(_ c: RunConfiguration, _ data: any LabelledDataset) throws -> any TrainingMethod {
    let descriptor = try TrainingMethodRegistry.shared.lookup(c.method)
    return try descriptor.makeMethod(
      MethodSetup(
        configuration: c, analysis: try c.model.analyze(), sampleShape: data.sampleShape,
        classCount: data.classCount))
  }

  func train(_ c: RunConfiguration, path: String?, stop: ((Trainer) -> Bool)? = nil) throws
    -> (Trainer, RunSummary)
  {
    let (train, test) = try makeQuadrants()
    let trainer = try Trainer(
      configuration: c, method: try makeMethod(c, train), trainSet: train, testSet: test,
      options: Trainer.Options(checkpointPath: path))
    if let stop { trainer.shouldStop = { stop(trainer) } }
    return (trainer, try trainer.run())
  }

  @Test(arguments: ["bptt", "lsg"])
  func learnsTheQuadrants(method: String) throws {
    let c = try configuration(method: method, epochs: 4)
    let (_, summary) = try train(c, path: nil)
    let test = summary.history.last!.test!
    #expect(test.accuracy >= 0.9, "\(method): test accuracy \(test.accuracy)")
    #expect(summary.history.last!.train.loss < summary.history.first!.train.loss)
    // Firing rates and synaptic operations are counted.
    let ops = test.operations!
    #expect(ops.layerNames == ["conv1", "fc2", "fc3"])
    let updates: [UInt64] = [32 * 3 * 64, 32 * 3 * 8, 0]
    #expect(ops.neuronUpdates == updates)
    #expect(ops.spikes[0] > 0 && ops.spikes[1] > 0 && ops.spikes[2] == 0)
    // conv1 sees the image (MACs at every step); fc2 sees pooled spikes: each conv1 spike
    // routed through the pool to fc2's 8 neurons (accumulates, as the event engine that
    // folds the pool into the synapses delivers them); the readout sees spikes (one
    // accumulate per spike and output).
    let macs: [UInt64] = [32 * 3 * 64 * 9, 0, 0]
    #expect(ops.multiplyAccumulates == macs)
    #expect(ops.accumulates[1] == ops.spikes[0] * 8)
    #expect(ops.accumulates[2] == ops.spikes[1] * 4)
    if method == "lsg" {
      // The gradient window ratio of every layer is logged per epoch, and β per layer.
      let extras = Dictionary(
        uniqueKeysWithValues: summary.history.last!.train.extraPerSample.map { ($0.key, $0.value) })
      for layer in ["conv1", "fc2"] {
        let r = extras["grad_available_ratio/" + layer]
        #expect(r != nil && r! > 0 && r! < 1, "\(layer): \(String(describing: r))")
      }
      let epochExtra = summary.history.last!.extra
      #expect(epochExtra.contains { $0.key == "leak_beta" })
      #expect(epochExtra.contains { $0.key == "surrogate_width" })
    } else {
      #expect(summary.history.last!.train.extraPerSample.isEmpty)  // sigmoid: no window
    }
  }

  /// Interrupted in the middle of epoch 2 and resumed from the checkpoint, a real method
  /// (BN running statistics, momentum, LSG's leaks) ends bit-identical to an
  /// uninterrupted run; evaluating the restored method reproduces the recorded accuracy.
  @Test(arguments: ["bptt", "lsg"])
  func resumeIsBitIdenticalAndEvaluationReproduces(method: String) throws {
    let dir = temporaryDirectory("dense-resume-\(method)")
    defer { rmdir(dir) }
    let optimizer = OptimizerSettings(
      kind: method == "bptt" ? .sgd : .adamw, learningRate: method == "bptt" ? 0.1 : 0.01,
      weightDecay: 5e-4)
    let c = try configuration(method: method, optimizer: optimizer)
    let full = try train(c, path: dir + "/full.ckpt")
    var batches = 0
    let stopped = try train(c, path: dir + "/part.ckpt") { _ in
      batches += 1
      return batches == 9  // epoch 2, after batch 3 of 6
    }
    #expect(!stopped.1.completed)
    let checkpoint = try TrainingCheckpoint.read(dir + "/part.ckpt")
    #expect(checkpoint.epochsCompleted == 1 && checkpoint.batchesCompleted == 3)
    let (train, test) = try makeQuadrants()
    let trainer = try Trainer(
      configuration: c, method: try makeMethod(c, train), trainSet: train, testSet: test,
      options: Trainer.Options(checkpointPath: dir + "/part.ckpt"))
    try trainer.restore(from: checkpoint, path: dir + "/part.ckpt")
    let resumed = try trainer.run()
    #expect(full.0.method.exportState().isBitIdentical(to: trainer.method.exportState()))
    #expect(full.1.history.count == resumed.history.count)
    for (x, y) in zip(full.1.history, resumed.history) {
      #expect(x.isBitIdentical(to: y), "epoch \(x.epoch)")
    }
    // A fresh method restored from the final checkpoint evaluates to the recorded test
    // metrics, bit for bit.
    let final = try TrainingCheckpoint.read(dir + "/full.ckpt")
    let fresh = try makeMethod(c, train)
    try fresh.restoreState(final.methodState)
    let again = try Trainer.evaluate(method: fresh, dataset: test, batchSize: 16, seed: c.seed)
    #expect(again.isBitIdentical(to: full.1.history.last!.test!))
    // Without the BN running statistics the restored state is refused (missing blob).
    var damaged = final.methodState
    damaged.blobs.removeAll { $0.name.hasPrefix("state/") && $0.name.hasSuffix("running_var") }
    do {
      try makeMethod(c, train).restoreState(damaged)
      Issue.record("expected an error")
    } catch let error as CheckpointError {
      #expect(error.kind == .missingBlob, "\(error)")
    }
    var stray = final.methodState
    stray.blobs.append(TensorBlob(name: "extra/x", shape: [1], values: [0]))
    #expect(throws: CheckpointError.self) { try makeMethod(c, train).restoreState(stray) }
    unlink(dir + "/full.ckpt")
    unlink(dir + "/part.ckpt")
  }

  /// The static-input shortcut (the first layer and its BN computed once, neurons reading
  /// a constant current) gives the same logits and gradients as feeding the image as T
  /// identical frames through the general path.
  @Test func staticInputMatchesRepeatedFrames() throws {
    let spec = try ModelSpec.parse(
      "3C3-AP2-5-4", input: FeatureShape(channels: 1, height: 6, width: 6))
    let configuration = DenseModel.Configuration(timeSteps: 4, normalization: .batchNorm)
    let a = try DenseModel(spec: spec, configuration: configuration, seed: 2)
    let b = try DenseModel(spec: spec, parameters: a.parameters, configuration: configuration)
    var g = Xoshiro256StarStar(seed: 8)
    let image = (0..<(8 * 36)).map { _ in Float(g.nextNormal() + 0.5) }
    let labels = (0..<8).map { $0 % 4 }
    var frames: [Float] = []
    for s in 0..<8 {
      for _ in 0..<4 { frames += image[(s * 36)..<((s + 1) * 36)] }
    }
    let one = SampleShape(frames: 1, feature: spec.input)
    let four = SampleShape(frames: 4, feature: spec.input)
    let za = a.forward(inputs: image, sampleShape: one, batchSize: 8)
    let zb = b.forward(inputs: frames, sampleShape: four, batchSize: 8)
    #expect(za.maxAbsoluteDifference(zb) < 1e-5)
    let la = SoftmaxCrossEntropy(logits: za, labels: labels)
    let lb = SoftmaxCrossEntropy(logits: zb, labels: labels)
    a.parameters.zeroGradients()
    b.parameters.zeroGradients()
    a.backward(la.gradient)
    b.backward(lb.gradient)
    for (p, q) in zip(a.parameters.parameters, b.parameters.parameters) {
      let scale = q.gradients.map { abs($0) }.max()!
      let error = zip(p.gradients, q.gradients).map { abs($0 - $1) }.max()!
      #expect(error <= 1e-4 * max(scale, 1e-3), "\(p.name): \(error) of \(scale)")
    }
    // Spikes and operation counts agree as well.
    #expect(a.operations!.spikes == b.operations!.spikes)
  }

  @Test func modelRejectsWhatItCannotRun() throws {
    let input = FeatureShape(channels: 1, height: 6, width: 6)
    var spiking = try ModelSpec.parse("4C3-AP2-4", input: input)
    spiking.readout = .spiking
    #expect(throws: ConfigurationError.self) {
      try DenseModel(spec: spiking, configuration: DenseModel.Configuration(timeSteps: 2), seed: 1)
    }
    let spec = try ModelSpec.parse("4C3-AP2-4", input: input)
    let wrong = try ParameterStore(model: spec, seed: 1)  // no BN parameters
    #expect(throws: ConfigurationError.self) {
      try DenseModel(spec: spec, parameters: wrong, configuration: .init(timeSteps: 2))
    }
    // A dataset with frames ≠ T is refused by the method.
    let c = try configuration(method: "bptt", model: "4C3-AP2-4", steps: 3)
    let events = SampleShape(frames: 5, feature: input)
    #expect(throws: ConfigurationError.self) {
      try BPTTMethod.descriptor.makeMethod(
        MethodSetup(
          configuration: c, analysis: try c.model.analyze(), sampleShape: events, classCount: 4))
    }
  }

  @Test func parametersAreLentWithoutCopying() throws {
    let spec = try ModelSpec.parse("12-6-3", input: FeatureShape(channels: 1, height: 3, width: 4))
    let model = try DenseModel(
      spec: spec, configuration: DenseModel.Configuration(timeSteps: 2, neuron: .lsg), seed: 3)
    let before = model.parameters
    let address = model.parameters[0].values.withUnsafeBufferPointer { $0.baseAddress }
    model.withBoundParameters {
      guard case .linear(let fc1) = model.stages[1].kind else {
        Issue.record("expected a linear stage")
        return
      }
      // The layer holds the store's own buffer (lent, not copied); the store a placeholder.
      #expect(fc1.weight.value.withUnsafeBufferPointer { $0.baseAddress } == address)
    }
    #expect(model.parameters.isBitIdentical(to: before))
    #expect(model.parameters.names.contains("fc1.neuron.leak_logit"))
    #expect(abs(model.parameters["fc1.neuron.leak_logit"].values[0] - Float(Math.log(0.25))) < 1e-6)
  }
}
