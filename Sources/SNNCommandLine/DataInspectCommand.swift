import SNN

/// `snn data inspect PATH`.
struct DataInspectCommand: Command {
  static let help = CommandHelp(name: "data inspect", abstract: "Describe a dataset file or folder.")
  init(parsing arguments: inout ArgumentParser) throws {}
  func run(in context: CommandContext) throws {}
}
