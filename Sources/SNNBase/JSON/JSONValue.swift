/// A JSON value with ordered object keys.
///
/// swift-snn prints run summaries, benchmark tables and network descriptions as JSON and
/// reads network files and cost tables from it. Objects keep their keys in insertion order
/// so that printed summaries list keys in a stable, documented order. Integers are kept
/// apart from floating-point numbers so that 64-bit counts print exactly.
public enum JSONValue: Equatable, Sendable {
  case null
  case bool(Bool)
  case integer(Int64)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([(key: String, value: JSONValue)])

  public static func == (a: JSONValue, b: JSONValue) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.integer(let x), .integer(let y)): return x == y
    case (.number(let x), .number(let y)): return x == y
    case (.integer(let x), .number(let y)), (.number(let y), .integer(let x)): return Double(x) == y
    case (.string(let x), .string(let y)): return x == y
    case (.array(let x), .array(let y)): return x == y
    case (.object(let x), .object(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    default: return false
    }
  }
}

// MARK: - Building

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral,
  ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
  ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
  public init(nilLiteral: ()) { self = .null }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(integerLiteral value: Int64) { self = .integer(value) }
  public init(floatLiteral value: Double) { self = .number(value) }
  public init(stringLiteral value: String) { self = .string(value) }
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    self = .object(elements.map { (key: $0.0, value: $0.1) })
  }

  public init(_ value: Int) { self = .integer(Int64(value)) }
  public init(_ value: UInt64) {
    self = value <= UInt64(Int64.max) ? .integer(Int64(value)) : .number(Double(value))
  }
  public init(_ value: Double) { self = .number(value) }
  public init(_ value: Float) { self = .number(Double(value)) }
  public init(_ value: String) { self = .string(value) }
  public init(_ value: Bool) { self = .bool(value) }
  public init(_ values: [Double]) { self = .array(values.map { .number($0) }) }
  public init(_ values: [Int]) { self = .array(values.map { .integer(Int64($0)) }) }
}

// MARK: - Reading

extension JSONValue {
  /// The value for `key` when this is an object (the first one if repeated).
  public subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.first(where: { $0.key == key })?.value
  }

  public var objectMembers: [(key: String, value: JSONValue)]? {
    if case .object(let m) = self { return m }
    return nil
  }
  public var arrayValue: [JSONValue]? {
    if case .array(let a) = self { return a }
    return nil
  }
  public var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }
  public var boolValue: Bool? {
    if case .bool(let b) = self { return b }
    return nil
  }
  /// A number as Double (integers convert).
  public var doubleValue: Double? {
    switch self {
    case .integer(let i): return Double(i)
    case .number(let d): return d
    default: return nil
    }
  }
  /// An integer, or a floating-point number with an exact integer value.
  public var intValue: Int? {
    switch self {
    case .integer(let i): return Int(exactly: i)
    case .number(let d): return Int(exactly: d)
    default: return nil
    }
  }

  /// A short name of the kind of value, for error messages.
  public var kindName: String {
    switch self {
    case .null: return "null"
    case .bool: return "a boolean"
    case .integer, .number: return "a number"
    case .string: return "a string"
    case .array: return "an array"
    case .object: return "an object"
    }
  }

  /// Adds or replaces `key` in an object; traps when this is not an object.
  public mutating func set(_ key: String, _ value: JSONValue) {
    guard case .object(var members) = self else {
      preconditionFailure("set(_:_:) on a non-object JSON value")
    }
    if let i = members.firstIndex(where: { $0.key == key }) {
      members[i].value = value
    } else {
      members.append((key: key, value: value))
    }
    self = .object(members)
  }
}

// MARK: - Printing

extension JSONValue: CustomStringConvertible {
  /// Compact single-line JSON.
  public var description: String { rendered(pretty: false) }

  /// JSON text; `pretty` indents nested containers by two spaces.
  public func rendered(pretty: Bool) -> String {
    var out = ""
    write(to: &out, pretty: pretty, indent: 0)
    return out
  }

  private func write(to out: inout String, pretty: Bool, indent: Int) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .integer(let i): out += String(i)
    case .number(let d): out += JSONValue.format(d)
    case .string(let s): JSONValue.writeString(s, to: &out)
    case .array(let items):
      if items.isEmpty {
        out += "[]"
        return
      }
      let scalarsOnly = items.allSatisfy { !$0.isContainer }
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += pretty && scalarsOnly ? ", " : "," }
        if pretty && !scalarsOnly { newline(&out, indent + 1) }
        item.write(to: &out, pretty: pretty, indent: indent + 1)
      }
      if pretty && !scalarsOnly { newline(&out, indent) }
      out += "]"
    case .object(let members):
      if members.isEmpty {
        out += "{}"
        return
      }
      out += "{"
      for (i, member) in members.enumerated() {
        if i > 0 { out += "," }
        if pretty { newline(&out, indent + 1) }
        JSONValue.writeString(member.key, to: &out)
        out += pretty ? ": " : ":"
        member.value.write(to: &out, pretty: pretty, indent: indent + 1)
      }
      if pretty { newline(&out, indent) }
      out += "}"
    }
  }

  private var isContainer: Bool {
    switch self {
    case .array, .object: return true
    default: return false
    }
  }

  private func newline(_ out: inout String, _ indent: Int) {
    out += "\n"
    out += String(repeating: "  ", count: indent)
  }

  /// Shortest round-tripping decimal; non-finite values print as `null` (JSON has none).
  static func format(_ d: Double) -> String {
    guard d.isFinite else { return "null" }
    if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) + ".0" }
    return "\(d)"
  }

  static func writeString(_ s: String, to out: inout String) {
    out += "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 {
          let hex = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    out += "\""
  }
}
