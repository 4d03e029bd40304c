/// An optimizer's complete state as flat Float arrays, for checkpoints.
///
/// `buffers` lists, slot by slot, one array per parameter in group order (SGD: the momentum
/// buffers; Adam/AdamW: first moments, then second moments). Importing the exported state
/// into an optimizer built over the same parameters continues bit for bit.
public struct OptimizerState: Equatable, Sendable {
  /// "sgd", "adam" or "adamw".
  public var kind: String
  /// Updates taken so far (Adam's bias correction and SGD's buffer initialization use it).
  public var stepCount: Int
  public var buffers: [[Float]]

  public init(kind: String, stepCount: Int, buffers: [[Float]]) {
    self.kind = kind
    self.stepCount = stepCount
    self.buffers = buffers
  }
}

/// A checkpointed optimizer state that does not fit the optimizer it is loaded into.
public enum OptimizerStateError: Error, Equatable, Sendable, CustomStringConvertible {
  case kindMismatch(expected: String, found: String)
  case bufferCount(expected: Int, found: Int)
  case bufferSize(index: Int, expected: Int, found: Int)
  case negativeStepCount(Int)

  public var description: String {
    switch self {
    case .kindMismatch(let e, let f): return "optimizer state is for '\(f)', expected '\(e)'"
    case .bufferCount(let e, let f): return "optimizer state has \(f) buffers, expected \(e)"
    case .bufferSize(let i, let e, let f):
      return "optimizer state buffer \(i) has \(f) values, expected \(e)"
    case .negativeStepCount(let n): return "optimizer state has a negative step count \(n)"
    }
  }
}
