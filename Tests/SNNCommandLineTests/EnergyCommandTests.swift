import SNN
import Synchronization
import Testing

@testable import SNNCommandLine

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `snn energy` on a small checkpoint trained on real MNIST (when `SNN_DATA` is set).
@Suite(.serialized, .enabled(if: getenv("SNN_DATA") != nil)) struct EnergyCommandTests {
  func run(_ args: [String]) -> (code: Int32, out: String, err: String) {
    runCommand(args, withData: true)
  }

  /// Both backends report the same counts and accuracy; the JSON has the documented keys;
  /// the energy follows the printed formula; bad cost tables are refused by name.
  @Test func denseAndEventBackendsAgreeOnATrainedConvNet() throws {
    let dir = temporaryDirectory("energy")
    defer { rmdir(dir) }
    let path = dir + "/e.ckpt"
    let train = run([
      "train", "--method", "bptt", "--dataset", "mnist", "--model", "4C5-AP2-16-10", "--T", "3",
      "--epochs", "1", "--train-samples", "600", "--test-samples", "50", "--batch", "32",
      "--optimizer", "adamw", "--lr", "0.003", "--checkpoint", path, "--json", "--quiet",
    ])
    #expect(train.code == 0, "\(train.err)")
    defer { unlink(path) }
    let summary = try JSONValue.parse(train.out)
    #expect(summary["energy"]?["energy_pj_per_sample"]?.doubleValue ?? 0 > 0)

    var reports: [JSONValue] = []
    for backend in ["dense", "event"] {
      let r = run([
        "energy", "--checkpoint", path, "--dataset", "mnist", "--samples", "40", "--backend",
        backend, "--json", "--quiet",
      ])
      #expect(r.code == 0, "\(r.err)")
      reports.append(try JSONValue.parse(r.out))
    }
    let (dense, event) = (reports[0], reports[1])
    for key in [
      "synaptic_ops_per_sample", "macs_per_sample", "dense_macs_per_sample", "energy_pj_per_sample",
      "ann_energy_pj_per_sample", "spikes_per_sample", "test_accuracy",
    ] {
      #expect(dense[key] != nil, "missing \(key)")
      #expect(dense[key] == event[key], "\(key): dense \(String(describing: dense[key])) vs event")
    }
    #expect(dense["layers"]?.arrayValue?.count == 3)
    // Per layer the same, except neuron updates: neurons × T on the dense backend, the
    // evaluations actually performed (never more) on the event engine.
    let denseLayers = dense["layers"]!.arrayValue!, eventLayers = event["layers"]!.arrayValue!
    for (d, e) in zip(denseLayers, eventLayers) {
      for key in ["name", "synaptic_ops_per_sample", "macs_per_sample", "spikes_per_sample", "firing_rate"] {
        #expect(d[key] == e[key], "\(key)")
      }
      let name = d["name"]!.stringValue!
      let (du, eu) = (d["neuron_updates_per_sample"]!.doubleValue!, e["neuron_updates_per_sample"]!.doubleValue!)
      if name != "fc3" { #expect(eu > 0 && eu <= du, "\(name): \(eu) evaluations vs \(du) updates") }
    }
    // fp32: E = ACs × 0.9 + MACs × 4.6 (pJ).
    let acs = dense["synaptic_ops_per_sample"]!.doubleValue!
    let macs = dense["macs_per_sample"]!.doubleValue!
    let energy = dense["energy_pj_per_sample"]!.doubleValue!
    #expect(abs(energy - (acs * 0.9 + macs * 4.6)) <= 1e-9 * energy)
    #expect(acs > 0 && macs > 0)
    // The first layer is fed the analog image: MACs at each of the T = 3 steps.
    let first = dense["layers"]!.arrayValue![0]
    #expect(first["macs_per_sample"]?.doubleValue == 3 * first["dense_macs_per_sample"]!.doubleValue!)

    let table = dir + "/table.json"
    try FileIO.writeAtomically(Array(#"{"name": "t", "add_pj": 1, "mac_pj": -2}"#.utf8), to: table)
    defer { unlink(table) }
    let bad = run(["energy", "--checkpoint", path, "--cost-table", table, "--quiet"])
    #expect(bad.code != 0)
    #expect(bad.err.contains("mac_pj"), "\(bad.err)")
  }
}
