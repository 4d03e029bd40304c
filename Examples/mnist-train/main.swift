// mnist-train: trains a small spiking network on MNIST with surrogate-gradient BPTT,
// through the library API (the same pieces `snn train` uses): dataset, method from the
// registry, trainer, summary. A short run: the first 10,000 training images, 2 epochs of
// the MLP 784-800-10 at T = 4, evaluated on the full test set (about half a minute on 2
// cores).
//
//   swift run -c release mnist-train [--data DIR] [--method bptt|lsg] [--model SPEC]
//       [--curves FILE.svg]
//
// --curves draws the learning curves (error and loss per epoch, `TrainingCurves`) to
// FILE.svg and FILE-loss.svg.
//
// The data folder is --data, else SNN_DATA, else ~/.snn/data; without MNIST there the
// example says so and exits.
import Foundation
import SNN

var dataPath: String? = nil
var methodName = "bptt"
var modelText = "mlp"
var curvesPath: String? = nil
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
  guard let value = arguments.popFirst() else {
    print("usage: mnist-train [--data DIR] [--method bptt|lsg] [--model SPEC] [--curves FILE.svg]")
    exit(64)
  }
  switch flag {
  case "--data": dataPath = value
  case "--method": methodName = value
  case "--model": modelText = value
  case "--curves": curvesPath = value
  default:
    print("unknown option \(flag)")
    exit(64)
  }
}

let root = DataRoot.resolve(explicit: dataPath, environment: ProcessInfo.processInfo.environment)
let train: ImageClassificationDataset
let test: ImageClassificationDataset
do {
  train = try ImageClassificationDataset.load(.mnist, split: .train, root: root)
  test = try ImageClassificationDataset.load(.mnist, split: .test, root: root)
} catch .notFound(let missing) {
  print("MNIST not found, skipping the example: \(missing)")
  exit(0)
} catch {
  print("cannot read MNIST: \(error)")
  exit(65)
}

do {
  let descriptor = try TrainingMethodRegistry.shared.lookup(methodName)
  var model = try ModelSpec.parse(modelText, input: train.sampleShape.feature)
  model.readout = descriptor.defaults.readout
  let configuration = RunConfiguration(
    method: descriptor.name, model: model, dataset: "mnist", timeSteps: 4, epochs: 2,
    batchSize: 64, seed: 1,
    optimizer: OptimizerSettings(kind: .adamw, learningRate: 0.002, weightDecay: 5e-4),
    methodOptions: try descriptor.resolveOptions([]), trainSampleLimit: 10_000)
  let method = try descriptor.makeMethod(
    MethodSetup(
      configuration: configuration, analysis: try model.analyze(), sampleShape: train.sampleShape,
      classCount: train.classCount))
  let trainer = try Trainer(
    configuration: configuration, method: method, trainSet: train, testSet: test)
  trainer.observer = { event in
    if case .epoch(let record) = event {
      let test = record.test!
      print(
        "epoch \(record.epoch): train accuracy \(String(format: "%.2f", 100 * record.train.accuracy))%, "
          + "test accuracy \(String(format: "%.2f", 100 * test.accuracy))%, "
          + "firing rate \(String(format: "%.4f", test.meanFiringRate ?? 0)), "
          + "\(String(format: "%.1f", record.trainSeconds)) s training")
    }
  }
  print("\(descriptor.name) on \(model.notation), T = 4, 10,000 training images, 2 epochs")
  let summary = try trainer.run()
  print(
    "test accuracy \(String(format: "%.2f", 100 * summary.finalTest!.accuracy))% after "
      + "\(String(format: "%.1f", summary.timing.wallSeconds)) s, "
      + "\(Int(summary.trainSamplesPerSecond)) training samples/s, "
      + "\(summary.parameterCount) parameters")
  if let curvesPath {
    try TrainingCurves(history: summary.history, title: TrainingCurves.title(for: configuration))
      .write(to: curvesPath)
    print("learning curves: \(curvesPath), \(TrainingCurves.lossPath(curvesPath))")
  }
} catch {
  print("error: \(error)")
  exit(1)
}
