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
