import SNNBase

/// The `snn` command-line tool: finds the subcommand, parses it, runs it, and turns errors
/// into one clear line on standard error and an exit code.
public enum SNNTool {
  public static let version = "0.1.0"

  /// Every subcommand, as a tree. Add new commands here.
  public static var commands: [CommandNode] {
    [
      .command(SimulateCommand.self),
      .command(TrainCommand.self),
      .command(EvaluateCommand.self),
      .command(EnergyCommand.self),
      .command(CurvesCommand.self),
      .group(name: "bench", abstract: "Measure speed and memory (prints figures).", children: benchCommands),
      .command(VersionCommand.self),
      DataCommands.node,
    ]
  }

  /// The `snn bench` subcommands.
  static var benchCommands: [CommandNode] {
    [
      .command(BenchCUBACommand.self),
      .command(BenchQueueCommand.self),
      .command(BenchScalingCommand.self),
      .command(BenchEDBPCommand.self),
      .command(BenchGEMMCommand.self),
      .command(BenchConvCommand.self),
      .command(BenchTrainCommand.self),
      .command(BenchCountingCommand.self),
      .command(BenchMemoryCommand.self),
      .command(BenchSPIDECommand.self),
    ]
  }

  /// Commands that run but are not listed, by the path of their group: internal helpers
  /// (`snn bench memory` re-executes `snn bench memory-probe` in a child process).
  static func hiddenCommands(path: [String]) -> [CommandNode] {
    path == ["bench"] ? [.command(BenchMemoryProbeCommand.self)] : []
  }

  /// Runs `snn` with `arguments` (without the program name) and returns the exit code.
  public static func run(_ arguments: [String], context: CommandContext) -> Int32 {
    var path: [String] = []
    var nodes = commands
    var remaining = arguments[...]
    while true {
      guard let word = remaining.first else {
        context.standardOutput.write(overview(path: path, nodes: nodes))
        return path.isEmpty ? ExitCode.usage : ExitCode.success
      }
      if word == "--help" || word == "-h" || word == "help" {
        // `snn help bench cuba` is `snn bench cuba --help`.
        if word == "help" && path.isEmpty && remaining.count > 1 {
          return run(Array(remaining.dropFirst()) + ["--help"], context: context)
        }
        context.standardOutput.write(overview(path: path, nodes: nodes))
        return ExitCode.success
      }
      if path.isEmpty && word == "--version" {
        context.print(version)
        return ExitCode.success
      }
      guard let node = (nodes + hiddenCommands(path: path)).first(where: { $0.name == word }) else {
        let error = CommandLineError.unknownCommand(word, suggestion: closest(to: word, in: nodes.map(\.name)))
        context.log("snn\(path.isEmpty ? "" : " " + path.joined(separator: " ")): error: \(error)")
        context.log("Run 'snn\(path.isEmpty ? "" : " " + path.joined(separator: " ")) --help' for the list of commands.")
        return ExitCode.usage
      }
      remaining = remaining.dropFirst()
      path.append(word)
      switch node {
      case .group(_, _, let children):
        nodes = children
      case .command(let type):
        return runCommand(type, Array(remaining), context: context)
      }
    }
  }

  static func runCommand(_ type: any Command.Type, _ arguments: [String], context: CommandContext) -> Int32 {
    let help = type.help
    if arguments.contains("--help") || arguments.contains("-h") {
      context.standardOutput.write(help.render())
      return ExitCode.success
    }
    do {
      var parser = ArgumentParser(arguments, help: help)
      let command = try type.init(parsing: &parser)
      try parser.finish()
      try command.run(in: context)
      return ExitCode.success
    } catch {
      context.log("snn \(help.name): error: \(ExitCode.message(for: error))")
      if error is CommandLineError {
        context.log("Run 'snn \(help.name) --help' for usage.")
      }
      return ExitCode.code(for: error)
    }
  }

  static func overview(path: [String], nodes: [CommandNode]) -> String {
    var out = ""
    if path.isEmpty {
      out += "OVERVIEW: swift-snn \(version): simulate and train spiking neural networks, event by event.\n\n"
      out += "USAGE: snn <command> [options]\n       snn <command> --help\n\n"
    } else {
      out += "USAGE: snn \(path.joined(separator: " ")) <command> [options]\n\n"
    }
    out += "COMMANDS:\n"
    let width = (nodes.map { $0.name.count }.max() ?? 0) + 4
    for node in nodes {
      out += "  " + node.name + String(repeating: " ", count: width - node.name.count) + node.abstract + "\n"
    }
    out += "\nRun 'snn \(path.isEmpty ? "" : path.joined(separator: " ") + " ")<command> --help' for a command's options.\n"
    return out
  }
}

/// `snn version`.
struct VersionCommand: Command {
  static let help = CommandHelp(name: "version", abstract: "Print the version of swift-snn.")
  init(parsing arguments: inout ArgumentParser) throws {}
  func run(in context: CommandContext) throws { context.print(SNNTool.version) }
}
