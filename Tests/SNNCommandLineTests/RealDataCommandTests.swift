import SNN
import Synchronization
import Testing

@testable import SNNCommandLine

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `snn train` / `snn evaluate` with the built-in methods on the real datasets, when
/// `SNN_DATA` names the data folder.
@Suite(.serialized, .enabled(if: getenv("SNN_DATA") != nil)) struct RealDataCommandTests {
  func run(_ args: [String]) -> (code: Int32, out: String, err: String) {
    runCommand(args, withData: true)
  }

  /// MNIST through the catalog with `bptt`; `snn evaluate` reproduces the recorded test
  /// accuracy and loss exactly.
  @Test func bpttOnMNISTAndEvaluateReproducesTheSummary() throws {
    let dir = temporaryDirectory("mnist")
    defer { rmdir(dir) }
    let path = dir + "/m.ckpt"
    let r = run([
      "train", "--method", "bptt", "--dataset", "mnist", "--model", "784-100-10", "--T", "2",
      "--epochs", "1", "--train-samples", "1000", "--test-samples", "300", "--batch", "32",
      "--optimizer", "adamw", "--lr", "0.002", "--checkpoint", path, "--json",
    ])
    #expect(r.code == 0, "\(r.err)")
    let summary = try JSONValue.parse(r.out)
    #expect(summary["dataset"]?.stringValue == "mnist")
    #expect(summary["test_accuracy"]!.doubleValue! > 0.7)
    #expect(summary["mean_firing_rate"]!.doubleValue! > 0)
    let e = run(["evaluate", "--checkpoint", path, "--json", "--quiet"])
    #expect(e.code == 0, "\(e.err)")
    let evaluation = try JSONValue.parse(e.out)
    #expect(evaluation["test_accuracy"]?.doubleValue == summary["test_accuracy"]?.doubleValue)
    #expect(evaluation["test_loss"]?.doubleValue == summary["test_loss"]?.doubleValue)
    #expect(evaluation["test_samples"]?.intValue == 300)
    unlink(path)
  }

  /// `edbp` on MNIST: the summary reports the forward and backward events per sample, and
  /// `--resume` accepts the checkpoint (its per-dataset options are stored as null).
  @Test func edbpOnMNISTReportsEventsAndResumes() throws {
    let dir = temporaryDirectory("edbp")
    defer { rmdir(dir) }
    let path = dir + "/e.ckpt"
    let r = run([
      "train", "--method", "edbp", "--dataset", "mnist", "--model", "6C5-AP2-32-10",
      "--epochs", "1", "--train-samples", "500", "--test-samples", "100", "--batch", "25",
      "--lr", "0.005", "--checkpoint", path, "--json", "--quiet",
    ])
    #expect(r.code == 0, "\(r.err)")
    let summary = try JSONValue.parse(r.out)
    let extra = summary["extra"]!
    let forward = extra["forward_synaptic_events_per_sample"]?.doubleValue ?? 0
    let backward = extra["backward_events_per_sample"]?.doubleValue ?? 0
    let dense = extra["dense_macs_per_sample"]?.doubleValue ?? 0
    #expect(forward > 0 && backward > 0 && forward < dense, "\(extra)")
    #expect(summary["test_accuracy"]!.doubleValue! > 0.3)
    let resumed = run(["train", "--resume", path, "--json", "--quiet"])
    #expect(resumed.code == 0, "\(resumed.err)")
    let again = try JSONValue.parse(resumed.out)
    #expect(again["test_accuracy"]?.doubleValue == summary["test_accuracy"]?.doubleValue)
    unlink(path)
  }

  /// N-MNIST (the 1,000 + 100 sample subset under nmnist-small/) binned into T = 8 frames
  /// of 2×34×34 and trained with `bptt` for one epoch.
  @Test func bpttOnNMNISTFrames() throws {
    let r = run([
      "train", "--method", "bptt", "--dataset", "nmnist", "--model", "2312-64-10", "--T", "8",
      "--epochs", "2", "--batch", "32", "--optimizer", "adamw", "--lr", "0.002", "--json",
      "--quiet",
    ])
    #expect(r.code == 0, "\(r.err)")
    let summary = try JSONValue.parse(r.out)
    let first = try #require(summary["history"]?.arrayValue?.first)
    #expect(first["train_samples"]?.intValue == 1000)
    #expect(first["test_samples"]?.intValue == 100)
    #expect(summary["test_accuracy"]!.doubleValue! > 0.5, "\(summary["test_accuracy"]!)")
  }
}
