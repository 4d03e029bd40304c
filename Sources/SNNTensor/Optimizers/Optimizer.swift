/// Parameters that share optimizer options.
public struct ParameterGroup {
  public var parameters: [Parameter]
  /// λ of the group's weight decay (coupled L2 for SGD/Adam, decoupled for AdamW).
  public var weightDecay: Float
  /// Multiplies the optimizer's learning rate for this group.
  public var learningRateScale: Float

  public init(parameters: [Parameter], weightDecay: Float = 0, learningRateScale: Float = 1) {
    precondition(weightDecay >= 0 && learningRateScale >= 0, "group options must be non-negative")
    self.parameters = parameters
    self.weightDecay = weightDecay
    self.learningRateScale = learningRateScale
  }

  /// Two groups: parameters with a role in `decayed` get `weightDecay`, the others none
  /// (the usual recipe: decay conv/linear weights, not biases, BatchNorm or LSG's b).
  public static func split(
    _ parameters: [Parameter], weightDecay: Float, decayed: Set<Parameter.Role> = [.weight]
  ) -> [ParameterGroup] {
    [
      ParameterGroup(
        parameters: parameters.filter { decayed.contains($0.role) }, weightDecay: weightDecay),
      ParameterGroup(parameters: parameters.filter { !decayed.contains($0.role) }, weightDecay: 0),
    ]
  }
}

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

/// Gradient-descent optimizers over parameter groups.
public protocol Optimizer: AnyObject {
  var groups: [ParameterGroup] { get }
  /// The base learning rate (a schedule sets it before each step).
  var learningRate: Float { get set }
  /// Updates taken so far.
  var stepCount: Int { get }
  /// Applies one update from the accumulated gradients.
  func step()
  func exportState() -> OptimizerState
  func importState(_ state: OptimizerState) throws(OptimizerStateError)
}

extension Optimizer {
  /// Every parameter of every group, in order.
  public var allParameters: [Parameter] { groups.flatMap { $0.parameters } }

  /// Sets every gradient to zero.
  public func zeroGradients() { for p in allParameters { p.zeroGradient() } }

  func validate(_ state: OptimizerState, kind: String, slots: Int) throws(OptimizerStateError) {
    guard state.kind == kind else { throw .kindMismatch(expected: kind, found: state.kind) }
    guard state.stepCount >= 0 else { throw .negativeStepCount(state.stepCount) }
    let params = allParameters
    guard state.buffers.count == slots * params.count else {
      throw .bufferCount(expected: slots * params.count, found: state.buffers.count)
    }
    for (i, b) in state.buffers.enumerated() {
      let expected = params[i % params.count].value.count
      guard b.count == expected else {
        throw .bufferSize(index: i, expected: expected, found: b.count)
      }
    }
  }
}

/// Global gradient-norm clipping.
public enum GradientClipping {
  /// The Euclidean norm of all gradients together, √Σ_p Σ_i g², accumulated in Double in
  /// parameter order.
  public static func globalNorm(_ parameters: [Parameter]) -> Double {
    var s = 0.0
    for p in parameters { s += p.gradient.squaredNorm }
    return s.squareRoot()
  }

  /// Scales all gradients by maxNorm/(norm + 1e-6) when their global norm exceeds
  /// `maxNorm` (PyTorch's `clip_grad_norm_`). Returns the norm before clipping.
  @discardableResult
  public static func clipGlobalNorm(_ parameters: [Parameter], maxNorm: Double) -> Double {
    precondition(maxNorm > 0, "maxNorm must be positive")
    let norm = globalNorm(parameters)
    if norm > maxNorm {
      let factor = Float(maxNorm / (norm + 1e-6))
      for p in parameters { p.gradient.scale(by: factor) }
    }
    return norm
  }
}
