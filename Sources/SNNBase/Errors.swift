/// A configuration value that cannot be used, with the field it came from.
///
/// Validation happens on a copy of the configuration; only a configuration that passes is
/// committed. The message names the field, the value seen and what was expected, so that a
/// command-line user can fix the input from the one line printed.
public enum ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
  /// `field` holds `value`, which is not `expected`.
  case invalid(field: String, value: String, expected: String)
  /// `field` is required but absent.
  case missing(field: String, expected: String)
  /// `field` names something unknown; `allowed` lists the known names.
  case unknown(field: String, value: String, allowed: [String])

  public var description: String {
    switch self {
    case .invalid(let field, let value, let expected):
      return "invalid value for '\(field)': \(value) (expected \(expected))"
    case .missing(let field, let expected):
      return "missing '\(field)' (expected \(expected))"
    case .unknown(let field, let value, let allowed):
      return "unknown \(field) '\(value)' (expected one of: \(allowed.joined(separator: ", ")))"
    }
  }
}

extension ConfigurationError {
  /// Throws `.invalid` unless `value` is finite and > 0.
  public static func requirePositive(_ value: Double, _ field: String, unit: String = "")
    throws(ConfigurationError)
  {
    guard value.isFinite, value > 0 else {
      throw .invalid(
        field: field, value: "\(value)",
        expected: "a positive number" + (unit.isEmpty ? "" : " in \(unit)"))
    }
  }

  /// Throws `.invalid` unless `value` is finite and ≥ 0.
  public static func requireNonNegative(_ value: Double, _ field: String, unit: String = "")
    throws(ConfigurationError)
  {
    guard value.isFinite, value >= 0 else {
      throw .invalid(
        field: field, value: "\(value)",
        expected: "a non-negative number" + (unit.isEmpty ? "" : " in \(unit)"))
    }
  }

  /// Throws `.invalid` unless `value` is finite.
  public static func requireFinite(_ value: Double, _ field: String) throws(ConfigurationError) {
    guard value.isFinite else {
      throw .invalid(field: field, value: "\(value)", expected: "a finite number")
    }
  }

  /// Throws `.invalid` unless `value` lies in `range`.
  public static func require(
    _ value: Double, in range: ClosedRange<Double>, _ field: String
  ) throws(ConfigurationError) {
    guard range.contains(value) else {
      throw .invalid(
        field: field, value: "\(value)",
        expected: "a number in [\(range.lowerBound), \(range.upperBound)]")
    }
  }
}

/// A file that could not be read or written.
public struct FileError: Error, Equatable, Sendable, CustomStringConvertible {
  public enum Operation: String, Sendable { case open, read, write, sync, rename, remove, stat }
  public var path: String
  public var operation: Operation
  /// The C `errno` value, or 0 when the failure is not a system error.
  public var code: Int32
  public var reason: String

  public init(path: String, operation: Operation, code: Int32, reason: String) {
    self.path = path
    self.operation = operation
    self.code = code
    self.reason = reason
  }

  public var description: String { "\(path): cannot \(operation.rawValue): \(reason)" }
}
