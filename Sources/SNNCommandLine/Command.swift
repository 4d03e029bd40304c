import SNNBase

/// A subcommand of `snn`.
///
/// A command is a value holding its parsed options. `init(parsing:)` reads and validates
/// them (throwing ``CommandLineError`` or ``ConfigurationError`` with the option's name);
/// `run(in:)` does the work, writing results to `context.standardOutput` and progress to
/// `context.standardError`.
public protocol Command {
  static var help: CommandHelp { get }
  init(parsing arguments: inout ArgumentParser) throws
  func run(in context: CommandContext) throws
}

/// Where a command writes and what it can see of its environment.
public final class CommandContext {
  public let standardOutput: OutputSink
  public let standardError: OutputSink
  public let environment: [String: String]
  /// Whether standard error is a terminal (live progress lines rewrite themselves there).
  public let standardErrorIsTerminal: Bool

  public init(
    standardOutput: OutputSink, standardError: OutputSink, environment: [String: String],
    standardErrorIsTerminal: Bool
  ) {
    self.standardOutput = standardOutput
    self.standardError = standardError
    self.environment = environment
    self.standardErrorIsTerminal = standardErrorIsTerminal
  }

  /// Writes a line to standard output.
  public func print(_ text: String = "") { standardOutput.write(text + "\n") }

  /// Writes a JSON value to standard output, pretty-printed, followed by a newline.
  public func printJSON(_ value: JSONValue) { standardOutput.write(value.rendered(pretty: true) + "\n") }

  /// Writes a line to standard error.
  public func log(_ text: String) { standardError.write(text + "\n") }
}

/// A node of the command tree: a command, or a group of subcommands (`snn bench cuba`).
public indirect enum CommandNode {
  case command(any Command.Type)
  case group(name: String, abstract: String, children: [CommandNode])

  public var name: String {
    switch self {
    case .command(let type): return String(type.help.name.split(separator: " ").last ?? "")
    case .group(let name, _, _): return name
    }
  }

  public var abstract: String {
    switch self {
    case .command(let type): return type.help.abstract
    case .group(_, let abstract, _): return abstract
    }
  }
}
