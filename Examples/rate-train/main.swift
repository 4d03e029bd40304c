// Trains the conv preset on MNIST with rate-based backpropagation (`rate`, variant S by
// default) and prints the test accuracy after every epoch, with the wall time and the
// process's peak resident memory.
//
//   SNN_DATA=/path/to/data swift run -c release rate-train [T] [train-samples] [epochs] [M|S]
//   SNN_DATA=/work/shared/data swift run -c release rate-train 4 10000 1 S

import SNN

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `x` with `digits` digits after the point.
func fixed(_ x: Double, _ digits: Int) -> String {
  var scale = 1.0
  for _ in 0..<digits { scale *= 10 }
  let n = Int((abs(x) * scale).rounded())
  let whole = String(n / Int(scale))
  let fraction = String(n % Int(scale))
  let padded = String(repeating: "0", count: max(0, digits - fraction.count)) + fraction
  return (x < 0 && n != 0 ? "-" : "") + whole + (digits > 0 ? "." + padded : "")
}

let arguments = Array(CommandLine.arguments.dropFirst())
let steps = arguments.count > 0 ? Int(arguments[0]) ?? 4 : 4
let trainSamples = arguments.count > 1 ? Int(arguments[1]) ?? 10_000 : 10_000
let epochs = arguments.count > 2 ? Int(arguments[2]) ?? 1 : 1
let variant = arguments.count > 3 ? arguments[3] : "S"

guard let folder = getenv("SNN_DATA").map({ String(cString: $0) }) else {
  print("error: set SNN_DATA to the folder holding mnist/ (see Docs/Datasets.md)")
  exit(66)
}

do {
  let root = DataRoot(path: folder)
  let trainSet = try ImageClassificationDataset.load(.mnist, split: .train, root: root)
  let testSet = try ImageClassificationDataset.load(.mnist, split: .test, root: root)

  // The method's descriptor supplies its defaults: SGD 0.1 (momentum 0.9), weight decay
  // 5e-4, cosine schedule, BN, sigmoid surrogate, the 1/T loss scale.
  let descriptor = try TrainingMethodRegistry.shared.lookup("rate")
  let model = try ModelSpec.parse("conv", input: trainSet.sampleShape.feature)
  let optimizer = OptimizerSettings(
    kind: .sgd, learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4)
  let configuration = RunConfiguration(
    method: "rate", model: model, dataset: "mnist", timeSteps: steps, epochs: epochs,
    batchSize: 128, seed: 1, optimizer: optimizer,
    methodOptions: try descriptor.resolveOptions([("variant", JSONValue(variant))]),
    trainSampleLimit: trainSamples)
  try configuration.validate()
  let method = try descriptor.makeMethod(
    MethodSetup(
      configuration: configuration, analysis: try model.analyze(),
      sampleShape: trainSet.sampleShape, classCount: trainSet.classCount))
  let trainer = try Trainer(
    configuration: configuration, method: method, trainSet: trainSet, testSet: testSet)
  trainer.observer = { event in
    if case .epoch(let record) = event {
      let test = record.test.map { fixed(100 * $0.accuracy, 2) + "%" } ?? "-"
      print(
        "epoch \(record.epoch): train loss \(fixed(record.train.loss, 4)), "
          + "test accuracy \(test), \(fixed(record.trainSeconds, 1)) s training")
    }
  }
  print("rate_\(variant), conv, T = \(steps), \(trainSamples) training samples, \(epochs) epoch(s)")
  let summary = try trainer.run()
  print(
    "wall \(fixed(summary.timing.wallSeconds, 1)) s, peak resident memory "
      + "\(fixed(Double(summary.peakResidentBytes) / 1_048_576, 0)) MB")
} catch {
  print("error: \(error)")
  exit(1)
}
