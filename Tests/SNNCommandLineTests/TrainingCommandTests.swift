import SNN
import Testing

@testable import SNNCommandLine

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `snn train` and `snn evaluate` end to end, with a test method and dataset registered.
/// Serialized: the tests share the registry, the dataset catalog and the SIGINT handler.
@Suite(.serialized) struct TrainingCommandTests {
  init() { registerTrainingFixtures() }

  func run(_ args: [String]) -> (code: Int32, out: String, err: String) {
    runCommand(args)
  }

  let common = [
    "--method", "test-softmax", "--dataset", "blobs", "--model", "4-3", "--T", "1", "--epochs", "3",
    "--batch", "32", "--lr", "0.5", "--seed", "3",
  ]

  @Test func unknownMethodFailsWithTheAvailableOnes() {
    let r = run(["train", "--method", "nope", "--dataset", "mnist"])
    #expect(r.code == ExitCode.usage)
    #expect(r.err.contains("'nope'") && r.err.contains("test-softmax") && r.err.contains("bptt"))
    #expect(r.out.isEmpty)
  }

  @Test func helpListsMethodOptionsWithTheirOwners() {
    let r = run(["train", "--help"])
    #expect(r.code == 0)
    #expect(
      r.out.contains("--dropout ") && r.out.contains("[test-softmax] Input dropout probability."))
    // `rate` has a --variant too, with its own help: each method's version is listed.
    #expect(r.out.contains("--variant X") && r.out.contains("[test-other]"))
    #expect(r.out.contains("[rate] rate_M runs one layer at a time"))
    #expect(r.out.contains("blobs"))
  }

  @Test func trainsWritesACheckpointAndEvaluatesIt() throws {
    let dir = temporaryDirectory("train")
    defer { rmdir(dir) }
    let path = dir + "/a.ckpt"
    let r = run(["train"] + common + ["--checkpoint", path, "--json"])
    #expect(r.code == 0, "\(r.err)")
    let summary = try JSONValue.parse(r.out)
    for key in [
      "test_accuracy", "train_accuracy", "epochs", "wall_seconds", "train_samples_per_second",
      "mean_firing_rate", "extra",
    ] {
      #expect(summary[key] != nil, "missing \(key)")
    }
    #expect(summary["test_accuracy"]!.doubleValue! >= 0.9)
    #expect(summary["extra"]?["test_steps"]?.intValue == 24)
    #expect(summary["checkpoint"]?.stringValue == path)
    #expect(summary["method_options"]?["dropout"]?.doubleValue == 0.05)
    // Progress on standard error: one line per epoch (not a terminal).
    #expect(r.err.contains("epoch 3/3  train loss"))

    let e = run(["evaluate", "--checkpoint", path, "--json", "--quiet"])
    #expect(e.code == 0, "\(e.err)")
    let evaluation = try JSONValue.parse(e.out)
    #expect(evaluation["test_accuracy"]?.doubleValue == summary["test_accuracy"]?.doubleValue)
    #expect(evaluation["test_loss"]?.doubleValue == summary["test_loss"]?.doubleValue)
    #expect(evaluation["mean_firing_rate"]?.doubleValue == summary["mean_firing_rate"]?.doubleValue)
    #expect(
      evaluation["test_samples"]?.intValue == 60 && evaluation["epochs_completed"]?.intValue == 3)

    let text = run(["evaluate", "--checkpoint", path, "--quiet"])
    #expect(text.code == 0 && text.out.contains("test blobs (60 samples): accuracy"))
    unlink(path)
  }

  @Test func ctrlCWritesACheckpointAndResumeMatchesAnUninterruptedRun() throws {
    let dir = temporaryDirectory("resume")
    defer { rmdir(dir) }
    let full = dir + "/full.ckpt"
    let part = dir + "/part.ckpt"
    interruptAtStep.store(-1, ordering: .relaxed)
    #expect(run(["train"] + common + ["--checkpoint", full, "--quiet"]).code == 0)

    interruptAtStep.store(11, ordering: .relaxed)  // epoch 2, after its 4th batch
    let stopped = run(["train"] + common + ["--checkpoint", part, "--quiet"])
    interruptAtStep.store(-1, ordering: .relaxed)
    #expect(stopped.code == ExitCode.interrupted)
    #expect(stopped.err.contains("interrupted in epoch 2, batch 4; checkpoint written to \(part)"))
    #expect(stopped.out.contains("epochs 1/3 (stopped early)"))
    let saved = try TrainingCheckpoint.read(part)
    #expect(saved.epochsCompleted == 1 && saved.batchesCompleted == 4)

    let resumed = run(["train", "--resume", part, "--quiet"])
    #expect(resumed.code == 0, "\(resumed.err)")
    let a = try TrainingCheckpoint.read(full)
    let b = try TrainingCheckpoint.read(part)
    #expect(b.epochsCompleted == 3)
    #expect(a.methodState.isBitIdentical(to: b.methodState))
    #expect(a.history.count == b.history.count)
    for (x, y) in zip(a.history, b.history) { #expect(x.isBitIdentical(to: y), "epoch \(x.epoch)") }
    unlink(full)
    unlink(part)
  }

  @Test func resumeRefusesAChangedConfiguration() throws {
    let dir = temporaryDirectory("conflict")
    defer { rmdir(dir) }
    let path = dir + "/a.ckpt"
    #expect(
      run(["train"] + common + ["--epochs", "1", "--checkpoint", path, "--quiet"]).code
        == ExitCode.usage)  // repeated
    #expect(
      run(
        ["train"] + Array(common.dropLast(8)) + [
          "--epochs", "1", "--batch", "32", "--lr", "0.5", "--checkpoint", path, "--quiet",
        ]
      ).code == 0)
    var r = run(["train", "--resume", path, "--lr", "0.3"])
    #expect(r.code == ExitCode.usage)
    #expect(r.err.contains("invalid value for '--lr': '0.3' (expected 0.5, the value in \(path)"))
    r = run(["train", "--resume", path, "--dropout", "0.2"])
    #expect(r.err.contains("'--dropout'") && r.err.contains("0.05"))
    r = run(["train", "--resume", path, "--method", "test-other"])
    #expect(r.err.contains("'--method'"))
    // Agreeing options are accepted; the finished run just reports.
    r = run(["train", "--resume", path, "--lr", "0.5", "--model", "4-3", "--quiet"])
    #expect(r.code == 0, "\(r.err)")
    #expect(r.out.contains("epochs 1/1"))
    unlink(path)
  }

  @Test func optionErrorsNameTheOption() {
    func error(_ extra: [String], base: [String]? = nil) -> String {
      let r = run(
        ["train"] + (base ?? ["--method", "test-softmax", "--dataset", "blobs", "--model", "4-3"])
          + extra)
      #expect(r.code != 0)
      return r.err
    }
    #expect(error(["--schedule", "step"]).contains("'--milestones'"))
    #expect(error(["--milestones", "2"]).contains("'--milestones'"))
    #expect(error(["--optimizer", "adam", "--momentum", "0.5"]).contains("'--momentum'"))
    #expect(error(["--optimizer", "rmsprop"]).contains("'--optimizer': 'rmsprop'"))
    #expect(error(["--dropout", "2"]).contains("'--dropout'"))
    #expect(
      error(["--variant", "M"]).contains(
        "'--variant' is an option of rate, test-other, not of test-softmax"))
    #expect(error(["--T", "0"]).contains("'--T'"))
    #expect(error(["--lr", "-1"]).contains("'--lr'"))
    #expect(
      error(["--epochs", "5", "--schedule", "step", "--milestones", "3,2"]).contains("milestones"))
    let model = error(
      [], base: ["--method", "test-softmax", "--dataset", "blobs", "--model", "5-3"])
    #expect(model.contains("'--model'") && model.contains("first number is the input size"))
    let classes = error(
      [], base: ["--method", "test-softmax", "--dataset", "blobs", "--model", "4-10"])
    #expect(classes.contains("--model") && classes.contains("3 outputs"))
    let mnist = run([
      "train", "--method", "test-softmax", "--dataset", "mnist", "--model", "mlp", "--quiet",
      "--data", "/nonexistent-snn-data",
    ])
    #expect(mnist.code == ExitCode.noInput, "\(mnist.err)")
    #expect(
      mnist.err.contains("'mnist' not found")
        && mnist.err.contains("/nonexistent-snn-data/mnist/train-images-idx3-ubyte.gz"))
    #expect(error([], base: ["--method", "test-softmax"]).contains("'--dataset'"))
    let missing = run(["evaluate", "--checkpoint", "/nonexistent/x.ckpt"])
    #expect(missing.code == ExitCode.noInput)
  }
}
