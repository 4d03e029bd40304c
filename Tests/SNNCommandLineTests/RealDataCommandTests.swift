import SNN
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
    let out = StringSink()
    let err = StringSink()
    let context = CommandContext(
      standardOutput: out, standardError: err,
      environment: ["SNN_DATA": String(cString: getenv("SNN_DATA"))],
      standardErrorIsTerminal: false)
    let code = SNNTool.run(args, context: context)
    return (code, out.text, err.text)
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
    let history = summary["history"]!.arrayValue!
    #expect(history[0]["train_samples"]?.intValue == 1000)
    #expect(history[0]["test_samples"]?.intValue == 100)
    #expect(summary["test_accuracy"]!.doubleValue! > 0.5, "\(summary["test_accuracy"]!)")
  }
}
