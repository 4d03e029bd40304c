import SNNBase
import Synchronization

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
  public static let builtInMethods: [TrainingMethodDescriptor] = [
    BPTTMethod.descriptor,
    LSGMethod.descriptor,
    RateMethod.descriptor,
    OnlineMethods.ndotDescriptor,
    OnlineMethods.otttDescriptor,
    EDBPMethod.descriptor,
    SPIDEMethod.descriptor,
  ]
}
