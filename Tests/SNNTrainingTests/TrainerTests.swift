import SNNBase
import Testing

@testable import SNNTraining

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@Suite struct TrainerTests {
  @Test func epochOrderIsAPureFunctionOfSeedAndEpoch() {
    let a = EpochOrder.permutation(sampleCount: 1000, seed: 9, epoch: 3)
    #expect(a == EpochOrder.permutation(sampleCount: 1000, seed: 9, epoch: 3))
    #expect(a.sorted() == Array(0..<1000))
    #expect(a != EpochOrder.permutation(sampleCount: 1000, seed: 9, epoch: 4))
    #expect(a != EpochOrder.permutation(sampleCount: 1000, seed: 10, epoch: 3))
    #expect(RandomStreams.seed(1, "a", 0) != RandomStreams.seed(1, "b", 0))
    #expect(RandomStreams.seed(1, "a", 0) != RandomStreams.seed(1, "a", 1))
  }

  @Test func softmaxRegressionLearnsTheBlobs() throws {
    let (train, test) = try makeBlobs()
    let configuration = try softmaxConfiguration(epochs: 5)
    let method = try makeSoftmax(configuration, train)
    let before = try Trainer.evaluate(method: method, dataset: test, batchSize: 32, seed: 11)
    let trainer = try Trainer(
      configuration: configuration, method: method, trainSet: train, testSet: test)
    var batchEvents = 0
    var epochEvents = 0
    trainer.observer = { event in
      switch event {
      case .batch: batchEvents += 1
      case .epoch: epochEvents += 1
      default: break
      }
    }
    let summary = try trainer.run()
    #expect(summary.completed && summary.epochsCompleted == 5)
    #expect(batchEvents == 5 * 10 && epochEvents == 5)  // 300 samples in batches of 32
    let first = summary.history.first!.train
    let last = summary.history.last!
    #expect(last.train.loss < first.loss)
    #expect(last.test!.accuracy >= 0.95, "test accuracy \(last.test!.accuracy)")
    #expect(before.accuracy < last.test!.accuracy)
    #expect(last.train.sampleCount == 300 && last.test!.sampleCount == 90)
    // The final evaluation can be reproduced from the trained method.
    let again = try Trainer.evaluate(method: method, dataset: test, batchSize: 32, seed: 11)
    #expect(again.isBitIdentical(to: last.test!))
    // Learning rates follow the cosine schedule.
    #expect(
      summary.history.map(\.learningRate)
        == (0..<5).map { configuration.optimizer.learningRate(epoch: $0, of: 5, step: .max) })
  }

  @Test func summaryHasTheDocumentedKeys() throws {
    let (train, test) = try makeBlobs()
    let configuration = try softmaxConfiguration(epochs: 2)
    let trainer = try Trainer(
      configuration: configuration, method: try makeSoftmax(configuration, train), trainSet: train,
      testSet: test)
    let summary = try trainer.run()
    let json = summary.json
    for key in [
      "method", "model", "dataset", "T", "epochs", "epochs_completed", "completed", "batch_size",
      "seed",
      "optimizer", "method_options", "test_accuracy", "test_loss", "train_accuracy", "train_loss",
      "wall_seconds", "train_seconds", "test_seconds", "train_samples_per_second",
      "mean_firing_rate",
      "firing_rates", "synaptic_operations_per_sample", "multiply_accumulates_per_sample",
      "energy", "parameter_count", "dense_macs_per_step", "peak_resident_bytes", "history", "extra",
    ] {
      #expect(json[key] != nil, "missing \(key)")
    }
    #expect(json["model"]?.stringValue == "4-3")
    #expect(json["parameter_count"]?.intValue == 15)
    #expect(json["dense_macs_per_step"]?.intValue == 12)
    #expect(json["epochs"]?.intValue == 2 && json["completed"]?.boolValue == true)
    #expect(json["test_accuracy"]?.doubleValue == summary.history.last!.test!.accuracy)
    #expect(json["train_samples_per_second"]!.doubleValue! > 0)
    #expect(json["extra"]?["test_method_steps"]?.intValue == 20)
    // The firing rate is the test pass's spikes over neuron updates, counted by the method.
    let ops = summary.history.last!.test!.operations!
    #expect(
      json["mean_firing_rate"]?.doubleValue == Double(ops.totalSpikes)
        / Double(ops.totalNeuronUpdates))
    #expect(json["firing_rates"]?["input"]?.doubleValue == json["mean_firing_rate"]?.doubleValue)
    #expect(
      json["synaptic_operations_per_sample"]?.doubleValue == Double(ops.totalAccumulates) / 90)
    // Energy of the same pass: ACs × 0.9 pJ + MACs × 4.6 pJ (fp32).
    let energy = try #require(json["energy"])
    let expected = (Double(ops.totalAccumulates) * 0.9 + Double(ops.totalMultiplyAccumulates) * 4.6) / 90
    #expect(abs(energy["energy_pj_per_sample"]!.doubleValue! - expected) <= 1e-9 * expected)
    #expect(energy["ann_energy_pj_per_sample"]?.doubleValue == 12 * 4.6)
    let epoch = json["history"]!.arrayValue![1]
    #expect(epoch["epoch"]?.intValue == 2)
    #expect(epoch["train_extra_per_sample"]?["positive_logits"] != nil)
    #expect(epoch["extra"]?["weight_norm"] != nil)
    // The JSON prints and parses.
    #expect(try JSONValue.parse(json.rendered(pretty: true)) == json)
  }

  /// Trains to the end, or stops when `stop(trainer)` is true, writing the checkpoint to
  /// `path`.
  func train(
    _ configuration: RunConfiguration, path: String?, stop: ((Trainer) -> Bool)? = nil
  ) throws -> (Trainer, RunSummary) {
    let (trainSet, testSet) = try makeBlobs()
    let trainer = try Trainer(
      configuration: configuration, method: try makeSoftmax(configuration, trainSet),
      trainSet: trainSet,
      testSet: testSet, options: Trainer.Options(checkpointPath: path))
    if let stop { trainer.shouldStop = { stop(trainer) } }
    return (trainer, try trainer.run())
  }

  func resume(_ configuration: RunConfiguration, from path: String) throws -> (Trainer, RunSummary)
  {
    let (trainSet, testSet) = try makeBlobs()
    let trainer = try Trainer(
      configuration: configuration, method: try makeSoftmax(configuration, trainSet),
      trainSet: trainSet,
      testSet: testSet, options: Trainer.Options(checkpointPath: path))
    try trainer.restore(from: TrainingCheckpoint.read(path), path: path)
    return (trainer, try trainer.run())
  }

  func expectIdentical(
    _ a: (Trainer, RunSummary), _ b: (Trainer, RunSummary),
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(
      a.0.method.exportState().isBitIdentical(to: b.0.method.exportState()),
      sourceLocation: sourceLocation)
    #expect(a.1.history.count == b.1.history.count, sourceLocation: sourceLocation)
    for (x, y) in zip(a.1.history, b.1.history) {
      #expect(x.isBitIdentical(to: y), "epoch \(x.epoch)", sourceLocation: sourceLocation)
    }
    #expect(a.0.globalStep == b.0.globalStep, sourceLocation: sourceLocation)
  }

  @Test(arguments: [OptimizerSettings.Kind.sgd, .adamw])
  func resumeAfterAnEpochIsBitIdentical(kind: OptimizerSettings.Kind) throws {
    let dir = temporaryDirectory("resume-epoch")
    defer { rmdir(dir) }
    let optimizer = OptimizerSettings(
      kind: kind, learningRate: kind == .sgd ? 0.5 : 0.05, weightDecay: 1e-3)
    let configuration = try softmaxConfiguration(epochs: 4, optimizer: optimizer)
    let full = try train(configuration, path: dir + "/full.ckpt")
    let stopped = try train(configuration, path: dir + "/part.ckpt") { $0.epochsCompleted == 2 }
    #expect(!stopped.1.completed && stopped.1.epochsCompleted == 2)
    let checkpoint = try TrainingCheckpoint.read(dir + "/part.ckpt")
    #expect(
      checkpoint.epochsCompleted == 2 && checkpoint.batchesCompleted == 0
        && checkpoint.globalStep == 20)
    let resumed = try resume(configuration, from: dir + "/part.ckpt")
    #expect(resumed.1.completed)
    expectIdentical(full, resumed)
    // The final checkpoints agree too (timings aside).
    let a = try TrainingCheckpoint.read(dir + "/full.ckpt")
    let b = try TrainingCheckpoint.read(dir + "/part.ckpt")
    #expect(a.methodState.isBitIdentical(to: b.methodState))
    #expect(a.timing.trainSamples == b.timing.trainSamples && a.timing.trainSamples == 1200)
    unlink(dir + "/full.ckpt")
    unlink(dir + "/part.ckpt")
  }

  @Test func resumeInTheMiddleOfAnEpochIsBitIdentical() throws {
    let dir = temporaryDirectory("resume-batch")
    defer { rmdir(dir) }
    let configuration = try softmaxConfiguration(epochs: 3)
    let full = try train(configuration, path: nil)
    var batches = 0
    let stopped = try train(configuration, path: dir + "/part.ckpt") { _ in
      batches += 1
      return batches == 14  // epoch 2, after batch 4
    }
    #expect(!stopped.1.completed)
    let checkpoint = try TrainingCheckpoint.read(dir + "/part.ckpt")
    #expect(
      checkpoint.epochsCompleted == 1 && checkpoint.batchesCompleted == 4
        && checkpoint.globalStep == 14)
    #expect(checkpoint.currentEpoch.sampleCount == 128)
    let resumed = try resume(configuration, from: dir + "/part.ckpt")
    expectIdentical(full, resumed)
    unlink(dir + "/part.ckpt")
  }

  @Test func resumeWithoutTheMethodsGeneratorDiverges() throws {
    // A control showing that the resume comparison is sensitive: restoring everything but
    // the method's own noise generator gives different parameters.
    let dir = temporaryDirectory("resume-control")
    defer { rmdir(dir) }
    let configuration = try softmaxConfiguration(epochs: 3)
    let full = try train(configuration, path: nil)
    _ = try train(configuration, path: dir + "/part.ckpt") { $0.epochsCompleted == 1 }
    var checkpoint = try TrainingCheckpoint.read(dir + "/part.ckpt")
    checkpoint.methodState.generators = [
      ("noise", RandomStreams.generator(configuration.seed, "test-softmax/noise"))
    ]
    let (trainSet, testSet) = try makeBlobs()
    let trainer = try Trainer(
      configuration: configuration, method: try makeSoftmax(configuration, trainSet),
      trainSet: trainSet, testSet: testSet)
    try trainer.restore(from: checkpoint)
    _ = try trainer.run()
    #expect(!trainer.method.exportState().isBitIdentical(to: full.0.method.exportState()))
    unlink(dir + "/part.ckpt")
  }

  @Test func restoreRejectsAnotherConfiguration() throws {
    let dir = temporaryDirectory("resume-mismatch")
    defer { rmdir(dir) }
    let configuration = try softmaxConfiguration(epochs: 2)
    _ = try train(configuration, path: dir + "/a.ckpt") { $0.epochsCompleted == 1 }
    var other = configuration
    other.batchSize = 16
    let (trainSet, testSet) = try makeBlobs()
    let trainer = try Trainer(
      configuration: other, method: try makeSoftmax(other, trainSet), trainSet: trainSet,
      testSet: testSet)
    do {
      try trainer.restore(from: TrainingCheckpoint.read(dir + "/a.ckpt"), path: dir + "/a.ckpt")
      Issue.record("expected an error")
    } catch {
      #expect(error.kind == .incompatible && error.field == "header.configuration.batch_size")
      #expect(error.path == dir + "/a.ckpt")
    }
    #expect(trainer.epochsCompleted == 0)
    unlink(dir + "/a.ckpt")
  }

  @Test func checkpointHeaderIsValidatedFieldByField() throws {
    let dir = temporaryDirectory("header")
    defer { rmdir(dir) }
    let path = dir + "/a.ckpt"
    let configuration = try softmaxConfiguration(epochs: 2)
    _ = try train(configuration, path: path) { $0.epochsCompleted == 1 }
    let (header, blobs) = try CheckpointFile.read(path)
    #expect(try TrainingCheckpoint(header: header, blobs: blobs, path: path).epochsCompleted == 1)

    func rejected(_ edit: (inout JSONValue) -> Void) -> CheckpointError? {
      var h = header
      edit(&h)
      do {
        _ = try TrainingCheckpoint(header: h, blobs: blobs, path: path)
        return nil
      } catch {
        return error
      }
    }
    var e = rejected { $0.set("format", "something else") }
    #expect(e?.kind == .invalidHeader && e?.field == "header.format" && e?.path == path)
    e = rejected { h in
      var p = h["progress"]!
      p.set("epochs_completed", 2)
      h.set("progress", p)
    }
    #expect(e?.field == "header.history")
    e = rejected { h in
      var p = h["progress"]!
      p.set("epochs_completed", 7)
      h.set("progress", p)
    }
    #expect(e?.field == "header.progress.epochs_completed")
    e = rejected { $0.set("random_states", ["noise": ["0x1", "0x2", "0x3", "0x4"]]) }
    #expect(e?.field == "header.random_states.noise")
    e = rejected { h in
      var c = h["configuration"]!
      c.set("model_notation", "4-4")
      h.set("configuration", c)
    }
    #expect(e?.field == "header.configuration.model_notation")
    e = rejected { $0.set("surprise", 1) }
    #expect(e?.kind == .invalidHeader && e?.found == "'surprise'")
    unlink(path)
  }

  @Test func trainerChecksThatTheDataFitTheModel() throws {
    let (train, test) = try makeBlobs()
    var configuration = try softmaxConfiguration()
    let method = try makeSoftmax(configuration, train)
    configuration.model = try ModelSpec.parse("4-5", input: nil)
    #expect(throws: ConfigurationError.self) {
      _ = try Trainer(configuration: configuration, method: method, trainSet: train, testSet: test)
    }
    configuration.model = try ModelSpec.parse("1x4x1:2C1-3", input: nil)
    do {
      _ = try Trainer(configuration: configuration, method: method, trainSet: train, testSet: test)
      Issue.record("expected an error")
    } catch {
      #expect("\(error)".contains("--model") && "\(error)".contains("1×2×2"))
    }
    configuration.model = try ModelSpec.parse("1x2x2:2C1", input: nil)
    do {
      _ = try Trainer(configuration: configuration, method: method, trainSet: train, testSet: test)
      Issue.record("expected an error")
    } catch {
      #expect("\(error)".contains("last stage is linear"))
    }
    // A 5-input MLP does not fit 4 features.
    configuration.model = try ModelSpec.parse("5-3", input: nil)
    #expect(throws: ConfigurationError.self) {
      _ = try Trainer(configuration: configuration, method: method, trainSet: train, testSet: test)
    }
  }

  @Test func sampleLimitsAndPartialBatches() throws {
    let (train, test) = try makeBlobs()
    var configuration = try softmaxConfiguration(epochs: 1, batchSize: 40)
    configuration.trainSampleLimit = 100
    configuration.testSampleLimit = 30
    let trainer = try Trainer(
      configuration: configuration, method: try makeSoftmax(configuration, train), trainSet: train,
      testSet: test)
    #expect(trainer.batchesPerEpoch == 3)
    let summary = try trainer.run()
    #expect(
      summary.history[0].train.sampleCount == 100 && summary.history[0].test!.sampleCount == 30)
    let dropping = try Trainer(
      configuration: configuration, method: try makeSoftmax(configuration, train), trainSet: train,
      testSet: test,
      options: Trainer.Options(dropLastBatch: true))
    #expect(dropping.batchesPerEpoch == 2)
    #expect(try dropping.run().history[0].train.sampleCount == 80)
  }
}

