import Testing

@testable import SNNCommandLine
import SNNBase

@Suite struct ArgumentParserTests {
  static let help = CommandHelp(
    name: "demo", abstract: "A demo.",
    options: [
      OptionHelp("--neurons", value: "N", help: "Neurons.", default: "4000"),
      OptionHelp("--duration", value: "TIME", help: "Duration."),
      OptionHelp("--rate", value: "X", help: "Rate."),
      OptionHelp("--T", value: "LIST", help: "Steps."),
      OptionHelp("--method", value: "NAME", help: "Method."),
      .flag("--json", help: "JSON output."),
    ])

  @Test func parsesTypedValuesInBothSpellings() throws {
    var p = ArgumentParser(["--neurons", "64k", "--duration=250ms", "--json", "--T", "2,4,8", "--rate", "-0.5"], help: Self.help)
    #expect(try p.int("--neurons", default: 1) == 64_000)
    #expect(try p.duration("--duration", default: .zero) == .milliseconds(250))
    #expect(try p.flag("--json"))
    #expect(try p.intList("--T", default: []) == [2, 4, 8])
    #expect(try p.double("--rate", default: 0) == -0.5)
    try p.finish()
  }

  @Test func suggestsTheClosestOptionForATypo() throws {
    var p = ArgumentParser(["--nuerons", "5"], help: Self.help)
    _ = try p.int("--neurons", default: 1)
    #expect(throws: CommandLineError.unknownOption("--nuerons", suggestion: "--neurons")) { try p.finish() }
  }

  @Test func rejectsNegativeDurationAndNamesTheOption() throws {
    var p = ArgumentParser(["--duration", "-1s"], help: Self.help)
    do {
      _ = try p.duration("--duration", default: .zero)
      Issue.record("expected an error")
    } catch {
      #expect(error.description.contains("--duration"))
      #expect(error.description.contains("-1s"))
    }
  }

  @Test func rejectsOutOfRangeChoiceMissingValueAndRepeats() throws {
    var p = ArgumentParser(["--neurons", "0"], help: Self.help)
    #expect(throws: CommandLineError.self) { try p.int("--neurons", default: 1, in: 1...Int.max) }
    var q = ArgumentParser(["--method"], help: Self.help)
    #expect(throws: CommandLineError.missingValue(option: "--method", expected: "one of a, b")) {
      try q.choice("--method", ["a", "b"], default: "a")
    }
    var r = ArgumentParser(["--json", "--json"], help: Self.help)
    #expect(throws: CommandLineError.repeatedOption("--json")) { try r.flag("--json") }
  }

  @Test func durationsNeedAUnit() {
    #expect(ArgumentParser.parseDuration("1s") == .milliseconds(1000))
    #expect(ArgumentParser.parseDuration("2min") == .milliseconds(120_000))
    #expect(ArgumentParser.parseDuration("100us") == .milliseconds(0.1))
    #expect(ArgumentParser.parseDuration("100") == nil)
  }
}

@Suite struct ToolTests {
  func run(_ args: [String]) -> (code: Int32, out: String, err: String) {
    let out = StringSink()
    let err = StringSink()
    let context = CommandContext(standardOutput: out, standardError: err, environment: [:], standardErrorIsTerminal: false)
    let code = SNNTool.run(args, context: context)
    return (code, out.text, err.text)
  }

  @Test func unknownCommandGivesOneLineAndUsageExitCode() {
    let r = run(["simulat3"])
    #expect(r.code == ExitCode.usage)
    #expect(r.err.hasPrefix("snn: error: unknown command 'simulat3'"))
  }

  @Test func everyCommandHasHelp() {
    func visit(_ nodes: [CommandNode], _ path: [String]) {
      for node in nodes {
        switch node {
        case .command(let type):
          let r = run(path + [node.name, "--help"])
          #expect(r.code == 0)
          #expect(r.out.contains("OVERVIEW: \(type.help.abstract)"))
        case .group(_, _, let children):
          let r = run(path + [node.name, "--help"])
          #expect(r.code == 0)
          visit(children, path + [node.name])
        }
      }
    }
    visit(SNNTool.commands, [])
    let top = run(["--help"])
    #expect(top.code == 0 && top.out.contains("COMMANDS:"))
  }
}
