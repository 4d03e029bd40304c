// swift-tools-version: 6.0
//
// swift-snn: a discrete-event spiking-neural-network simulator and trainer.
// No package dependencies: the standard library, Dispatch, and Foundation at the edges.

import PackageDescription

/// Flags for the numeric modules in release builds.
///
/// `-Ounchecked` drops overflow and bounds traps from hot loops. The explicit CPU target
/// matters more: without it, `SIMD.addingProduct` lowers to a library call on x86-64
/// (over 100x slower than an FMA instruction). `haswell` is the AVX2 + FMA baseline that
/// every x86-64 server of the last decade (Intel Haswell+, AMD Zen) runs.
let numericFlags: [SwiftSetting] = {
  #if arch(x86_64)
    return [.unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"], .when(configuration: .release))]
  #else
    return [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
  #endif
}()

let package = Package(
  name: "swift-snn",
  products: [
    .library(name: "SNN", targets: ["SNN"]),
    .executable(name: "snn", targets: ["snn"]),
  ],
  targets: [
    // Time types, IDs, seeded RNGs, math shim, SynOp counting, JSON values, errors.
    .target(name: "SNNBase", swiftSettings: numericFlags),
    // Priority-queue event engine: queues, synapse graphs, neuron models, networks.
    .target(name: "SNNEngine", dependencies: ["SNNBase"], swiftSettings: numericFlags),
    // Dense time-stepped backend: tensors, SGEMM, conv, layers with backward, optimizers.
    .target(name: "SNNTensor", dependencies: ["SNNBase"], swiftSettings: numericFlags),
    // Data readers: gzip/DEFLATE, IDX (MNIST, Fashion-MNIST), N-MNIST, ZIP, encoders.
    .target(name: "SNNDatasets", dependencies: ["SNNBase"], swiftSettings: numericFlags),
    // Model specs, compilation to either backend, the training methods, trainer, checkpoints.
    .target(
      name: "SNNTraining", dependencies: ["SNNBase", "SNNEngine", "SNNTensor", "SNNDatasets"],
      swiftSettings: numericFlags),
    // Umbrella module re-exporting the library.
    .target(name: "SNN", dependencies: ["SNNBase", "SNNEngine", "SNNTensor", "SNNDatasets", "SNNTraining"]),
    // Hand-written argument parsing and the subcommands of `snn` (a library, so it is testable).
    .target(name: "SNNCommandLine", dependencies: ["SNN"], swiftSettings: numericFlags),
    .executableTarget(name: "snn", dependencies: ["SNNCommandLine"]),

    // Runnable examples: `swift run -c release <name>`.
    .executableTarget(
      name: "spike-raster", dependencies: ["SNN"], path: "Examples/spike-raster",
      exclude: ["README.md"]),
    .executableTarget(
      name: "model-summary", dependencies: ["SNN"], path: "Examples/model-summary",
      exclude: ["README.md"]),
    .executableTarget(
      name: "dense-lif", dependencies: ["SNN"], path: "Examples/dense-lif", exclude: ["README.md"],
      swiftSettings: numericFlags),
    .executableTarget(
      name: "energy-count", dependencies: ["SNN"], path: "Examples/energy-count",
      exclude: ["README.md"]),
    .executableTarget(
      name: "rate-train", dependencies: ["SNN"], path: "Examples/rate-train",
      exclude: ["README.md"]),
    .executableTarget(
      name: "nmnist-inspect", dependencies: ["SNN"], path: "Examples/nmnist-inspect",
      exclude: ["README.md"]),
    .executableTarget(
      name: "mnist-train", dependencies: ["SNN"], path: "Examples/mnist-train",
      exclude: ["README.md"]),

    .executableTarget(
      name: "edbp-mnist", dependencies: ["SNN"], path: "Examples/edbp-mnist",
      exclude: ["README.md"]),
    .executableTarget(
      name: "spide-mnist", dependencies: ["SNN"], path: "Examples/spide-mnist",
      exclude: ["README.md"]),

    // libFuzzer harness for the data readers: a placeholder executable unless built with
    // -DSNN_FUZZ and -sanitize=fuzzer (Docs/Datasets.md, "Fuzzing").
    .executableTarget(
      name: "snn-fuzz", dependencies: ["SNNBase", "SNNDatasets"], path: "Fuzz/snn-fuzz"),

    .testTarget(name: "SNNBaseTests", dependencies: ["SNNBase"]),
    .testTarget(name: "SNNEngineTests", dependencies: ["SNNEngine"]),
    .testTarget(name: "SNNTensorTests", dependencies: ["SNNTensor"]),
    .testTarget(name: "SNNDatasetsTests", dependencies: ["SNNDatasets"]),
    .testTarget(name: "SNNTrainingTests", dependencies: ["SNNTraining"]),
    .testTarget(name: "SNNCommandLineTests", dependencies: ["SNNCommandLine"]),
  ]
)
