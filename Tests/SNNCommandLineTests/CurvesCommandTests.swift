import SNN
import Testing

@testable import SNNBase
@testable import SNNCommandLine
@testable import SNNDatasets

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `snn train --curves` and `snn curves`: learning curves from the trainer, a checkpoint
/// and a JSON summary.
@Suite struct CurvesCommandTests {
  init() { registerTrainingFixtures() }

  let common = [
    "train", "--method", "test-softmax", "--dataset", "blobs", "--model", "4-3", "--T", "1",
    "--epochs", "3", "--batch", "32", "--lr", "0.5", "--seed", "3", "--schedule", "step",
    "--milestones", "2", "--gamma", "0.1",
  ]

  @Test func trainDrawsCurvesAndCurvesReadsCheckpointAndSummaryAlike() throws {
    let dir = temporaryDirectory("curves")
    defer { Directory.removeTree(dir) }
    let r = runCommand(
      common + ["--checkpoint", dir + "/a.ckpt", "--curves", dir + "/c.svg", "--json"])
    #expect(r.code == 0, "\(r.err)")
    let summary = try JSONValue.parse(r.out)
    let history = try #require(summary["history"]?.arrayValue)
    #expect(history.count == 3)

    let errorSVG = String(decoding: try FileIO.read(dir + "/c.svg"), as: UTF8.self)
    let lossSVG = String(decoding: try FileIO.read(dir + "/c-loss.svg"), as: UTF8.self)
    #expect(errorSVG.hasPrefix("<svg") && errorSVG.contains("test error") && errorSVG.contains("train error (running)"))
    #expect(errorSVG.contains("test-softmax 4-3 on blobs, T 1"))
    #expect(lossSVG.contains("test loss") && lossSVG.contains("train loss (running)"))
    // One marker per epoch and series: 3 epochs × (train, test) = 6 circles in each chart.
    #expect(errorSVG.components(separatedBy: "<circle").count - 1 == 6)
    #expect(lossSVG.components(separatedBy: "<circle").count - 1 == 6)

    // The checkpoint and the summary give the same epochs, equal to the run's history.
    let fromCheckpoint = runCommand(["curves", dir + "/a.ckpt", "--json"])
    #expect(fromCheckpoint.code == 0, "\(fromCheckpoint.err)")
    try FileIO.writeAtomically(r.out, to: dir + "/run.json")
    let fromSummary = runCommand(["curves", dir + "/run.json", "--json"])
    #expect(fromSummary.code == 0, "\(fromSummary.err)")
    let a = try JSONValue.parse(fromCheckpoint.out)
    let b = try JSONValue.parse(fromSummary.out)
    #expect(a == b)
    let epochs = try #require(a["epochs"]?.arrayValue)
    for (e, h) in zip(epochs, history) {
      for key in ["epoch", "learning_rate", "train_loss", "train_accuracy", "test_loss", "test_accuracy"] {
        #expect(e[key] == h[key], "\(key)")
      }
    }
    // The step schedule: 0.5 for epochs 1–2, then ×0.1.
    #expect(epochs.map { $0["learning_rate"]?.doubleValue } == [0.5, 0.5, 0.5 * 0.1])

    // The table: a row per epoch, the best test epoch starred, the final and best line.
    let text = runCommand(["curves", dir + "/a.ckpt", "--svg", dir + "/again.svg"])
    #expect(text.code == 0, "\(text.err)")
    let lines = text.out.split(separator: "\n").map(String.init)
    #expect(lines.first == "test-softmax 4-3 on blobs, T 1")
    #expect(lines.filter { $0.hasSuffix(" *") }.count >= 1)
    let accuracies = history.compactMap { $0["test_accuracy"]?.doubleValue }
    let final = Format.fixed(100 * accuracies.last!, digits: 2)
    let best = Format.fixed(100 * accuracies.max()!, digits: 2)
    #expect(text.out.contains("final test accuracy \(final)% (epoch 3); best \(best)%"))
    #expect(lines.contains { $0.hasPrefix("    3  0.05 ") })
    #expect(try FileIO.read(dir + "/again.svg") == FileIO.read(dir + "/c.svg"))
  }

  @Test func badInputsGiveOneLineNamingTheFile() throws {
    let dir = temporaryDirectory("curves-bad")
    defer { Directory.removeTree(dir) }
    func expectFailure(_ args: [String], code: Int32, _ fragments: [String]) {
      let r = runCommand(args)
      #expect(r.code == code, "\(r.err)")
      // One line; usage errors add a second pointing at --help.
      let lines = r.err.split(separator: "\n")
      #expect(lines.count == (code == ExitCode.usage ? 2 : 1), "\(r.err)")
      for f in fragments { #expect(r.err.contains(f), "\(r.err)") }
      #expect(r.out.isEmpty)
    }
    expectFailure(["curves", dir + "/missing.json"], code: ExitCode.noInput, [dir + "/missing.json"])
    try FileIO.writeAtomically("{\"method\": \"bptt\"}", to: dir + "/nohistory.json")
    expectFailure(
      ["curves", dir + "/nohistory.json"], code: ExitCode.dataError,
      [dir + "/nohistory.json", "summary.history"])
    try FileIO.writeAtomically("{\"history\": [{\"epoch\": 1, \"learning_rate\": 0.1}]}", to: dir + "/short.json")
    expectFailure(
      ["curves", dir + "/short.json"], code: ExitCode.dataError, ["summary.history[0].train_loss"])
    try FileIO.writeAtomically("{\"history\": [", to: dir + "/broken.json")
    expectFailure(["curves", dir + "/broken.json"], code: ExitCode.dataError, [dir + "/broken.json", "line 1"])
    expectFailure(["curves"], code: ExitCode.usage, ["FILE"])
    // A --curves path that cannot be written stops `snn train` before it trains.
    expectFailure(
      common + ["--curves", dir + "/no/such/dir/c.svg"], code: ExitCode.cannotCreate,
      [dir + "/no/such/dir/c.svg"])
  }

  @Test func learningRatesPrintWithThreeSignificantDigits() {
    #expect(CurvesCommand.significant(0.1) == "0.1")
    #expect(CurvesCommand.significant(0.1 * 0.1) == "0.01")
    #expect(CurvesCommand.significant(0.1 * 0.1 * 0.1) == "0.001")
    #expect(CurvesCommand.significant(0.097_55) == "0.0976")
    #expect(CurvesCommand.significant(2.5e-5) == "0.000025")
    #expect(CurvesCommand.significant(0) == "0.0")
  }

  @Test func logAxesGetTicksAtOneTwoAndFiveOverFewDecades() {
    #expect(Axis(min: 0.7, max: 25, log: true).ticks() == [1, 2, 5, 10, 20])
    #expect(Axis(min: 0.01, max: 50, log: true).ticks() == [0.01, 0.1, 1, 10])
    // An empty chart is not drawn on a log axis.
    let empty = TrainingCurves(points: [], title: "x").errorChart()
    #expect(empty.hasPrefix("<svg") && !empty.contains("log scale"))
  }
}
