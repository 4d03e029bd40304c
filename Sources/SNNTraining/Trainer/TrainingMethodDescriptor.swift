import SNNBase

/// A training method as the registry lists it: its name, options and factory.
public struct TrainingMethodDescriptor: Sendable {
  public enum Backend: String, Sendable {
    case dense
    case event
  }

  /// `bptt`, `lsg`, `rate`, `ndot`, `edbp`, `spide`.
  public var name: String
  /// One line for `--help` and error messages.
  public var summary: String
  public var backend: Backend
  public var options: [MethodOption]
  public var defaults: MethodDefaults
  /// Makes a fresh method (parameters initialized from the run seed). Throws
  /// ``ConfigurationError`` for a model or options the method cannot train.
  public var makeMethod: @Sendable (MethodSetup) throws -> any TrainingMethod

  public init(
    name: String, summary: String, backend: Backend, options: [MethodOption] = [],
    defaults: MethodDefaults = MethodDefaults(),
    makeMethod: @escaping @Sendable (MethodSetup) throws -> any TrainingMethod
  ) {
    self.name = name
    self.summary = summary
    self.backend = backend
    self.options = options
    self.defaults = defaults
    self.makeMethod = makeMethod
  }

  /// Checks `given` (name → value, any order) against the declared options and fills in
  /// defaults. Unknown names are errors. A null value is accepted for an option whose
  /// default is null (unset: the method decides, e.g. per dataset), as stored in checkpoints.
  public func resolveOptions(
    _ given: [(name: String, value: JSONValue)], field: String = "method option"
  )
    throws(ConfigurationError) -> MethodOptionValues
  {
    for (name, _) in given where !options.contains(where: { $0.name == name }) {
      throw .unknown(
        field: "\(field) of method '\(self.name)'", value: name, allowed: options.map(\.name))
    }
    var entries: [(name: String, value: JSONValue)] = []
    for option in options {
      if let value = given.first(where: { $0.name == option.name })?.value,
        !(value == .null && option.defaultValue == .null)
      {
        // (A stored null is an unset option whose default is null: a checkpoint's record.)
        entries.append((option.name, try option.validate(value, field: option.flagName)))
      } else {
        entries.append((option.name, option.defaultValue))
      }
    }
    return MethodOptionValues(entries)
  }
}
