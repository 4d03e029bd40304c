import SNN

/// `snn curves`: the learning curves of a finished or running training run, as a table and
/// as SVG charts.
struct CurvesCommand: Command {
  static let help = CommandHelp(
    name: "curves",
    abstract: "Print and plot a run's error and loss per epoch (from a checkpoint or a --json summary).",
    usage: ["curves FILE [--svg OUT.svg] [--json]"],
    discussion: """
      FILE is a training checkpoint (written after every epoch, so this also works while the \
      run goes on) or the JSON summary of 'snn train --json'. Prints one line per epoch: \
      learning rate, training loss and running accuracy, test loss and accuracy, and marks \
      the best test epoch. With --svg it draws the error per epoch (log scale) in OUT.svg \
      and the loss in OUT-loss.svg. 'snn train --curves OUT.svg' draws the same during \
      training.
      """,
    options: [
      OptionHelp("--svg", value: "OUT.svg", help: "Write the error chart here and the loss chart to OUT-loss.svg."),
      .flag("--json", help: "Print the epochs as JSON instead of a table."),
    ],
    examples: [
      "snn curves mnist.ckpt", "snn curves run.json --svg run-curves.svg",
    ])

  let path: String
  let svgPath: String?
  let json: Bool

  init(parsing p: inout ArgumentParser) throws {
    svgPath = try p.string("--svg", expected: "an SVG file to write")
    json = try p.flag("--json")
    path = try p.requiredPositional("FILE")
  }

  /// Reads the curves of a checkpoint or of a run summary.
  static func read(_ path: String) throws -> TrainingCurves {
    let bytes = try FileIO.read(path)
    if bytes.starts(with: CheckpointFile.magic) {
      let (header, blobs) = try CheckpointFile.decode(bytes, path: path)
      let checkpoint = try TrainingCheckpoint(header: header, blobs: blobs, path: path)
      return TrainingCurves(
        history: checkpoint.history, title: TrainingCurves.title(for: checkpoint.configuration))
    }
    do {
      return try TrainingCurves(summary: try JSONValue.parse(bytes), field: "summary")
    } catch {
      throw InputFileError(path: path, underlying: error)
    }
  }

  func run(in context: CommandContext) throws {
    let curves = try CurvesCommand.read(path)
    if let svgPath { try curves.write(to: svgPath) }
    if json {
      context.printJSON(
        [
          "title": JSONValue(curves.title),
          "epochs": .array(
            curves.points.map { p in
              [
                "epoch": JSONValue(p.epoch), "learning_rate": JSONValue(p.learningRate),
                "train_loss": JSONValue(p.trainLoss), "train_accuracy": JSONValue(p.trainAccuracy),
                "test_loss": p.testLoss.map { JSONValue($0) } ?? .null,
                "test_accuracy": p.testAccuracy.map { JSONValue($0) } ?? .null,
              ]
            }),
        ])
    } else {
      for line in CurvesCommand.table(curves) { context.print(line) }
      if let svgPath {
        context.print("curves: \(svgPath), \(TrainingCurves.lossPath(svgPath))")
      }
    }
  }

  /// Three significant digits without trailing zeros: 0.1, 0.01 (not 0.010000000000000002),
  /// 0.0976.
  static func significant(_ x: Double) -> String {
    guard x != 0, x.isFinite else { return "\(x)" }
    let digits = max(0, 2 - Int((Math.log(abs(x)) / Math.log(10)).rounded(.down)))
    var s = Format.fixed(x, digits: min(digits, 12))
    while s.contains(".") && (s.hasSuffix("0") || s.hasSuffix(".")) { s.removeLast() }
    return s
  }

  /// The table: one row per epoch, the best test accuracy marked with `*`.
  static func table(_ curves: TrainingCurves) -> [String] {
    var lines = [curves.title]
    guard !curves.points.isEmpty else { return lines + ["no completed epochs"] }
    let best = curves.points.compactMap(\.testAccuracy).max()
    lines.append("epoch  lr         train loss  train acc  test loss  test acc")
    for p in curves.points {
      func pad(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - s.count)) + s
      }
      var row = pad("\(p.epoch)", 5) + "  " + (significant(p.learningRate) + "         ").prefix(9)
      row += "  " + pad(Format.fixed(p.trainLoss, digits: 4), 10)
      row += "  " + pad(Format.fixed(100 * p.trainAccuracy, digits: 2) + "%", 9)
      row += "  " + pad(p.testLoss.map { Format.fixed($0, digits: 4) } ?? "-", 9)
      row += "  " + pad(p.testAccuracy.map { Format.fixed(100 * $0, digits: 2) + "%" } ?? "-", 8)
      if let a = p.testAccuracy, a == best { row += " *" }
      lines.append(row)
    }
    if let best, let first = curves.points.first(where: { $0.testAccuracy == best }),
      let last = curves.points.last, let final = last.testAccuracy
    {
      lines.append(
        "final test accuracy " + Format.fixed(100 * final, digits: 2) + "% (epoch \(last.epoch)); best "
          + Format.fixed(100 * best, digits: 2) + "% (epoch \(first.epoch))")
    }
    return lines
  }
}
