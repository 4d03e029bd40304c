import SNNBase
import Testing

@testable import SNNTraining

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// SPIDE through the shared ``Trainer``: it learns, reports its summary keys, and a run
/// stopped mid-epoch and resumed from its checkpoint is bit-identical to an uninterrupted one.
@Suite struct SPIDETrainerTests {
  static func configuration(epochs: Int) throws -> RunConfiguration {
    let input = FeatureShape(channels: 1, height: 2, width: 2)
    var model = try ModelSpec.parse("4-8-3+FB1to1:L", input: input)
    model.readout = .linear
    let options = try SPIDEMethod.descriptor.resolveOptions([
      ("T-backward", JSONValue(100)), ("dropout-fc", JSONValue(0.2)),
    ])
    return RunConfiguration(
      method: "spide", model: model, dataset: "blobs", timeSteps: 30, epochs: epochs,
      batchSize: 32, seed: 9,
      optimizer: OptimizerSettings(kind: .sgd, learningRate: 0.5, momentum: 0.9, weightDecay: 5e-4),
      methodOptions: options)
  }

  func trainer(_ configuration: RunConfiguration, path: String?) throws -> Trainer {
    let (train, test) = try makeBlobs()
    let method = try SPIDEMethod(
      MethodSetup(
        configuration: configuration, analysis: try configuration.model.analyze(),
        sampleShape: train.sampleShape, classCount: train.classCount))
    return try Trainer(
      configuration: configuration, method: method, trainSet: train, testSet: test,
      options: Trainer.Options(checkpointPath: path))
  }

  @Test func learnsReportsAndResumesBitIdentically() throws {
    let dir = "/tmp/snn-spide-trainer-\(UInt64.random(in: 0...UInt64.max))"
    mkdir(dir, 0o755)
    defer { rmdir(dir) }
    let configuration = try Self.configuration(epochs: 3)
    let full = try trainer(configuration, path: dir + "/full.ckpt")
    let summary = try full.run()
    let json = summary.json
    print("SPIDE on blobs:", json["test_accuracy"]!, json["extra"]!)
    #expect(summary.completed)
    #expect(json["test_accuracy"]!.doubleValue! >= 0.9)
    let extra = try #require(json["extra"])
    for key in [
      "forward_rate", "backward_rate", "forward_synaptic_events_per_sample",
      "backward_synaptic_events_per_sample", "dense_macs_per_sample",
    ] {
      let value = try #require(extra[key]?.doubleValue, "missing \(key)")
      #expect(value > 0, "\(key) = \(value)")
    }
    #expect(extra["forward_rate"]!.doubleValue! < 1 && extra["backward_rate"]!.doubleValue! < 1)

    let stopped = try trainer(configuration, path: dir + "/part.ckpt")
    stopped.shouldStop = { stopped.globalStep == 14 }  // epoch 2, after its 4th batch
    let partial = try stopped.run()
    #expect(!partial.completed)
    let resumed = try trainer(configuration, path: dir + "/part.ckpt")
    try resumed.restore(from: TrainingCheckpoint.read(dir + "/part.ckpt"), path: dir + "/part.ckpt")
    let end = try resumed.run()
    #expect(end.completed)
    #expect(full.method.exportState().isBitIdentical(to: resumed.method.exportState()))
    #expect(summary.history.count == end.history.count)
    for (x, y) in zip(summary.history, end.history) {
      #expect(x.isBitIdentical(to: y), "epoch \(x.epoch)")
    }
    unlink(dir + "/full.ckpt")
    unlink(dir + "/part.ckpt")
  }
}
