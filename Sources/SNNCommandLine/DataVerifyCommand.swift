import SNN

/// `snn data verify [DIR]`: checks dataset files against published checksums.
struct DataVerifyCommand: Command {
  static let help = CommandHelp(
    name: "data verify",
    abstract: "Check dataset files against published checksums and SHA256SUMS lists.",
    usage: ["data verify [DIR] [--json]"],
    discussion: """
      DIR is a data folder (holding mnist/, fashion-mnist/, nmnist/, ...) or one dataset \
      folder; without it, --data, SNN_DATA or ~/.snn/data is used. Archives are compared \
      with the MD5s their publishers list (MNIST, Fashion-MNIST, N-MNIST Train.zip and \
      Test.zip). When an archive differs - e.g. a re-compressed copy - its decoded contents \
      are checked instead and reported as "contents checked": no publisher lists checksums of \
      the uncompressed data, so that is not proof of identity. Folders with a SHA256SUMS file \
      are checked against it too.

      Each file is reported as ok, contents checked, missing or corrupt. The exit status is \
      65 if anything is corrupt, 0 otherwise.
      """,
    options: [
      OptionHelp(
        "--data", value: "DIR", help: "The data folder (else SNN_DATA, else ~/.snn/data)."),
      .flag("--json", help: "Print the results as JSON."),
    ],
    examples: ["snn data verify", "snn data verify /work/shared/data/mnist --json"])

  var directory: String?
  var dataFolder: String?
  var json: Bool

  init(parsing arguments: inout ArgumentParser) throws {
    dataFolder = try arguments.string("--data", expected: "a folder")
    json = try arguments.flag("--json")
    directory = arguments.positional()
  }

  func run(in context: CommandContext) throws {
    let root =
      directory.map { DataRoot(path: $0) }
      ?? DataRoot.resolve(explicit: dataFolder, environment: context.environment)
    guard FileIO.isDirectory(root.path) else {
      throw FileError(
        path: root.path, operation: .open, code: 2,
        reason: "no such folder (\(root.sourceDescription))")
    }
    let progress = ProgressLine(context: context, logInterval: 30, enabled: !json)
    let results = try DatasetVerifier.verify(root.path) { name in
      progress.update("verifying \(name)")
    }
    progress.finish()
    let counts = Dictionary(grouping: results, by: \.status).mapValues(\.count)
    let summary =
      "\(counts[.ok] ?? 0) ok, \(counts[.contentsChecked] ?? 0) contents checked, \(counts[.missing] ?? 0) missing, \(counts[.corrupt] ?? 0) corrupt"
    if json {
      context.printJSON([
        "folder": .string(root.path),
        "results": .array(
          results.map {
            [
              "path": .string($0.path), "status": .string($0.status.rawValue),
              "detail": .string($0.detail),
            ]
          }),
        "summary": [
          "ok": .number(Double(counts[.ok] ?? 0)),
          "contents_checked": .number(Double(counts[.contentsChecked] ?? 0)),
          "missing": .number(Double(counts[.missing] ?? 0)),
          "corrupt": .number(Double(counts[.corrupt] ?? 0)),
        ],
      ])
    } else {
      context.print("folder: \(root.path)")
      let width = min(48, (results.map(\.path.count).max() ?? 0) + 2)
      for r in results {
        context.print(r.path.padding(width) + r.status.rawValue.padding(18) + r.detail)
      }
      context.print("summary: " + summary)
    }
    if let corrupt = counts[.corrupt], corrupt > 0 {
      throw DataVerificationFailure(corruptCount: corrupt, folder: root.path)
    }
  }
}

/// `snn data verify` found corrupt files (exit status 65).
public struct DataVerificationFailure: Error, CustomStringConvertible {
  public var corruptCount: Int
  public var folder: String
  public var description: String {
    "\(corruptCount) file\(corruptCount == 1 ? "" : "s") in \(folder) failed verification (see the lines marked corrupt)"
  }
}
