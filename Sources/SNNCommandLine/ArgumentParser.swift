import SNNBase

/// Parses the options of one command.
///
/// A command's `init(parsing:)` asks for each option by name, with its type and range;
/// `finish()` then rejects whatever was not asked for, suggesting the closest known name.
/// Options are written `--name value` or `--name=value`; flags take no value. Every name a
/// command asks for must appear in its ``CommandHelp``, so help and parser cannot drift.
public struct ArgumentParser {
  private struct Token {
    var text: String
    var name: String?  // for `--name` / `--name=value`
    var inlineValue: String?
    var consumed = false
  }

  private var tokens: [Token]
  public let help: CommandHelp

  public init(_ arguments: [String], help: CommandHelp) {
    self.help = help
    var tokens: [Token] = []
    var afterSeparator = false
    for text in arguments {
      if afterSeparator {
        tokens.append(Token(text: text))
      } else if text == "--" {
        afterSeparator = true
      } else if text.hasPrefix("--") {
        if let eq = text.firstIndex(of: "=") {
          tokens.append(Token(text: text, name: String(text[..<eq]), inlineValue: String(text[text.index(after: eq)...])))
        } else {
          tokens.append(Token(text: text, name: text))
        }
      } else {
        tokens.append(Token(text: text))
      }
    }
    self.tokens = tokens
  }

  private func checkDeclared(_ name: String) {
    assert(help.options.contains { $0.name == name }, "option \(name) is not in the help of '\(help.name)'")
  }

  /// The index of the single token named `name`, or nil; throws if it is repeated.
  private func find(_ name: String) throws(CommandLineError) -> Int? {
    checkDeclared(name)
    let matches = tokens.indices.filter { tokens[$0].name == name }
    if matches.count > 1 { throw .repeatedOption(name) }
    return matches.first
  }

  /// Whether the flag `name` is present.
  public mutating func flag(_ name: String) throws(CommandLineError) -> Bool {
    guard let i = try find(name) else { return false }
    if let v = tokens[i].inlineValue {
      throw .invalidValue(option: name, value: v, expected: "no value: '\(name)' is a flag")
    }
    tokens[i].consumed = true
    return true
  }

  /// The raw value of option `name`, or nil when absent.
  public mutating func string(_ name: String, expected: String = "a value") throws(CommandLineError) -> String? {
    guard let i = try find(name) else { return nil }
    tokens[i].consumed = true
    if let v = tokens[i].inlineValue { return v }
    let next = i + 1
    guard next < tokens.count, tokens[next].name == nil, !tokens[next].consumed else {
      throw .missingValue(option: name, expected: expected)
    }
    tokens[next].consumed = true
    return tokens[next].text
  }

  public mutating func string(_ name: String, default value: String) throws(CommandLineError) -> String {
    try string(name) ?? value
  }

  /// The value of a required option.
  public mutating func required(_ name: String, expected: String) throws(CommandLineError) -> String {
    guard let v = try string(name, expected: expected) else {
      throw .missingOption(option: name, expected: expected)
    }
    return v
  }

  /// One of `allowed`.
  public mutating func choice(_ name: String, _ allowed: [String], default value: String) throws(CommandLineError) -> String {
    let expected = "one of " + allowed.joined(separator: ", ")
    guard let v = try string(name, expected: expected) else { return value }
    guard allowed.contains(v) else { throw .invalidValue(option: name, value: v, expected: expected) }
    return v
  }

  public mutating func int(
    _ name: String, default value: Int, in range: ClosedRange<Int> = Int.min...Int.max
  ) throws(CommandLineError) -> Int {
    try optionalInt(name, in: range) ?? value
  }

  public mutating func optionalInt(
    _ name: String, in range: ClosedRange<Int> = Int.min...Int.max
  ) throws(CommandLineError) -> Int? {
    let expected = ArgumentParser.describe(range, "an integer")
    guard let text = try string(name, expected: expected) else { return nil }
    guard let v = ArgumentParser.parseInt(text), range.contains(v) else {
      throw .invalidValue(option: name, value: text, expected: expected)
    }
    return v
  }

  public mutating func double(
    _ name: String, default value: Double, in range: ClosedRange<Double> = -Double.infinity...Double.infinity
  ) throws(CommandLineError) -> Double {
    try optionalDouble(name, in: range) ?? value
  }

