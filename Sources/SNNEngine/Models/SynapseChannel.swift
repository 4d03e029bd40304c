/// How a synaptic input acts on a neuron's membrane.
public enum SynapseChannel: Hashable, Sendable {
  /// The weight (mV) is added to the membrane potential at once.
  case delta
  /// The weight (mV) is added to a current g that decays with time constant `tau` (ms) and
  /// drives the membrane: `τ_m dV/dt = … + g`, `dg/dt = −g/τ`.
  case exponential(tau: Double)

  public var name: String {
    switch self {
    case .delta: return "delta"
    case .exponential(let tau): return "exponential(tau: \(tau) ms)"
    }
  }
}
