import SNNBase

/// The neurons of SPIDE (Xiao et al. 2023): integrate-and-fire (or leaky) neurons with a
/// reset by subtraction in the forward phase, and ternary "neuron couples" in the backward
/// phase.
///
/// **Forward** (per step t = 1…T, potential u, input current I[t], spike s[t] ∈ {0, 1}):
///
///     u ← u + I[t];   s[t] = Θ(u − V_th);   u ← u − q·s[t];   (LIF: u ← λ·u)
///
/// with q = V_th − u_rest. SPIDE's modified reset (the default) uses u_rest = −V_th, so
/// q = 2·V_th: the neuron fires at V_th but subtracts 2·V_th, which turns the rate's
/// flooring quantizer into a rounding one (error ≤ 1/(2T) instead of 1/T). IDE's reset
/// (`u_rest = 0`, q = V_th) is an option. The rate a = (1/T)·Σ s[t] (LIF: the λ-weighted
/// mean Σ λ^{T−t} s[t] / Σ λ^{T−t}) approaches σ(I/q) for a constant current I, with
/// σ = clip to [0, 1].
///
/// **Backward** (per step t = 1…T_b, potential v, input J[t], spike z[t] ∈ {−A, 0, +A}):
///
///     v ← v + J[t];   z[t] = A·(Θ(v − V_b) − Θ(−v − V_b));   v ← v − z[t];   (LIF: v ← λ·v)
///
/// with A = V_b − u_rest,b = 2·V_b. The rate β = (1/T_b)·Σ z[t] approaches J while
/// |J| < A and saturates at ±A beyond.
public struct SPIDENeuronModel: Hashable, Sendable {
  /// How the forward neuron resets after a spike.
  public enum Reset: String, Hashable, Sendable, CaseIterable {
    /// SPIDE: u_rest = −V_th, subtract q = 2·V_th (rounding quantizer).
    case spide
    /// IDE: u_rest = 0, subtract q = V_th (flooring quantizer).
    case ide
  }

  /// Firing threshold V_th of the forward neurons (> 0).
  public var vThreshold: Double
  public var reset: Reset
  /// Leak factor λ per step in (0, 1]; 1 is the non-leaky IF neuron.
  public var leak: Double
  /// Threshold V_b of the ternary backward neurons (> 0); the spike amplitude is A = 2·V_b.
  public var vBackward: Double

  public init(
    vThreshold: Double = 1, reset: Reset = .spide, leak: Double = 1, vBackward: Double = 0.5
  ) {
    self.vThreshold = vThreshold
    self.reset = reset
    self.leak = leak
    self.vBackward = vBackward
  }

  /// u_rest: −V_th (SPIDE) or 0 (IDE).
  public var uRest: Double { reset == .spide ? -vThreshold : 0 }
  /// q = V_th − u_rest, the amount subtracted at a spike and the scale of the equilibrium
  /// map a = σ(I/q).
  public var q: Double { vThreshold - uRest }
  /// The ternary spike amplitude A = V_b − u_rest,b = 2·V_b.
  public var amplitude: Double { 2 * vBackward }
  /// Whether the neuron is leaky (λ < 1).
  public var isLeaky: Bool { leak < 1 }

  /// Throws unless the thresholds are positive and λ ∈ (0, 1]; errors name the field with
  /// `prefix`.
  public func validate(prefix: String = "") throws(ConfigurationError) {
    try ConfigurationError.requirePositive(vThreshold, prefix + "vThreshold")
    try ConfigurationError.requirePositive(vBackward, prefix + "vBackward")
    guard leak.isFinite, leak > 0, leak <= 1 else {
      throw .invalid(field: prefix + "leak", value: "\(leak)", expected: "a number in (0, 1]")
    }
  }
}
