/// A trainable tensor with its accumulated gradient.
///
/// Layers own their parameters; optimizers hold references to the same objects. Gradients
/// accumulate (`+=`) across `backward` calls until ``zeroGradient()``.
public final class Parameter {
  /// What a parameter is, so that optimizers can treat groups differently (e.g. no weight
  /// decay on normalization or neuron parameters).
  public enum Role: String, Sendable, Hashable, CaseIterable {
    /// Synaptic weights (linear, conv).
    case weight
    /// Additive biases.
    case bias
    /// Normalization scale/shift (BatchNorm γ, β).
    case normalization
    /// Neuron parameters (LSG's leak logit b).
    case neuron
  }

  /// A dotted name unique within a model, e.g. `"fc1.weight"` (layers use their own name).
  public var name: String
  public let role: Role
  public var value: Tensor
  /// ∂L/∂value, same shape as `value`.
  public var gradient: Tensor

  public init(name: String, role: Role, value: Tensor) {
    self.name = name
    self.role = role
    self.value = value
    self.gradient = Tensor(shape: value.shape)
  }

  /// Sets the gradient to zero (keeps its storage).
  public func zeroGradient() { gradient.fill(0) }
}

/// A layer of the dense backend: a multi-step map over time-major tensors with a
/// hand-written backward pass.
///
/// `forward` caches what `backward` needs (inputs, masks, membrane potentials); `backward`
/// takes ∂L/∂output of the most recent forward, accumulates parameter gradients, and
/// returns ∂L/∂input. There is no autograd tape: each layer's derivative sits next to its
/// forward in the same file and is checked against finite differences in the tests.
public protocol DenseLayer: AnyObject {
  /// A short name used for parameter names and diagnostics.
  var name: String { get }
  /// The layer's trainable parameters (empty for parameter-free layers).
  var parameters: [Parameter] { get }
  /// Training mode (dropout active, batch statistics) versus evaluation mode.
  var isTraining: Bool { get set }
  /// Maps `[T, B, …]` to `[T, B, …]`, caching what backward needs.
  func forward(_ input: Tensor) -> Tensor
  /// Given ∂L/∂output of the last forward, accumulates parameter gradients and returns
  /// ∂L/∂input.
  func backward(_ gradOutput: Tensor) -> Tensor
}

extension DenseLayer {
  public var parameters: [Parameter] { [] }
}

/// Layers applied in order; backward runs them in reverse.
public final class Sequential: DenseLayer {
  public let name: String
  public private(set) var layers: [any DenseLayer]

  public init(name: String = "sequential", _ layers: [any DenseLayer]) {
    self.name = name
    self.layers = layers
  }

  public var parameters: [Parameter] { layers.flatMap { $0.parameters } }

  public var isTraining: Bool {
    get { layers.first?.isTraining ?? true }
    set { for l in layers { l.isTraining = newValue } }
  }

  public func forward(_ input: Tensor) -> Tensor {
    var x = input
    for l in layers { x = l.forward(x) }
    return x
  }

  public func backward(_ gradOutput: Tensor) -> Tensor {
    var g = gradOutput
    for l in layers.reversed() { g = l.backward(g) }
    return g
  }

  /// Sets every parameter gradient to zero.
  public func zeroGradients() { for p in parameters { p.zeroGradient() } }
}
