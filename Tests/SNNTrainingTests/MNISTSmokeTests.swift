import SNNBase
import SNNDatasets
import Testing

@testable import SNNTraining

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Real-data checks, run when `SNN_DATA` names the data folder (`SNN_DATA=/work/shared/data`).
@Suite(.enabled(if: getenv("SNN_DATA") != nil)) struct MNISTSmokeTests {
  var root: DataRoot { DataRoot(path: String(cString: getenv("SNN_DATA")), source: .environment) }

  /// `bptt` on the MLP 784-800-10 (T = 4, BN, SpingJelly's LIF), the first 2,000 training
  /// samples, one epoch (batch 16, AdamW 0.002): above 90 % on the full test set. (For
  /// scale: a ReLU MLP of the same size trained the same way in NumPy reached 86–88 %;
  /// this run gives 90.6 %, seeds 2 and 3 90.6 % and 90.1 %.)
  @Test func mlpLearnsMNISTInOneEpochOf2000Samples() throws {
    let train = try ImageClassificationDataset.load(.mnist, split: .train, root: root)
    let test = try ImageClassificationDataset.load(.mnist, split: .test, root: root)
    #expect(train.sampleCount == 60_000 && test.sampleCount == 10_000)
    let descriptor = BPTTMethod.descriptor
    let configuration = RunConfiguration(
      method: "bptt", model: try ModelSpec.parse("mlp", input: train.sampleShape.feature),
      dataset: "mnist", timeSteps: 4, epochs: 1, batchSize: 16, seed: 1,
      optimizer: OptimizerSettings(kind: .adamw, learningRate: 0.002, weightDecay: 5e-4),
      methodOptions: try descriptor.resolveOptions([]), trainSampleLimit: 2000)
    let method = try descriptor.makeMethod(
      MethodSetup(
        configuration: configuration, analysis: try configuration.model.analyze(),
        sampleShape: train.sampleShape, classCount: train.classCount))
    let trainer = try Trainer(
      configuration: configuration, method: method, trainSet: train, testSet: test)
    let watch = Stopwatch()
    let summary = try trainer.run()
    let accuracy = summary.history.last!.test!.accuracy
    #expect(accuracy > 0.90, "test accuracy \(accuracy)")
    #expect(summary.history.last!.test!.sampleCount == 10_000)
    #expect(watch.elapsedSeconds < 60, "took \(watch.elapsedSeconds) s")
  }

  /// The images reach the model normalized: mean ≈ 0 and std ≈ 1 over the training set.
  @Test func imagesAreNormalized() throws {
    let train = try ImageClassificationDataset.load(.mnist, split: .train, root: root)
    var inputs = [Float](repeating: 0, count: 1000 * 784)
    var labels = [Int](repeating: 0, count: 1000)
    try train.fill(indices: Array(0..<1000)[...], inputs: &inputs, labels: &labels)
    let mean = inputs.reduce(0.0) { $0 + Double($1) } / Double(inputs.count)
    let variance =
      inputs.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
      / Double(inputs.count)
    #expect(abs(mean) < 0.05 && abs(variance.squareRoot() - 1) < 0.05, "\(mean) \(variance)")
    #expect(labels.allSatisfy { (0..<10).contains($0) } && Set(labels).count == 10)
  }
}
