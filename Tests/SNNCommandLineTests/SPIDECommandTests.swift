import SNN
import Testing

@testable import SNNCommandLine

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `snn train --method spide` on real MNIST (small subsets) with each of the three networks
/// of the issue: the LeNet-like net without feedback (the default), the convnet with its
/// transposed-convolution feedback, and the fully connected 784-400 net with 400→400 feedback.
@Suite(.serialized, .enabled(if: getenv("SNN_DATA") != nil)) struct SPIDECommandTests {
  func run(_ args: [String]) -> (code: Int32, out: String, err: String) {
    runCommand(args, withData: true)
  }

  @Test(arguments: [
    (nil, "15C5p2-AP2-40C5p2-AP2-300-10", false, 256),
    ("64C5s2p2-64C5s2p2-64C5p2-10+FB3to1:T3s2p1o1", nil, true, 64),
    ("784-400-10+FB1to1:L", nil, true, 256),
  ] as [(String?, String?, Bool, Int)])
  func trainsEachNetworkWithTheSummaryKeys(
    model: String?, expectedModel: String?, feedback: Bool, samples: Int
  ) throws {
    let dir = temporaryDirectory("spide")
    defer { rmdir(dir) }
    let path = dir + "/s.ckpt"
    var args = [
      "train", "--method", "spide", "--dataset", "mnist", "--T", "30", "--T-backward", "100",
      "--epochs", "1", "--train-samples", "\(samples)", "--test-samples", "\(samples / 2)",
      "--batch", "32", "--checkpoint", path, "--json", "--quiet",
    ]
    if let model { args += ["--model", model] }
    let r = run(args)
    #expect(r.code == 0, "\(r.err)")
    let summary = try JSONValue.parse(r.out)
    #expect(summary["method"]?.stringValue == "spide")
    if let m = summary["model"]?.stringValue {
      #expect(m.contains(expectedModel ?? model!.components("+").first!), "\(m)")
    }
    #expect(summary["T"]?.intValue == 30)
    let extra = try #require(summary["extra"])
    #expect(extra["T_backward"]?.intValue == 100)
    #expect(
      extra["weight_decay_groups_used"]?.arrayValue?.compactMap(\.stringValue) == ["weight", "bias"])
    for key in [
      "forward_rate", "backward_rate", "forward_synaptic_events_per_sample",
      "backward_synaptic_events_per_sample", "dense_macs_per_sample",
    ] {
      let value = try #require(extra[key]?.doubleValue, "missing \(key)")
      #expect(value > 0, "\(key) = \(value)")
    }
    let history = try #require(summary["history"]?.arrayValue)
    #expect((history[0]["extra"]?["feedback_norm_factor"] != nil) == feedback)
    // (SPIDE's first batches learn slowly: the backward resolution A/T_b hides most of the
    // early error signal, so no accuracy is asserted after a few batches; see
    // SPIDETrainerTests for learning.)
    let loss = try #require(summary["train_loss"]?.doubleValue)
    #expect(loss.isFinite && loss > 0)
    // The checkpoint evaluates to the recorded test accuracy.
    let e = run(["evaluate", "--checkpoint", path, "--json", "--quiet"])
    #expect(e.code == 0, "\(e.err)")
    let evaluation = try JSONValue.parse(e.out)
    #expect(evaluation["test_accuracy"]?.doubleValue == summary["test_accuracy"]?.doubleValue)
    // The bench times the checkpoint's network: its model and T_b, whatever --model says.
    let b = run([
      "bench", "spide", "--checkpoint", path, "--model", "784-10", "--T-backward", "7",
      "--batch", "16", "--batches", "1", "--warmup", "0", "--repeat", "1", "--json",
    ])
    #expect(b.code == 0, "\(b.err)")
    let bench = try JSONValue.parse(b.out)
    #expect(bench["model"]?.stringValue == summary["model"]?.stringValue)
    #expect(bench["checkpoint"]?.stringValue == path)
    #expect(bench["T"]?.intValue == 30 && bench["T_backward"]?.intValue == 100)
    #expect((bench["forward_synaptic_events_per_sample"]?.doubleValue ?? 0) > 0)
    unlink(path)
  }

  @Test func benchRejectsACheckpointOfAnotherMethod() throws {
    let dir = temporaryDirectory("spide-bench")
    defer { rmdir(dir) }
    let path = dir + "/b.ckpt"
    defer { unlink(path) }
    let t = run([
      "train", "--method", "bptt", "--dataset", "mnist", "--model", "784-10", "--T", "2",
      "--epochs", "1", "--train-samples", "64", "--test-samples", "32", "--batch", "32",
      "--checkpoint", path, "--quiet",
    ])
    #expect(t.code == 0, "\(t.err)")
    let b = run(["bench", "spide", "--checkpoint", path, "--repeat", "1"])
    #expect(b.code == 64)
    #expect(b.err.contains("method of \(path)") && b.err.contains("expected spide"), "\(b.err)")
  }
}

extension String {
  fileprivate func components(_ separator: Character) -> [String] {
    split(separator: separator).map(String.init)
  }
}
