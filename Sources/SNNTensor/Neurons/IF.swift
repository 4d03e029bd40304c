import SNNBase

/// Multi-step integrate-and-fire neurons: ``LIF`` with H[t] = V[t−1] + I[t] (no leak).
/// All options (reset, detaching, surrogate, primitive mode, state carry) are those of the
/// wrapped ``neuron``.
public final class IF: DenseLayer {
  /// The underlying neuron layer with `charge == .integrate`.
  public let neuron: LIF

  public init(
    name: String = "if", vThreshold: Float = 1, reset: LIF.Reset = .hard, vReset: Float = 0,
    detachReset: Bool = false, detachMembrane: Bool = false,
    surrogate: Surrogate = .sigmoid(alpha: 4), threads: Int = Parallel.defaultThreads
  ) {
    neuron = LIF(
      name: name, charge: .integrate, vThreshold: vThreshold, reset: reset, vReset: vReset,
      detachReset: detachReset, detachMembrane: detachMembrane, surrogate: surrogate,
      threads: threads)
  }

  public var name: String { neuron.name }
  public var isTraining: Bool {
    get { neuron.isTraining }
    set { neuron.isTraining = newValue }
  }
  public func forward(_ input: Tensor) -> Tensor { neuron.forward(input) }
  public func backward(_ gradOutput: Tensor) -> Tensor { neuron.backward(gradOutput) }
}
