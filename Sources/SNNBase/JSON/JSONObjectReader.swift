/// Strict reading of one JSON object: every required key must be present with the right
/// type, and ``finish()`` rejects keys nobody asked for (a typo in a hand-edited file
/// should not be silently ignored).
///
/// Errors are ``ConfigurationError`` values whose field is the dotted path of the key,
/// e.g. `model.stages[2].kernel`.
public struct JSONObjectReader {
  public let path: String
  private let members: [(key: String, value: JSONValue)]
  private var asked: [String] = []

  /// Reads `value`, which must be an object without repeated keys; `path` names it in
  /// errors.
  public init(_ value: JSONValue, path: String) throws(ConfigurationError) {
    guard let members = value.objectMembers else {
      throw .invalid(field: path, value: value.kindName, expected: "an object")
    }
    var seen = Set<String>()
    for member in members where !seen.insert(member.key).inserted {
      throw .invalid(field: path, value: "the key '\(member.key)' twice", expected: "unique keys")
    }
    self.path = path
    self.members = members
  }

  /// The dotted path of `key`.
  public func field(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

  /// The value of `key`, or nil when absent.
  public mutating func optional(_ key: String) -> JSONValue? {
    asked.append(key)
    return members.first { $0.key == key }?.value
  }

  /// The value of `key`; throws when absent.
  public mutating func value(_ key: String, expected: String) throws(ConfigurationError)
    -> JSONValue
  {
    guard let v = optional(key) else { throw .missing(field: field(key), expected: expected) }
    return v
  }

  public mutating func string(_ key: String) throws(ConfigurationError) -> String {
    let v = try value(key, expected: "a string")
    guard let s = v.stringValue else {
      throw .invalid(field: field(key), value: v.kindName, expected: "a string")
    }
    return s
  }

  public mutating func bool(_ key: String) throws(ConfigurationError) -> Bool {
    let v = try value(key, expected: "true or false")
    guard let b = v.boolValue else {
      throw .invalid(field: field(key), value: v.kindName, expected: "true or false")
    }
    return b
  }

  public mutating func int(_ key: String, in range: ClosedRange<Int> = Int.min...Int.max)
    throws(ConfigurationError) -> Int
  {
    let v = try value(key, expected: "an integer")
    return try JSONObjectReader.int(v, field: field(key), in: range)
  }

  public mutating func double(_ key: String) throws(ConfigurationError) -> Double {
    let v = try value(key, expected: "a number")
    return try JSONObjectReader.double(v, field: field(key))
  }

  public mutating func array(_ key: String) throws(ConfigurationError) -> [JSONValue] {
    let v = try value(key, expected: "an array")
    guard let a = v.arrayValue else {
      throw .invalid(field: field(key), value: v.kindName, expected: "an array")
    }
    return a
  }

  /// A nested object reader for `key`.
  public mutating func object(_ key: String) throws(ConfigurationError) -> JSONObjectReader {
    let v = try value(key, expected: "an object")
    return try JSONObjectReader(v, path: field(key))
  }

  // Optional keys: nil when absent, a typed error when present with the wrong type.

  public mutating func optionalString(_ key: String) throws(ConfigurationError) -> String? {
    guard contains(key) else {
      asked.append(key)
      return nil
    }
    return try string(key)
  }

  public mutating func optionalBool(_ key: String) throws(ConfigurationError) -> Bool? {
    guard contains(key) else {
      asked.append(key)
      return nil
    }
    return try bool(key)
  }

  public mutating func optionalInt(_ key: String, in range: ClosedRange<Int> = Int.min...Int.max) throws(ConfigurationError) -> Int? {
    guard contains(key) else {
      asked.append(key)
      return nil
    }
    return try int(key, in: range)
  }

  public mutating func optionalDouble(_ key: String) throws(ConfigurationError) -> Double? {
    guard contains(key) else {
      asked.append(key)
      return nil
    }
    return try double(key)
  }

  public mutating func optionalArray(_ key: String) throws(ConfigurationError) -> [JSONValue]? {
    guard contains(key) else {
      asked.append(key)
      return nil
    }
    return try array(key)
  }

  public mutating func optionalObject(_ key: String) throws(ConfigurationError) -> JSONObjectReader? {
    guard contains(key) else {
      asked.append(key)
      return nil
    }
    return try object(key)
  }

  /// Whether `key` is present.
  public func contains(_ key: String) -> Bool { members.contains { $0.key == key } }

  /// The keys that are present, in order.
  public var keys: [String] { members.map(\.key) }

  /// Throws for the first key that was never asked for.
  public func finish() throws(ConfigurationError) {
    for member in members where !asked.contains(member.key) {
      throw .unknown(
        field: "key in \(path.isEmpty ? "the object" : path)", value: member.key, allowed: asked)
    }
  }

  /// `v` as an integer in `range`.
  public static func int(
    _ v: JSONValue, field: String, in range: ClosedRange<Int> = Int.min...Int.max
  )
    throws(ConfigurationError) -> Int
  {
    guard let i = v.intValue else {
      throw .invalid(field: field, value: "\(v)", expected: "an integer")
    }
    guard range.contains(i) else {
      throw .invalid(
        field: field, value: "\(i)",
        expected: "an integer in \(range.lowerBound)...\(range.upperBound)")
    }
    return i
  }

  /// `v` as a finite number.
  public static func double(_ v: JSONValue, field: String) throws(ConfigurationError) -> Double {
    guard let d = v.doubleValue, d.isFinite else {
      throw .invalid(field: field, value: "\(v)", expected: "a finite number")
    }
    return d
  }
}
