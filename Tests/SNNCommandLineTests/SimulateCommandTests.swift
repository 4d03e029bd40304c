import Testing

@testable import SNNBase
@testable import SNNCommandLine
@testable import SNNDatasets

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Each test gets its own instance, and with it a scratch folder that `deinit` deletes.
@Suite final class SimulateCommandTests {
  let scratch = "/tmp/snn-cli-test-\(UInt64.random(in: 0...UInt64.max))"

  deinit { Directory.removeTree(scratch) }

  func run(_ args: [String]) -> (code: Int32, out: String, err: String) {
    let out = StringSink()
    let err = StringSink()
    let context = CommandContext(standardOutput: out, standardError: err, environment: [:], standardErrorIsTerminal: false)
    let code = SNNTool.run(args, context: context)
    return (code, out.text, err.text)
  }

  /// A fresh path inside this test's scratch folder (the folder is made on first use).
  func temporaryPath(_ name: String) -> String {
    mkdir(scratch, 0o755)
    return scratch + "/\(name)-\(UInt64.random(in: 0...UInt64.max))"
  }

  @Test func jsonHasExactlyTheDocumentedKeys() throws {
    let r = run(["simulate", "--network", "cuba", "--neurons", "1000", "--duration", "200ms", "--json"])
    #expect(r.code == 0, "\(r.err)")
    let json = try JSONValue.parse(r.out)
    let keys = json.objectMembers?.map(\.key)
    #expect(
      keys == [
        "neurons", "synapses", "spikes", "synaptic_events", "mean_rate_hz", "cv_isi", "build_seconds",
        "simulate_seconds", "events_per_second",
      ])
    #expect(json["neurons"]?.intValue == 1000)
    #expect((json["spikes"]?.intValue ?? 0) > 100)
    // Same seed, same spikes; another seed, others.
    let again = try JSONValue.parse(run(["simulate", "--network", "cuba", "--neurons", "1000", "--duration", "200ms", "--json"]).out)
    #expect(again["spikes"] == json["spikes"] && again["synaptic_events"] == json["synaptic_events"])
    let other = try JSONValue.parse(run(["simulate", "--network", "cuba", "--neurons", "1000", "--duration", "200ms", "--seed", "9", "--json"]).out)
    #expect(other["synapses"] != json["synapses"])
    // An explicit cost table adds the energy: one add per delivered synaptic event.
    let priced = try JSONValue.parse(
      run(["simulate", "--network", "cuba", "--neurons", "1000", "--duration", "200ms", "--cost-table", "int8", "--json"]).out)
    let events = try #require(priced["synaptic_events"]?.doubleValue)
    #expect(events == json["synaptic_events"]?.doubleValue)
    #expect(priced["energy"]?["energy_pj"]?.doubleValue == events * 0.03)
  }

  @Test func textReportAndRaster() throws {
    let svg = temporaryPath("raster") + ".svg"
    let r = run(["simulate", "--network", "cuba", "--neurons", "500", "--duration", "100ms", "--raster", svg])
    #expect(r.code == 0)
    for label in ["neurons", "synapses", "spikes", "synaptic events", "mean rate", "ISI CV", "build", "simulate", "events/s", "energy"] {
      #expect(r.out.contains(label))
    }
    let text = String(decoding: try FileIO.read(svg), as: UTF8.self)
    #expect(text.hasPrefix("<svg") && text.contains("excitatory"))
  }

  @Test func networkFileRunsAndBadFilesGiveOneClearLine() throws {
    let good = temporaryPath("net") + ".json"
    try FileIO.writeAtomically(
      """
      {"populations": [
         {"name": "in", "size": 5, "model": "spike_trains", "spikeTimes": [[1], [2], [3], [4], [5]]},
         {"name": "n", "size": 3, "model": "lif",
          "parameters": {"tauMem": 10, "vRest": 0, "vReset": 0, "vThreshold": 1, "tauRefractory": 0,
                         "channels": [{"kind": "delta"}]}}],
       "projections": [{"source": "in", "target": "n", "rule": {"kind": "all_to_all"}, "weight": 0.4}]}
      """, to: good)
    let ok = run(["simulate", "--network", good, "--duration", "20ms", "--json"])
    #expect(ok.code == 0, "\(ok.err)")
    #expect(try JSONValue.parse(ok.out)["synaptic_events"]?.intValue == 15)

    func expectError(_ text: String, _ fragment: String, code: Int32 = ExitCode.dataError) throws {
      let path = temporaryPath("bad") + ".json"
      try FileIO.writeAtomically(text, to: path)
      let r = run(["simulate", "--network", path])
      #expect(r.code == code, "\(r.err)")
      let lines = r.err.split(separator: "\n")
      #expect(lines.count == 1, "\(r.err)")
      #expect(r.err.contains(path) && r.err.contains(fragment), "\(r.err)")
      #expect(r.out.isEmpty)
    }
    try expectError("{\"populations\": [", "line 1")
    try expectError(#"{"populations": [{"name": "a", "size": 3, "model": "lif", "parameters": {"tauMem": -20}}]}"#, "populations[0].parameters.tauMem")
    try expectError(#"{"populations": [{"name": "a", "size": 3, "model": "hodgkin"}]}"#, "hodgkin")
    try expectError(#"{"populations": [{"name": "a", "size": 3, "model": "lif", "parameters": {"tauMen": 20}}]}"#, "tauMen")
    try expectError(
      #"{"populations": [{"name": "a", "size": 3, "model": "lif"}], "projections": [{"source": "a", "target": "a", "rule": {"kind": "all_to_all"}, "weight": 1, "delay": -1}]}"#,
      "projections[0].delay")
    try expectError(#"{"populations": [{"name": "a", "size": 0, "model": "lif"}]}"#, "populations[0].size")
    let missing = run(["simulate", "--network", "/nonexistent/net.json"])
    #expect(missing.code == ExitCode.noInput && missing.err.contains("/nonexistent/net.json"))
  }

  @Test func negativeDurationIsRejected() {
    let r = run(["simulate", "--duration", "-1s"])
    #expect(r.code == ExitCode.usage)
    #expect(r.err.contains("--duration"))
  }
}