  public mutating func optionalDouble(
    _ name: String, in range: ClosedRange<Double> = -Double.infinity...Double.infinity
  ) throws(CommandLineError) -> Double? {
    let expected = ArgumentParser.describe(range, "a number")
    guard let text = try string(name, expected: expected) else { return nil }
    guard let v = Double(text), v.isFinite, range.contains(v) else {
      throw .invalidValue(option: name, value: text, expected: expected)
    }
    return v
  }

  /// A comma-separated list of integers, e.g. `--T 2,4,8`.
  public mutating func intList(
    _ name: String, default value: [Int], in range: ClosedRange<Int> = Int.min...Int.max
  ) throws(CommandLineError) -> [Int] {
    let expected = "a comma-separated list of " + ArgumentParser.describe(range, "integers")
    guard let text = try string(name, expected: expected) else { return value }
    var result: [Int] = []
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
      guard let v = ArgumentParser.parseInt(String(part)), range.contains(v) else {
        throw .invalidValue(option: name, value: text, expected: expected)
      }
      result.append(v)
    }
    return result
  }

  /// A duration with a unit: `1s`, `250ms`, `0.5s`, `100us`, `2min`.
  public mutating func duration(_ name: String, default value: SimTime) throws(CommandLineError) -> SimTime {
    let expected = "a non-negative duration with a unit, e.g. 1s, 250ms or 100us"
    guard let text = try string(name, expected: expected) else { return value }
    guard let t = ArgumentParser.parseDuration(text), t.milliseconds >= 0 else {
      throw .invalidValue(option: name, value: text, expected: expected)
    }
    return t
  }

  /// The next positional argument (not an option, not an option's value), or nil.
  public mutating func positional() -> String? {
    for i in tokens.indices where !tokens[i].consumed && tokens[i].name == nil {
      // A token directly after an unconsumed option may be that option's value; options
      // are parsed before positionals, so any such option is unknown and finish() reports it.
      if i > 0, tokens[i - 1].name != nil, !tokens[i - 1].consumed, tokens[i - 1].inlineValue == nil {
        continue
      }
      tokens[i].consumed = true
      return tokens[i].text
    }
    return nil
  }

  /// A required positional argument.
  public mutating func requiredPositional(_ placeholder: String) throws(CommandLineError) -> String {
    guard let v = positional() else { throw .missingOption(option: placeholder, expected: "a \(placeholder) argument") }
    return v
  }

  /// Rejects every argument that no call asked for.
  public func finish() throws(CommandLineError) {
    for token in tokens where !token.consumed {
      if let name = token.name {
        throw .unknownOption(name, suggestion: closest(to: name, in: help.options.map(\.name)))
      }
      throw .unexpectedArgument(token.text)
    }
  }

  // MARK: Value syntax

  static func parseInt(_ text: String) -> Int? {
    // Accept 64000, 64_000 and 64k / 1M shorthands.
    var t = String(text.filter { $0 != "_" })
    var scale = 1
    if t.hasSuffix("k") || t.hasSuffix("K") {
      scale = 1000
      t.removeLast()
    } else if t.hasSuffix("M") {
      scale = 1_000_000
      t.removeLast()
    }
    guard let v = Int(t) else { return nil }
    let (r, overflow) = v.multipliedReportingOverflow(by: scale)
    return overflow ? nil : r
  }

  static func parseDuration(_ text: String) -> SimTime? {
    let units: [(String, Double)] = [("min", 60_000), ("ms", 1), ("us", 0.001), ("µs", 0.001), ("s", 1000)]
    for (suffix, scale) in units where text.hasSuffix(suffix) {
      guard let v = Double(text.dropLast(suffix.count)), v.isFinite else { return nil }
      return SimTime(milliseconds: v * scale)
    }
    return nil
  }

  static func describe(_ range: ClosedRange<Int>, _ noun: String) -> String {
    switch (range.lowerBound, range.upperBound) {
    case (Int.min, Int.max): return noun
    case (let lo, Int.max): return "\(noun) ≥ \(lo)"
    case (Int.min, let hi): return "\(noun) ≤ \(hi)"
    case (let lo, let hi): return "\(noun) in \(lo)...\(hi)"
    }
  }

  static func describe(_ range: ClosedRange<Double>, _ noun: String) -> String {
    switch (range.lowerBound, range.upperBound) {
    case (-Double.infinity, Double.infinity): return "a finite number"
    case (let lo, Double.infinity): return "\(noun) ≥ \(lo)"
    case (-Double.infinity, let hi): return "\(noun) ≤ \(hi)"
    case (let lo, let hi): return "\(noun) in [\(lo), \(hi)]"
    }
  }
}
