import SNNBase

/// A method-specific option, declared by the method and offered by `snn train` as
/// `--<name>` (e.g. `--variant M|S`, `--T-backward N`).
public struct MethodOption: Equatable, Sendable {
  public enum Kind: Equatable, Sendable {
    /// Present or absent (`true` / `false`).
    case flag
    /// One of the listed words.
    case choice([String])
    case integer(ClosedRange<Int>)
    case number(ClosedRange<Double>)
  }

  /// The name without dashes, as it appears after `--` and in checkpoints.
  public var name: String
  /// The placeholder shown in help (`M|S`, `N`).
  public var valueName: String
  public var help: String
  public var kind: Kind
  public var defaultValue: JSONValue

  public init(name: String, valueName: String, help: String, kind: Kind, defaultValue: JSONValue) {
    self.name = name
    self.valueName = valueName
    self.help = help
    self.kind = kind
    self.defaultValue = defaultValue
  }

  /// The option as it is spelled on the command line: `--<name>`.
  public var flagName: String { "--" + name }

  /// `value` checked against the kind; `field` names it in errors.
  public func validate(_ value: JSONValue, field: String) throws(ConfigurationError) -> JSONValue {
    switch kind {
    case .flag:
      guard let b = value.boolValue else {
        throw .invalid(field: field, value: "\(value)", expected: "true or false")
      }
      return JSONValue(b)
    case .choice(let allowed):
      guard let s = value.stringValue, allowed.contains(s) else {
        throw .invalid(
          field: field, value: value.stringValue ?? "\(value)",
          expected: "one of " + allowed.joined(separator: ", "))
      }
      return JSONValue(s)
    case .integer(let range):
      return JSONValue(try JSONObjectReader.int(value, field: field, in: range))
    case .number(let range):
      let d = try JSONObjectReader.double(value, field: field)
      guard range.contains(d) else {
        throw .invalid(
          field: field, value: "\(d)",
          expected: "a number in [\(range.lowerBound), \(range.upperBound)]")
      }
      return JSONValue(d)
    }
  }
}

/// The values of a method's options, complete (defaults filled in) and in declaration
/// order.
public struct MethodOptionValues: Equatable, Sendable {
  public private(set) var entries: [(name: String, value: JSONValue)]

  public init(_ entries: [(name: String, value: JSONValue)] = []) { self.entries = entries }

  public static func == (a: Self, b: Self) -> Bool {
    a.entries.count == b.entries.count
      && zip(a.entries, b.entries).allSatisfy { $0.name == $1.name && $0.value == $1.value }
  }

  public subscript(name: String) -> JSONValue? { entries.first { $0.name == name }?.value }

  /// The value of a `choice` option; a precondition that it exists.
  public func string(_ name: String) -> String {
    guard let s = self[name]?.stringValue else { preconditionFailure("no string option '\(name)'") }
    return s
  }
  public func int(_ name: String) -> Int {
    guard let i = self[name]?.intValue else { preconditionFailure("no integer option '\(name)'") }
    return i
  }
  public func double(_ name: String) -> Double {
    guard let d = self[name]?.doubleValue else { preconditionFailure("no number option '\(name)'") }
    return d
  }
  public func bool(_ name: String) -> Bool {
    guard let b = self[name]?.boolValue else { preconditionFailure("no flag option '\(name)'") }
    return b
  }

  public var json: JSONValue { .object(entries.map { (key: $0.name, value: $0.value) }) }
}
