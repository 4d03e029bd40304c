/// The folder that holds the datasets (`mnist/`, `fashion-mnist/`, `nmnist/`, ...).
///
/// Resolution order: an explicit folder (the command line's `--data DIR`), else the
/// environment variable `SNN_DATA`, else `~/.snn/data`. The chosen source is remembered so
/// that a "dataset not found" message can say where the folder came from and how to change
/// it.
public struct DataRoot: Sendable, Equatable, CustomStringConvertible {
  /// Where the folder came from.
  public enum Source: String, Sendable, Equatable {
    case explicit = "--data"
    case environment = "SNN_DATA"
    case defaultLocation = "default"
  }

  /// The environment variable consulted when no folder is given explicitly.
  public static let environmentVariable = "SNN_DATA"

  /// The folder, without trailing slashes.
  public var path: String
  /// How the folder was chosen.
  public var source: Source

  /// A data folder at `path` (trailing slashes are removed).
  public init(path: String, source: Source = .explicit) {
    self.path = DataRoot.trimmingTrailingSlashes(path)
    self.source = source
  }

  /// Resolves the data folder: `explicit` if given and non-empty, else `SNN_DATA`, else
  /// `$HOME/.snn/data`.
  public static func resolve(explicit: String?, environment: [String: String]) -> DataRoot {
    if let explicit, !explicit.isEmpty { return DataRoot(path: explicit, source: .explicit) }
    if let value = environment[environmentVariable], !value.isEmpty {
      return DataRoot(path: value, source: .environment)
    }
    let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "."
    return DataRoot(path: trimmingTrailingSlashes(home) + "/.snn/data", source: .defaultLocation)
  }

  /// `path/component`.
  public func appending(_ component: String) -> String { path + "/" + component }

  /// How the folder was chosen, for messages: "set by --data", "set by SNN_DATA", ...
  public var sourceDescription: String {
    switch source {
    case .explicit: return "given with --data"
    case .environment: return "from the SNN_DATA environment variable"
    case .defaultLocation: return "the default (neither --data nor SNN_DATA is set)"
    }
  }

  public var description: String { "\(path) (\(sourceDescription))" }

  static func trimmingTrailingSlashes(_ path: String) -> String {
    var p = path
    while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
    return p
  }
}
