import SNNBase

/// Exact threshold-crossing prediction for trajectories that are sums of exponentials.
///
/// Between events, an LIF membrane with exponential synaptic currents follows
/// `f(τ) = V(t₀ + τ) − V_th = c₀ + a·e^{−r_m τ} + Σ_k b_k·e^{−r_k τ}`. Each term is monotone
/// in τ, so on any interval `[x, y]` a term lies between its values at `x` and `y`: that
/// gives a rigorous upper bound on f over the interval (proving "no crossing here") and a
/// lower bound on f′ (proving "one crossing here"). ``firstCrossing(from:)`` subdivides in
/// time order until every piece is either excluded or holds exactly one root, which a
/// bracketed Newton iteration then finds to about 1e-13 ms. The first crossing is never
/// skipped, including near-tangential ones.
public struct ThresholdCrossing: Sendable {
  /// The constant term c₀ = V_∞ − V_th.
  public var constant: Double
  /// Coefficients of `e^{−rates[i] τ}` (lane 4 is the membrane term, lanes 0–3 channels).
  public var coefficients: SIMD8<Double>
  public var rates: SIMD8<Double>

  /// f(τ) = c₀ + a·e^{−r_m τ} + Σ_k b_k·e^{−r_k τ}.
  public init(constant: Double, membrane a: Double, rateMem: Double, channels b: SIMD4<Double>, channelRates: SIMD4<Double>) {
    self.constant = constant
    coefficients = SIMD8(lowHalf: b, highHalf: SIMD4(a, 0, 0, 0))
    rates = SIMD8(lowHalf: channelRates, highHalf: SIMD4(rateMem, 0, 0, 0))
  }

  /// The result of a search.
  public enum Outcome: Equatable, Sendable {
    /// The first crossing, at local time τ.
    case crossing(Double)
    /// f < 0 for all τ ≥ the start: no crossing without further input.
    case never
    /// No crossing before local time τ, which lies beyond the search horizon; search again
    /// from there.
    case noneBefore(Double)
  }

  /// The terms at τ.
  @inlinable
  func terms(_ tau: Double) -> SIMD8<Double> {
    let low = coefficients.lowHalf * Math.portableExp(-rates.lowHalf * tau)
    let membrane = coefficients[4] * Math.portableExp(-rates[4] * tau)
    return SIMD8(lowHalf: low, highHalf: SIMD4(membrane, 0, 0, 0))
  }

  @inlinable
  public func value(_ tau: Double) -> Double { constant + terms(tau).sum() }

  @inlinable
  public func derivative(_ tau: Double) -> Double { -(terms(tau) * rates).sum() }

  /// The first τ ≥ `start` with f(τ) ≥ 0. Requires f(τ) < 0 on [0, start) (the caller's
  /// lower bound); f(start) ≥ 0 returns `start`. Searches up to `horizon` past `start`.
  public func firstCrossing(from start: Double, horizon: Double = 1e7) -> Outcome {
    var x = start
    var tx = terms(x)
    if constant + tx.sum() >= 0 { return .crossing(x) }
    // Step length: the fastest time scale, doubled while nothing is found.
    var step = 1 / max(rates.max(), 1e-12)
    let end = start + horizon
    while x < end {
      // Upper bound of f over [x, ∞): each term decays toward 0.
      let tailBound = constant + tx.replacing(with: 0, where: tx .< 0).sum()
      if tailBound < 0 { return .never }
      let y = min(x + step, end)
      let ty = terms(y)
      if let root = search(x, y, tx, ty, depth: 0) { return .crossing(root) }
      x = y
      tx = ty
      step *= 2
    }
    return .noneBefore(x)
  }

  /// The first root in (x, y], or nil when f < 0 throughout.
  func search(_ x: Double, _ y: Double, _ tx: SIMD8<Double>, _ ty: SIMD8<Double>, depth: Int) -> Double? {
    let upper = constant + pointwiseMax(tx, ty).sum()
    if upper < 0 { return nil }
    let fy = constant + ty.sum()
    // f′ = −Σ r_i·term_i; each −r_i·term_i is monotone too.
    let slopeLower = pointwiseMin(-(tx * rates), -(ty * rates)).sum()
    if fy >= 0 && slopeLower > 0 {
      return refine(x, y, constant + tx.sum())
    }
    let mid = x + (y - x) * 0.5
    if depth > 80 || mid <= x || mid >= y {
      return fy >= 0 ? y : nil
    }
    let tm = terms(mid)
    if constant + tm.sum() >= 0 {
      // A crossing lies in (x, mid]: find the first one there.
      return search(x, mid, tx, tm, depth: depth + 1) ?? mid
    }
    if let root = search(x, mid, tx, tm, depth: depth + 1) { return root }
    return search(mid, y, tm, ty, depth: depth + 1)
  }

  /// The unique root of an increasing f in (lo, hi] with f(lo) < 0 ≤ f(hi): Newton steps
  /// kept inside the bracket, bisection when a step would leave it; stops when a step is
  /// below ~1e-15 relative (a few ulps of the time).
  func refine(_ lo0: Double, _ hi0: Double, _ flo0: Double) -> Double {
    var lo = lo0, hi = hi0
    var t = lo
    var ft = flo0
    var slope = derivative(lo)
    for _ in 0..<64 {
      var next = t - ft / slope
      if !(next > lo && next < hi) || !(slope > 0) { next = lo + (hi - lo) * 0.5 }
      let step = abs(next - t)
      t = next
      let tt = terms(t)
      ft = constant + tt.sum()
      slope = -(tt * rates).sum()
      if ft >= 0 { hi = t } else { lo = t }
      if ft == 0 || step <= 4 * Double.ulpOfOne * max(1, abs(t)) || hi - lo <= 4 * Double.ulpOfOne * max(1, abs(hi)) {
        break
      }
    }
    return t
  }
}
