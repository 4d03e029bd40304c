// edbp-mnist: train the LeNet-style SNN of Zhu et al. (2022) with event-driven backprop for a
// few hundred steps on MNIST and print what the event streams cost against dense MACs.
//
//   swift run -c release edbp-mnist [DATA_DIR] [STEPS]
//
// DATA_DIR defaults to SNN_DATA (else ~/.snn/data) and must hold mnist/. Without the data
// the example says so and exits cleanly (status 0).

import SNN

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
var environment: [String: String] = [:]
for name in ["SNN_DATA", "HOME"] {
  if let value = getenv(name) { environment[name] = String(cString: value) }
}
let root = DataRoot.resolve(explicit: arguments.first, environment: environment)
let steps = arguments.count > 1 ? max(1, Int(arguments[1]) ?? 200) : 200
let batchSize = 50

let trainImages: ImageDataset, testImages: ImageDataset
do {
  trainImages = try MNIST.load(.mnist, split: .train, root: root)
  testImages = try MNIST.load(.mnist, split: .test, root: root)
} catch {
  print("edbp-mnist: MNIST not found under \(root), skipping (\(error))")
  exit(0)
}

/// The first `count` images, normalised, as an in-memory dataset.
func dataset(_ images: ImageDataset, count: Int, name: String) throws -> InMemoryDataset {
  let table = PixelNormalization.mnist.table
  let n = min(count, images.count)
  let inputs = images.pixels[..<(n * images.pixelsPerImage)].map { table[Int($0)] }
  return try InMemoryDataset(
    name: name, sampleShape: SampleShape(feature: FeatureShape(channels: 1, height: 28, width: 28)),
    classCount: 10, inputs: inputs, labels: images.labels[..<n].map(Int.init))
}

let train = try dataset(trainImages, count: steps * batchSize, name: "mnist/train")
let test = try dataset(testImages, count: 1000, name: "mnist/test")
var model = try ModelSpec.parse("15C5-AP2-40C5-AP2-300-10", input: train.sampleShape.feature)
model.readout = .spiking
let configuration = RunConfiguration(
  method: "edbp", model: model, dataset: "mnist", timeSteps: 5, epochs: 1, batchSize: batchSize,
  seed: 3, optimizer: OptimizerSettings(kind: .adamw, learningRate: 5e-4, weightDecay: 5e-4),
  methodOptions: try EDBPMethod.descriptor.resolveOptions([]))
let method = try EDBPMethod(
  setup: MethodSetup(
    configuration: configuration, analysis: try model.analyze(), sampleShape: train.sampleShape,
    classCount: 10))
let trainer = try Trainer(
  configuration: configuration, method: method, trainSet: train, testSet: test)
trainer.observer = { event in
  if case .batch(let b) = event, b.batch % 50 == 0 {
    print(
      "step \(b.batch)/\(b.batchesPerEpoch): loss \(b.loss), accuracy \(b.accuracy), "
        + "\(Int(b.samplesPerSecond)) samples/s")
  }
}
let summary = try trainer.run()
print("test accuracy on 1,000 MNIST test images: \(summary.finalTest!.accuracy)")
let extra = Dictionary(uniqueKeysWithValues: summary.extra.map { ($0.key, $0.value) })
let forward = extra["forward_synaptic_events_per_sample"]?.doubleValue ?? 0
let backward = extra["backward_events_per_sample"]?.doubleValue ?? 0
let dense = Double(summary.analysis.macsPerStep * configuration.timeSteps)
print("per training sample:")
print("  forward synaptic events  \(Int(forward))  (\(forward / dense) of the dense MACs)")
print("  backward events          \(Int(backward))  (\(backward / dense) of the dense MACs)")
print("  dense MACs (T = 5)       \(Int(dense))")
