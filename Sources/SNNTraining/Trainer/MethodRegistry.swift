import SNNBase
import Synchronization

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

/// What a method factory receives.
public struct MethodSetup: Sendable {
  public var configuration: RunConfiguration
  /// The validated model with every shape and parameter shape.
  public var analysis: ModelAnalysis
  /// The shape of the samples the method will see.
  public var sampleShape: SampleShape
  public var classCount: Int

  public init(
    configuration: RunConfiguration, analysis: ModelAnalysis, sampleShape: SampleShape,
    classCount: Int
  ) {
    self.configuration = configuration
    self.analysis = analysis
    self.sampleShape = sampleShape
    self.classCount = classCount
  }

  public var model: ModelSpec { configuration.model }
  public var options: MethodOptionValues { configuration.methodOptions }
}

/// Defaults a method prefers when the command line does not say otherwise.
public struct MethodDefaults: Sendable {
  public var timeSteps: Int?
  /// A notation or preset name for `--model`.
  public var model: String?
  /// The readout kind the method's models use (EDBP decodes output spikes: `.spiking`).
  public var readout: ModelSpec.Readout
  /// Neuron settings put into the spec.
  public var neuron: ModelSpec.NeuronSettings?
  public var optimizer: OptimizerSettings.Kind?
  public var learningRate: Double?
  public var weightDecay: Double?

  public init(
    timeSteps: Int? = nil, model: String? = nil, readout: ModelSpec.Readout = .linear,
    neuron: ModelSpec.NeuronSettings? = nil, optimizer: OptimizerSettings.Kind? = nil,
    learningRate: Double? = nil, weightDecay: Double? = nil
  ) {
    self.timeSteps = timeSteps
    self.model = model
    self.readout = readout
    self.neuron = neuron
    self.optimizer = optimizer
    self.learningRate = learningRate
    self.weightDecay = weightDecay
  }
}

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
  /// defaults. Unknown names are errors.
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
      if let value = given.first(where: { $0.name == option.name })?.value {
        entries.append((option.name, try option.validate(value, field: option.flagName)))
      } else {
        entries.append((option.name, option.defaultValue))
      }
    }
    return MethodOptionValues(entries)
  }
}

/// The table of training methods: name → descriptor.
///
/// ``shared`` starts with ``builtInMethods``; tests and plug-ins may ``register(_:)`` more.
public final class TrainingMethodRegistry: Sendable {
  private let storage: Mutex<[TrainingMethodDescriptor]>

  public init(_ methods: [TrainingMethodDescriptor]) {
    storage = Mutex(methods)
  }

  /// The registry `snn train` and `snn evaluate` use.
  public static let shared = TrainingMethodRegistry(builtInMethods)

  /// The method names the design plans for (DESIGN.md); used only to word errors.
  public static let plannedMethods = ["bptt", "lsg", "rate", "ndot", "edbp", "spide"]

  /// Every registered method, in registration order.
  public var methods: [TrainingMethodDescriptor] { storage.withLock { $0 } }
  public var names: [String] { methods.map(\.name) }

  /// The method named `name`, or nil.
  public func descriptor(named name: String) -> TrainingMethodDescriptor? {
    storage.withLock { list in list.first { $0.name == name } }
  }

  /// Adds a method, replacing one of the same name.
  public func register(_ descriptor: TrainingMethodDescriptor) {
    storage.withLock { list in
      if let i = list.firstIndex(where: { $0.name == descriptor.name }) {
        list[i] = descriptor
      } else {
        list.append(descriptor)
      }
    }
  }

  /// The method named `name`; the error lists what is available (and says so plainly when
  /// nothing is).
  public func lookup(_ name: String, field: String = "--method") throws(ConfigurationError)
    -> TrainingMethodDescriptor
  {
    if let d = descriptor(named: name) { return d }
    let available = names
    if available.isEmpty {
      let planned = TrainingMethodRegistry.plannedMethods.contains(name)
      throw .invalid(
        field: field, value: name,
        expected: "one of the available training methods, but this build has none yet"
          + (planned ? " ('\(name)' is planned, not implemented)" : ""))
    }
    throw .unknown(field: "training method (\(field))", value: name, allowed: available)
  }
}

extension TrainingMethodRegistry {
  /// The methods built into the library. A method adds itself here, in one line:
  /// `BPTTMethod.descriptor,`.
  public static let builtInMethods: [TrainingMethodDescriptor] = []
}
