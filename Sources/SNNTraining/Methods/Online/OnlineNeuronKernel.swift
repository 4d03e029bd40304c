import SNNBase
import SNNTensor

/// How a presynaptic trace decays from one step to the next: OTTT's constant λ or one of
/// NDOT's data-dependent factors.
public enum PresynapticTraceRule: String, Sendable, CaseIterable {
  /// OTTT (Xiao et al., "Online Training Through Time for Spiking Neural Networks",
  /// NeurIPS 2022): â[t] = λ·â[t−1] + S[t].
  case constant
  /// NDOT as the paper writes it (Jiang et al., "NDOT: Neuronal Dynamics-based Online
  /// Training for Spiking Neural Networks", ICML 2024): â[t] = P·â[t−1] + S[t] with
  /// P = e[t−1] = f(q[t−1]/q[t−2]), q[t] = H[t] − V_th·S[t] (pre-reset potential minus
  /// V_th·S: the ratio of successive post-reset potentials).
  case paper
  /// NDOT as the reference code computes it: P[t] = f((V[t] − V_th·S[t]) /
  /// (V[t−1] − V_th·S[t−1])) with V post-reset (V_th subtracted twice relative to the
  /// paper) and the step-t ratio.
  case reference
  /// NDOT's machinery with the factor fixed at λ (P ≡ λ): identical to ``constant`` by
  /// construction, used to test that NDOT differs from OTTT only in the factor.
  case fixed

  /// f(x) = clamp(x, −λ, λ), and λ where the ratio is not finite or the denominator is 0
  /// (the reference code's `safeDiv` followed by its clip): always in [−λ, λ], never NaN.
  @inlinable @inline(__always)
  public static func factor<S: DenseScalar>(_ numerator: S, _ denominator: S, lambda: S) -> S {
    let ratio = numerator / denominator
    let finite = denominator != 0 && ratio.isFinite
    return finite ? Swift.min(Swift.max(ratio, -lambda), lambda) : lambda
  }
}

/// One time step of the online methods' forward pass (OTTT, NDOT) for a range of neurons:
/// the LIF update with the previous membrane detached, and the presynaptic trace.
///
///     H[t] = λ·stopgrad(V[t−1]) + I[t],  S[t] = Θ(H[t] − V_th),
///     V[t] = H[t] − V_th·S[t] (soft) or H[t]·(1 − S[t]) + V_reset·S[t] (hard),
///     â[t] = P[t]·â[t−1] + S[t]          (P per ``PresynapticTraceRule``)
///
/// H[t] is kept for the same step's backward pass, δI[t] = δS[t]·h(H[t] − V_th); nothing
/// links the steps in backward. NDOT keeps one (reference) or two (paper) previous values
/// of q per neuron. V[−1] is 0 (soft) or V_reset (hard), â[−1] = 0, q[−1] = q[−2] = 0 (so
/// the first factors read a zero denominator and fall back to λ).
@frozen
public struct OnlineNeuronKernel<S: DenseScalar>: Sendable {
  public var leak: S
  public var vThreshold: S
  public var vReset: S
  public var hardReset: Bool
  public var rule: PresynapticTraceRule

  @inlinable
  public init(leak: S, vThreshold: S, vReset: S = 0, hardReset: Bool, rule: PresynapticTraceRule)
  {
    self.leak = leak
    self.vThreshold = vThreshold
    self.vReset = vReset
    self.hardReset = hardReset
    self.rule = rule
  }

  /// The membrane value before the first step.
  @inlinable public var restingMembrane: S { hardReset ? vReset : 0 }

  /// One step for the neurons in `range`. `trace` (â) is updated unless nil (evaluation);
  /// `previous` holds q[t−1] and `previous2` q[t−2] (NDOT rules only; `previous2` only
  /// for ``PresynapticTraceRule/paper``).
  @inlinable
  public func step(
    range: Range<Int>, current: UnsafePointer<S>, membrane: UnsafeMutablePointer<S>,
    potential: UnsafeMutablePointer<S>, spikes: UnsafeMutablePointer<S>,
    trace: UnsafeMutablePointer<S>?, previous: UnsafeMutablePointer<S>?,
    previous2: UnsafeMutablePointer<S>?
  ) {
    let a = leak, vth = vThreshold, vr = vReset, hard = hardReset
    guard let trace else {
      for i in range {
        let h = a * membrane[i] + current[i]
        let fired = h >= vth
        let s: S = fired ? 1 : 0
        potential[i] = h
        spikes[i] = s
        membrane[i] = hard ? (fired ? vr : h) : h - vth * s
      }
      return
    }
    switch rule {
    case .constant:
      for i in range {
        let h = a * membrane[i] + current[i]
        let fired = h >= vth
        let s: S = fired ? 1 : 0
        potential[i] = h
        spikes[i] = s
        membrane[i] = hard ? (fired ? vr : h) : h - vth * s
        trace[i] = a * trace[i] + s
      }
    case .fixed, .reference:
      let fixed = rule == .fixed
      let q1 = previous!
      for i in range {
        let h = a * membrane[i] + current[i]
        let fired = h >= vth
        let s: S = fired ? 1 : 0
        let v = hard ? (fired ? vr : h) : h - vth * s
        potential[i] = h
        spikes[i] = s
        membrane[i] = v
        let q = v - vth * s
        let p = fixed ? a : PresynapticTraceRule.factor(q, q1[i], lambda: a)
        trace[i] = p * trace[i] + s
        q1[i] = q
      }
    case .paper:
      let q1 = previous!, q2 = previous2!
      for i in range {
        let h = a * membrane[i] + current[i]
        let fired = h >= vth
        let s: S = fired ? 1 : 0
        potential[i] = h
        spikes[i] = s
        membrane[i] = hard ? (fired ? vr : h) : h - vth * s
        let p = PresynapticTraceRule.factor(q1[i], q2[i], lambda: a)
        trace[i] = p * trace[i] + s
        q2[i] = q1[i]
        q1[i] = h - vth * s
      }
    }
  }
}
