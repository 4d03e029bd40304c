import SNNBase
import Testing

@testable import SNNCommandLine

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

@Suite struct BenchKernelCommandTests {
  /// Runs `snn` with `arguments`; returns the exit code, standard output and standard error.
  static func run(_ arguments: [String]) -> (code: Int32, output: String, error: String) {
    let output = StringSink(), error = StringSink()
    let context = CommandContext(
      standardOutput: output, standardError: error, environment: [:],
      standardErrorIsTerminal: false)
    let code = SNNTool.run(arguments, context: context)
    return (code, output.text, error.text)
  }

  @Test func gemmPrintsTheDocumentedJSONKeys() throws {
    let result = Self.run([
      "bench", "gemm", "--m", "13", "--n", "17", "--k", "9", "--threads", "1", "--repeat", "3",
      "--warmup", "0", "--trans-b", "--json",
    ])
    #expect(result.code == 0, "\(result.error)")
    let json = try JSONValue.parse(result.output)
    #expect(json["m"]?.intValue == 13)
    #expect(json["n"]?.intValue == 17)
    #expect(json["k"]?.intValue == 9)
    #expect(json["threads"]?.intValue == 1)
    #expect(json["trans_b"]?.boolValue == true)
    #expect(json["samples"]?.intValue == 3)
    let seconds = try #require(json["seconds_median"]?.doubleValue)
    let gflops = try #require(json["gflops"]?.doubleValue)
    #expect(seconds > 0)
    // GFLOP/s is 2·m·n·k over the median time.
    #expect(abs(gflops - 2.0 * 13 * 17 * 9 / seconds / 1e9) <= 1e-9 * gflops)
  }

  @Test func spikeModeComparesBothKernelsAndAgrees() throws {
    let result = Self.run([
      "bench", "gemm", "--spikes", "0.2", "--m", "20", "--n", "70", "--k", "30", "--threads",
      "2", "--repeat", "2", "--warmup", "0", "--json",
    ])
    #expect(result.code == 0, "\(result.error)")
    let json = try JSONValue.parse(result.output)
    let row = try #require(json["rows"]?.arrayValue?.first)
    #expect(row["multiply"]?["speedup"]?.doubleValue != nil)
    #expect(row["accumulate_transposed"]?["sgemm_seconds_median"]?.doubleValue != nil)
    // The spike kernels and SGEMM computed the same products.
    let difference = try #require(row["max_difference"]?.doubleValue)
    #expect(difference < 1e-4)
  }

  @Test func convBenchRunsAndRejectsBadGeometry() throws {
    let result = Self.run([
      "bench", "conv", "--channels", "2", "--size", "9x7", "--out", "3", "--kernel", "3",
      "--batch", "2", "--repeat", "2", "--warmup", "0", "--json",
    ])
    #expect(result.code == 0, "\(result.error)")
    let json = try JSONValue.parse(result.output)
    #expect(json["forward"]?["gflops"]?.doubleValue != nil)
    #expect(json["backward_weights"]?["seconds_median"]?.doubleValue != nil)
    let bad = Self.run(["bench", "conv", "--size", "3x3", "--kernel", "5"])
    #expect(bad.code == ExitCode.usage)
    #expect(bad.error.contains("--kernel"))
    let badSize = Self.run(["bench", "conv", "--size", "12by12"])
    #expect(badSize.code == ExitCode.usage)
    #expect(badSize.error.contains("--size"))
  }

  @Test func benchGroupListsItsCommandsAndHelpIsComplete() {
    let group = Self.run(["bench", "--help"])
    #expect(group.code == 0)
    #expect(group.output.contains("gemm") && group.output.contains("conv"))
    let help = Self.run(["bench", "gemm", "--help"])
    #expect(help.code == 0)
    for option in ["--m", "--n", "--k", "--threads", "--repeat", "--json", "--spikes", "--sweep"] {
      #expect(help.output.contains(option), "help lacks \(option)")
    }
    let unknown = Self.run(["bench", "gemm", "--thread", "2"])
    #expect(unknown.code == ExitCode.usage)
    #expect(unknown.error.contains("--threads"))
  }

  /// `snn bench edbp` takes `--repeat` like the other bench commands and still accepts its
  /// first spelling, `--repeats`; both at once is a usage error.
  @Test(.enabled(if: getenv("SNN_DATA") != nil)) func edbpBenchTakesRepeatOrRepeats() throws {
    let data = String(cString: getenv("SNN_DATA"))
    let base = [
      "bench", "edbp", "--samples", "8", "--batch", "4", "--model", "784-16-10", "--threads-list", "1",
      "--data", data, "--json",
    ]
    for (option, count) in [("--repeat", 2), ("--repeats", 1)] {
      let result = Self.run(base + [option, "\(count)"])
      #expect(result.code == 0, "\(result.error)")
      let json = try JSONValue.parse(result.output)
      let runs = try #require(json["samples_per_second"]?.arrayValue?.first?["runs"]?.arrayValue)
      #expect(runs.count == count, "\(option) \(count)")
    }
    let both = Self.run(base + ["--repeat", "2", "--repeats", "2"])
    #expect(both.code == ExitCode.usage)
    #expect(both.error.contains("either --repeat or --repeats"))
  }
}
