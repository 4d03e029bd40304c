/// Reads the fields of a JSON object with their path, for configuration files.
///
/// Every accessor names the field by its full path (`populations[0].parameters.tauMem`) in
/// the error it throws; ``finish()`` rejects keys nobody asked for, so a misspelt key is an
/// error instead of a silently ignored setting.
public struct JSONObjectReader {
  public let path: String
  let members: [(key: String, value: JSONValue)]
  var used: Set<String> = []

  /// Reads `value`, which must be an object; `path` names it in errors ("" for the root).
  public init(_ value: JSONValue, path: String) throws(ConfigurationError) {
    guard let members = value.objectMembers else {
      throw .invalid(field: path.isEmpty ? "(root)" : path, value: value.kindName, expected: "an object")
    }
    self.path = path
    self.members = members
  }

  /// The path of `key` inside this object.
  public func field(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

  public var keys: [String] { members.map(\.key) }

  public func contains(_ key: String) -> Bool { members.contains { $0.key == key } }

  /// The raw value of `key`, or nil.
  public mutating func value(_ key: String) -> JSONValue? {
    used.insert(key)
    return members.first { $0.key == key }?.value
  }

  public mutating func required(_ key: String, expected: String) throws(ConfigurationError) -> JSONValue {
    guard let v = value(key) else { throw .missing(field: field(key), expected: expected) }
    return v
  }

  public mutating func double(_ key: String) throws(ConfigurationError) -> Double? {
    guard let v = value(key) else { return nil }
    guard let d = v.doubleValue, d.isFinite else {
      throw .invalid(field: field(key), value: v.description, expected: "a finite number")
    }
    return d
  }

  public mutating func double(_ key: String, default value: Double) throws(ConfigurationError) -> Double {
    try double(key) ?? value
  }

  public mutating func requiredDouble(_ key: String) throws(ConfigurationError) -> Double {
    guard let d = try double(key) else { throw .missing(field: field(key), expected: "a number") }
    return d
  }

  public mutating func int(_ key: String) throws(ConfigurationError) -> Int? {
    guard let v = value(key) else { return nil }
    guard let i = v.intValue else { throw .invalid(field: field(key), value: v.description, expected: "an integer") }
    return i
  }

  public mutating func requiredInt(_ key: String) throws(ConfigurationError) -> Int {
    guard let i = try int(key) else { throw .missing(field: field(key), expected: "an integer") }
    return i
  }

  public mutating func string(_ key: String) throws(ConfigurationError) -> String? {
    guard let v = value(key) else { return nil }
    guard let s = v.stringValue else { throw .invalid(field: field(key), value: v.description, expected: "a string") }
    return s
  }

  public mutating func requiredString(_ key: String) throws(ConfigurationError) -> String {
    guard let s = try string(key) else { throw .missing(field: field(key), expected: "a string") }
    return s
  }

  public mutating func bool(_ key: String, default value: Bool) throws(ConfigurationError) -> Bool {
    guard let v = self.value(key) else { return value }
    guard let b = v.boolValue else { throw .invalid(field: field(key), value: v.description, expected: "true or false") }
    return b
  }

  /// The nested object `key`, or nil when absent.
  public mutating func object(_ key: String) throws(ConfigurationError) -> JSONObjectReader? {
    guard let v = value(key) else { return nil }
    return try JSONObjectReader(v, path: field(key))
  }

  /// The array `key`, or nil when absent.
  public mutating func array(_ key: String) throws(ConfigurationError) -> [JSONValue]? {
    guard let v = value(key) else { return nil }
    guard let a = v.arrayValue else { throw .invalid(field: field(key), value: v.kindName, expected: "an array") }
    return a
  }

  /// Throws for the first key that no accessor asked for.
  public func finish() throws(ConfigurationError) {
    for (key, _) in members where !used.contains(key) {
      throw .unknown(field: "key in \(path.isEmpty ? "the file" : path)", value: key, allowed: Array(used).sorted())
    }
  }
}
