/// One option or flag of a command, as `--help` shows it.
public struct OptionHelp: Sendable, Equatable {
  /// The spelling with dashes, e.g. `--neurons`.
  public var name: String
  /// The placeholder of the value (`N`, `FILE`), or nil for a flag that takes no value.
  public var valueName: String?
  public var help: String
  /// The default shown in help, if any.
  public var defaultValue: String?

  public init(_ name: String, value: String? = nil, help: String, default defaultValue: String? = nil) {
    self.name = name
    self.valueName = value
    self.help = help
    self.defaultValue = defaultValue
  }

  public static func flag(_ name: String, help: String) -> OptionHelp {
    OptionHelp(name, value: nil, help: help)
  }
}

/// What `snn <command> --help` prints, and the list of options the parser accepts.
public struct CommandHelp: Sendable {
  /// The full command path without `snn`, e.g. `simulate` or `bench cuba`.
  public var name: String
  /// One line, shown in the command list.
  public var abstract: String
  /// Usage lines without the leading `snn `.
  public var usage: [String]
  /// Paragraphs shown after the overview.
  public var discussion: String
  public var options: [OptionHelp]
  /// Complete command lines shown under EXAMPLES.
  public var examples: [String]

  public init(
    name: String, abstract: String, usage: [String] = [], discussion: String = "",
    options: [OptionHelp] = [], examples: [String] = []
  ) {
    self.name = name
    self.abstract = abstract
    self.usage = usage.isEmpty ? ["\(name) [options]"] : usage
    self.discussion = discussion
    self.options = options
    self.examples = examples
  }

  /// The formatted help text.
  public func render(width: Int = 100) -> String {
    var out = "OVERVIEW: \(abstract)\n\n"
    if !discussion.isEmpty {
      for paragraph in discussion.split(separator: "\n\n", omittingEmptySubsequences: true) {
        out += wrap(String(paragraph), width: width, indent: 0) + "\n\n"
      }
    }
    out += "USAGE:\n"
    for line in usage { out += "  snn \(line)\n" }
    let all = options + [OptionHelp.flag("-h, --help", help: "Show this help.")]
    out += "\nOPTIONS:\n"
    let column = min(32, (all.map { label($0).count }.max() ?? 0) + 4)
    for option in all {
      let head = "  " + label(option)
      var text = option.help
      if let d = option.defaultValue { text += " (default: \(d))" }
      let body = wrap(text, width: width - column, indent: 0).split(separator: "\n", omittingEmptySubsequences: false)
      if head.count + 2 <= column {
        out += head + String(repeating: " ", count: column - head.count) + (body.first.map(String.init) ?? "") + "\n"
      } else {
        out += head + "\n" + String(repeating: " ", count: column) + (body.first.map(String.init) ?? "") + "\n"
      }
      for rest in body.dropFirst() { out += String(repeating: " ", count: column) + rest + "\n" }
    }
    if !examples.isEmpty {
      out += "\nEXAMPLES:\n"
      for example in examples { out += "  \(example)\n" }
    }
    return out
  }

  private func label(_ option: OptionHelp) -> String {
    option.valueName.map { "\(option.name) \($0)" } ?? option.name
  }
}

/// Greedy word wrap of `text` to `width` columns, each line indented by `indent` spaces.
func wrap(_ text: String, width: Int, indent: Int) -> String {
  var lines: [String] = []
  for sourceLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
    var line = ""
    for word in sourceLine.split(separator: " ") {
      if !line.isEmpty && line.count + 1 + word.count > width - indent {
        lines.append(line)
        line = ""
      }
      line += line.isEmpty ? String(word) : " " + word
    }
    lines.append(line)
  }
  let pad = String(repeating: " ", count: indent)
  return lines.map { pad + $0 }.joined(separator: "\n")
}
