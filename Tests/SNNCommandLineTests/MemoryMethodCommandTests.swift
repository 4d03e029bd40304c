import SNN
import Testing

@testable import SNNCommandLine

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `rate`, `ndot` and `ottt` through `snn train` / `snn evaluate`, and `snn bench memory`.
/// Part of the serialized ``TrainingCommandTests`` (shared registry and SIGINT handler).
extension TrainingCommandTests {
  func trainAndEvaluate(_ method: String, _ extra: [String]) throws -> JSONValue {
    let dir = temporaryDirectory(method)
    defer { rmdir(dir) }
    let path = dir + "/m.ckpt"
    defer { unlink(path) }
    let r = run(
      [
        "train", "--method", method, "--dataset", "blobs", "--model", "4-16-3", "--T", "3",
        "--epochs", "2", "--batch", "16", "--seed", "5", "--checkpoint", path, "--json",
        "--quiet",
      ] + extra)
    #expect(r.code == 0, "\(method): \(r.err)")
    let summary = try JSONValue.parse(r.out)
    #expect(summary["method"]?.stringValue == method)
    let e = run(["evaluate", "--checkpoint", path, "--json", "--quiet"])
    #expect(e.code == 0, "\(method): \(e.err)")
    let evaluation = try JSONValue.parse(e.out)
    // The checkpoint restores the trained model exactly.
    #expect(evaluation["test_accuracy"]?.doubleValue == summary["test_accuracy"]?.doubleValue)
    #expect(evaluation["test_loss"]?.doubleValue == summary["test_loss"]?.doubleValue)
    return summary
  }

  @Test func rateNDOTAndOTTTTrainAndEvaluateThroughTheCommandLine() throws {
    for variant in ["M", "S"] {
      let s = try trainAndEvaluate("rate", ["--variant", variant])
      #expect(s["method_options"]?["variant"]?.stringValue == variant)
      // Three separable blobs: any working method learns them.
      #expect((s["test_accuracy"]?.doubleValue ?? 0) >= 0.9, "rate \(variant)")
    }
    let online = try trainAndEvaluate(
      "ndot", ["--schedule", "online", "--trace", "reference", "--lr", "0.05"])
    #expect(online["method_options"]?["update-schedule"]?.stringValue == "online")
    #expect(online["method_options"]?["trace"]?.stringValue == "reference")
    // The learning-rate schedule keeps its default when --schedule names the update schedule.
    #expect(online["optimizer"]?["schedule"]?["type"]?.stringValue == "cosine")
    let accumulate = try trainAndEvaluate("ottt", ["--update-schedule", "accumulate"])
    #expect(accumulate["method_options"]?["update-schedule"]?.stringValue == "accumulate")
    #expect((accumulate["test_accuracy"]?.doubleValue ?? 0) >= 0.9)
  }

  @Test func scheduleOnlineIsRejectedWhereItMeansNothing() {
    let r = run([
      "train", "--method", "bptt", "--dataset", "blobs", "--model", "4-3", "--schedule", "online",
    ])
    #expect(r.code == ExitCode.usage)
    #expect(r.err.contains("--schedule") && r.err.contains("cosine"))
    let clash = run([
      "train", "--method", "ndot", "--dataset", "blobs", "--model", "4-8-3", "--schedule",
      "online", "--update-schedule", "accumulate",
    ])
    #expect(clash.code == ExitCode.usage)
    #expect(clash.err.contains("--update-schedule"))
  }

  @Test func memoryProbePrintsOneMeasurement() throws {
    let r = run([
      "bench", "memory-probe", "--method", "rate", "--model", "4-16-3", "--dataset", "blobs",
      "--T", "3", "--batch", "16", "--batches", "2", "--warmup", "1", "--variant", "M",
    ])
    #expect(r.code == 0, "\(r.err)")
    let json = try JSONValue.parse(r.out)
    #expect(json["T"]?.intValue == 3)
    let peak = try #require(json["peak_rss_mb"]?.doubleValue)
    let baseline = try #require(json["baseline_rss_mb"]?.doubleValue)
    let seconds = try #require(json["seconds_per_batch"]?.doubleValue)
    #expect(peak > 0 && peak >= baseline && seconds > 0)
    #expect(json["batch_seconds"]?.arrayValue?.count == 2)
    // The parent reads the same line back.
    let result = try #require(BenchMemoryProbeCommand.Result(json))
    #expect(result.timeSteps == 3 && result.peakResidentMB == peak)
    #expect(BenchMemoryProbeCommand.Result(result.json) == result)
    #expect(BenchMemoryProbeCommand.Result(["T": 2]) == nil)
  }

  @Test func memoryBenchChecksOptionsBeforeRunningAnything() {
    let wrongOwner = run(["bench", "memory", "--method", "bptt", "--variant", "M", "--T", "2"])
    #expect(wrongOwner.code == ExitCode.usage)
    #expect(wrongOwner.err.contains("'--variant' is an option of"))
    #expect(!wrongOwner.err.contains("T=2"))
    let badValue = run(["bench", "memory", "--method", "rate", "--variant", "Q"])
    #expect(badValue.code == ExitCode.usage)
    let unknown = run(["bench", "memory", "--method", "nope"])
    #expect(unknown.code == ExitCode.usage && unknown.err.contains("bptt"))
    // The probe runs but is not listed.
    let listing = run(["bench", "--help"])
    #expect(listing.out.contains("memory ") && !listing.out.contains("memory-probe"))
    let help = run(["bench", "memory", "--help"])
    #expect(help.out.contains("peak_rss_mb") && help.out.contains("seconds_per_batch"))
    #expect(BenchMemoryCommand.timePlotPath("a/b.svg") == "a/b-time.svg")
  }
}
