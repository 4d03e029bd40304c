import SNN

/// `snn data verify [DIR]`.
struct DataVerifyCommand: Command {
  static let help = CommandHelp(name: "data verify", abstract: "Check dataset files against published checksums.")
  init(parsing arguments: inout ArgumentParser) throws {}
  func run(in context: CommandContext) throws {}
}