@Suite struct MethodRegistryTests {
  @Test func emptyRegistrySaysSoPlainly() {
    let registry = TrainingMethodRegistry([])
    do {
      _ = try registry.lookup("bptt")
      Issue.record("expected an error")
    } catch {
      #expect(error.description.contains("--method"))
      #expect(error.description.contains("this build has none yet"))
      #expect(error.description.contains("'bptt' is planned, not implemented"))
    }
  }

  @Test func lookupRegisterAndOptions() throws {
    let registry = TrainingMethodRegistry([])
    registry.register(SoftmaxRegression.descriptor)
    #expect(registry.names == ["test-softmax"])
    #expect(try registry.lookup("test-softmax").backend == .dense)
    do {
      _ = try registry.lookup("bpt")
      Issue.record("expected an error")
    } catch {
      #expect(
        error
          == .unknown(field: "training method (--method)", value: "bpt", allowed: ["test-softmax"]))
    }
    let d = SoftmaxRegression.descriptor
    let defaults = try d.resolveOptions([])
    #expect(defaults.double("noise") == 0.01 && defaults.double("dropout") == 0.1)
    let given = try d.resolveOptions([("dropout", 0.5)])
    #expect(given.entries.map(\.name) == ["noise", "dropout"] && given.double("dropout") == 0.5)
    #expect(throws: ConfigurationError.self) { _ = try d.resolveOptions([("dropout", 0.95)]) }
    #expect(throws: ConfigurationError.self) { _ = try d.resolveOptions([("variant", "M")]) }
    #expect(throws: ConfigurationError.self) { _ = try d.resolveOptions([("noise", "loud")]) }
  }

  @Test func runConfigurationRoundTrips() throws {
    var c = try softmaxConfiguration()
    c.trainSampleLimit = 10
    c.optimizer.schedule = .step(milestones: [1, 2], gamma: 0.5)
    let back = try RunConfiguration(
      json: JSONValue.parse(c.json.rendered(pretty: true)), field: "c")
    #expect(back == c)
    #expect(back.firstDifference(from: c) == nil)
    var d = c
    d.timeSteps = 8
    #expect(c.firstDifference(from: d)?.key == "T")
    c.seed = UInt64(Int64.max) + 1
    #expect(throws: ConfigurationError.self) { try c.validate() }
  }
}
