// spide-mnist: a short SPIDE run on MNIST on the event engine; prints, per epoch, the
// accuracy, the forward and backward firing rates and the synaptic events per sample.
//
//   swift run -c release spide-mnist [--data DIR] [--dataset mnist|fashion-mnist]
//       [--model SPEC] [--T 30] [--T-backward 100] [--train-samples 2000]
//       [--test-samples 1000] [--epochs 1] [--batch 128] [--lr 0.1] [--threads K]
//       [--dropout P] [--dropout-fc P] [--seed S]
//
// The data folder is --data, else SNN_DATA, else ~/.snn/data; without the dataset the
// example says so and exits cleanly (status 0).

import SNN

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

let options: [String: String] = {
  var parsed: [String: String] = [:]
  var arguments = Array(CommandLine.arguments.dropFirst())
  while let name = arguments.first, name.hasPrefix("--"), arguments.count >= 2 {
    parsed[String(name.dropFirst(2))] = arguments[1]
    arguments.removeFirst(2)
  }
  return parsed
}()
func option(_ name: String, _ fallback: String) -> String { options[name] ?? fallback }
func integer(_ name: String, _ fallback: Int) -> Int { Int(option(name, String(fallback))) ?? fallback }
func number(_ name: String, _ fallback: Double) -> Double {
  Double(option(name, String(fallback))) ?? fallback
}

let environment: [String: String] = {
  var values: [String: String] = [:]
  for name in ["SNN_DATA", "HOME"] {
    if let value = getenv(name) { values[name] = String(cString: value) }
  }
  return values
}()
let root = DataRoot.resolve(explicit: options["data"], environment: environment)
let variant: MNIST.Variant = option("dataset", "mnist") == "fashion-mnist" ? .fashionMNIST : .mnist

func load(_ split: DatasetSplit, limit: Int) -> InMemoryDataset? {
  do {
    let images = try MNIST.load(variant, split: split, root: root)
    let count = min(limit, images.count)
    let inputs = images.normalizedBatch(0..<count, variant.normalization)
    return try InMemoryDataset(
      name: variant.folder, sampleShape: SampleShape(feature: FeatureShape(channels: 1, height: 28, width: 28)),
      classCount: 10, inputs: inputs, labels: images.labels(0..<count).map { Int($0) })
  } catch {
    print("spide-mnist: \(variant.folder) not available (\(error)); nothing to do.")
    return nil
  }
}

guard let train = load(.train, limit: integer("train-samples", 2000)),
  let test = load(.test, limit: integer("test-samples", 1000))
else { exit(0) }

Parallel.setDefaultThreads(integer("threads", Parallel.defaultThreads))
let registry = TrainingMethodRegistry.shared
let descriptor = try registry.lookup("spide")
let epochs = integer("epochs", 1)
var model = try ModelSpec.parse(
  option("model", "15C5p2-AP2-40C5p2-AP2-300-10"),
  input: FeatureShape(channels: 1, height: 28, width: 28))
model.readout = .linear
let milestones = (options["milestones"] ?? "").split(separator: ",").compactMap { Int($0) }
let optimizer = OptimizerSettings(
  kind: .sgd, learningRate: number("lr", 0.1), momentum: 0.9, weightDecay: 5e-4,
  schedule: milestones.isEmpty ? .constant : .step(milestones: milestones, gamma: 0.1))
let given: [(name: String, value: JSONValue)] = [
  ("T-backward", JSONValue(integer("T-backward", 100))),
  ("dropout", JSONValue(number("dropout", 0))), ("dropout-fc", JSONValue(number("dropout-fc", 0.5))),
]
let configuration = RunConfiguration(
  method: "spide", model: model, dataset: variant.folder, timeSteps: integer("T", 30),
  epochs: epochs, batchSize: integer("batch", 128), seed: UInt64(integer("seed", 1)),
  optimizer: optimizer, methodOptions: try descriptor.resolveOptions(given))
try configuration.validate()
let analysis = try model.analyze()
let method = try descriptor.makeMethod(
  MethodSetup(
    configuration: configuration, analysis: analysis, sampleShape: train.sampleShape,
    classCount: 10))
let trainer = try Trainer(configuration: configuration, method: method, trainSet: train, testSet: test)
print(
  "SPIDE on \(variant.folder): \(model.notation), T \(configuration.timeSteps), "
    + "T_b \(integer("T-backward", 100)), \(train.sampleCount) train / \(test.sampleCount) test samples, "
    + "\(Parallel.defaultThreads) threads")
trainer.observer = { event in
  if case .epoch(let record) = event {
    let extra = Dictionary(uniqueKeysWithValues: record.extra.map { ($0.key, $0.value) })
    func value(_ key: String) -> Double { extra[key]?.doubleValue ?? .nan }
    print(
      "epoch \(record.epoch): train acc \(record.train.accuracy), test acc \(record.test?.accuracy ?? .nan), "
        + "\(Int(Double(record.train.sampleCount) / max(record.trainSeconds, 1e-9))) samples/s")
    print(
      "  forward rate \(value("forward_rate")), backward rate \(value("backward_rate"))"
        + " (spikes per neuron per step)")
    print(
      "  synaptic events per sample: forward \(Int(value("forward_synaptic_events_per_sample"))), "
        + "backward \(Int(value("backward_synaptic_events_per_sample"))); dense MACs over T + T_b: "
        + "\(Int(value("dense_macs_per_sample")))")
  }
}
let summary = try trainer.run()
print("test accuracy \(summary.finalTest?.accuracy ?? .nan), \(Int(summary.trainSamplesPerSecond)) training samples/s")
