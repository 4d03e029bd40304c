import SNNBase

/// The fixed-point arithmetic of the SPIDE phases.
///
/// Every potential, weight, threshold and drive of layer l is an `Int32` in units of
/// 2^−s_l, with s_l chosen per layer so that no potential can leave ±2^30 during a phase
/// (the bound below). Integer addition is exact and associative, so the order in which
/// events arrive never changes a bit of the result: the event-driven phases, a dense
/// per-step reference and any thread count give the same integer spike counts. An IF
/// neuron's idle steps advance in closed form, `v + k·c`, which equals k single-step
/// additions exactly.
///
/// **Bound.** With M_l the largest input one step of spikes can bring (``SPIDEProjection/
/// maximumTargetInput()``), the drive is clamped to [−(M_l + V_th), q + M_l + V_th]. The
/// clamp changes no spike: a drive ≥ q + M_l fires at every step whatever the other input,
/// one ≤ −M_l never fires (induction on the potential). Then |u| ≤ V_th + q + T·(2q + 2M_l
/// + V_th), and s_l = ⌊log₂(2^30 / bound)⌋, at most 24. The backward phase uses the same
/// construction with A, V_b and T_b; its drive g is clamped to ±(A + M_b + V_b), beyond
/// which the ternary neuron fires +A (or −A) at every step anyway.
public enum SPIDEFixedPoint {
  /// The largest fractional bit count used.
  public static let maximumShift = 24
  /// The smallest accepted: weights this large mean training has diverged.
  public static let minimumShift = 6

  /// s = ⌊log₂(2^30 / bound)⌋ clamped to ``maximumShift``; nil when below
  /// ``minimumShift`` or the bound is not finite.
  public static func shift(forBound bound: Double) -> Int? {
    guard bound.isFinite, bound > 0 else { return nil }
    var s = maximumShift
    while s >= minimumShift && bound * Double(1 << s) > Double(1 << 30) { s -= 1 }
    return s >= minimumShift ? s : nil
  }

  /// `x · 2^s` rounded to the nearest integer (ties away from zero).
  @inlinable
  public static func quantize(_ x: Double, shift s: Int) -> Int32 {
    Int32((x * Double(1 << s)).rounded())
  }

  /// `x · 2^s` rounded, for a whole array.
  public static func quantize(_ x: [Float], scale: Double, shift s: Int) -> [Int32] {
    let factor = scale * Double(1 << s)
    return x.map { Int32((Double($0) * factor).rounded()) }
  }

  /// λ as a 2^−30 fixed-point multiplier.
  @inlinable
  public static func leakMultiplier(_ leak: Double) -> Int64 { Int64((leak * 1_073_741_824).rounded()) }

  /// `round(λ·v)` in fixed point: `(v·L + 2^29) >> 30` (ties toward +∞). Exact and the
  /// same on every platform.
  @inlinable
  public static func leak(_ v: Int32, _ multiplier: Int64) -> Int32 {
    Int32(truncatingIfNeeded: (Int64(v) &* multiplier &+ (1 << 29)) >> 30)
  }

  /// A lower bound of the first idle step k ≥ 1 at which a leaky neuron with potential `v`
  /// and drive `c` per step (pre = w + c; w ← round(λ·pre)) can reach `theta` (+∞ when it
  /// cannot). The rounded trajectory stays below the envelope U_k = U∞ + λ^k (v − U∞) with
  /// U∞ = (λc + ½)/(1 − λ) (each rounding adds at most ½ unit), so the first k with
  /// U_{k−1} + c ≥ θ comes no later than the true crossing; the phases evaluate the neuron
  /// then and predict again if it did not fire.
  public static func leakyStepsToReach(_ theta: Int32, from v: Int32, drive c: Int32, leak: Double)
    -> Float
  {
    let (vd, cd, th) = (Double(v), Double(c), Double(theta))
    if vd + cd >= th { return 1 }
    let uInf = (leak * cd + 0.5) / (1 - leak)
    if uInf + cd < th { return .infinity }
    let r = (uInf + cd - th) / (uInf - vd)
    if !(r > 0) { return .infinity }
    let k = 1 + (Math.log(r) / Math.log(leak) - 1e-6).rounded(.down)
    return Float(max(1, k))
  }
}
