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
