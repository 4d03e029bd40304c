import SNNBase

/// The discrete-time leaky integrate-and-fire neuron of the training methods, on an integer
/// step grid:
///
///     V[t] = λ·V[t−1] + I + Σ_i w_i·s_i[t]        S[t] = Θ(V[t] − V_th), Θ(0) = 1
///
/// then a hard reset (V[t] = V_reset) or a soft one (V[t] −= V_th − V_reset) after a spike,
/// and `refractorySteps` steps during which inputs are ignored and V stays at the reset
/// value. λ = 1 is the non-leaky IF neuron. `I` is a constant drive per step (per neuron in
/// a ``GridNetwork``: an analog input current computed once, e.g. an image through the
/// first layer's weights).
public enum GridLIF {
  public enum Reset: Hashable, Sendable {
    case hard
    case subtract
  }

  public struct Parameters: Hashable, Sendable {
    /// Leak factor per step λ in (0, 1] (λ = e^{−Δt/τ_m}; 1 for IF).
    public var leak: Double
    public var vThreshold: Double
    public var vReset: Double
    public var reset: Reset
    public var refractorySteps: Int

    public init(leak: Double = 0.5, vThreshold: Double = 1, vReset: Double = 0, reset: Reset = .hard, refractorySteps: Int = 0) {
      self.leak = leak
      self.vThreshold = vThreshold
      self.vReset = vReset
      self.reset = reset
      self.refractorySteps = refractorySteps
    }

    public func validate(prefix: String = "") throws(ConfigurationError) {
      guard leak > 0 && leak <= 1 else {
        throw .invalid(field: prefix + "leak", value: "\(leak)", expected: "a number in (0, 1]")
      }
      try ConfigurationError.requireFinite(vThreshold, prefix + "vThreshold")
      try ConfigurationError.requireFinite(vReset, prefix + "vReset")
      guard vReset < vThreshold else {
        throw .invalid(field: prefix + "vReset", value: "\(vReset)", expected: "a value below vThreshold (\(vThreshold))")
      }
      guard refractorySteps >= 0 else {
        throw .invalid(field: prefix + "refractorySteps", value: "\(refractorySteps)", expected: "an integer ≥ 0")
      }
    }
  }

  /// V after `k` steps without input from `v` with drive `drive`:
  /// λ^k·v + drive·(1 + λ + … + λ^{k−1}).
  @inlinable
  public static func advance(_ v: Double, steps k: Int, leak: Double, drive: Double) -> Double {
    if k == 0 { return v }
    if leak == 1 { return v + Double(k) * drive }
    let lk = power(leak, k)
    return lk * v + drive * (1 - lk) / (1 - leak)
  }

  /// λ^k by repeated squaring (exact for the same inputs on every platform).
  @inlinable
  public static func power(_ x: Double, _ k: Int) -> Double {
    var result = 1.0, base = x, e = k
    while e > 0 {
      if e & 1 == 1 { result *= base }
      base *= base
      e >>= 1
    }
    return result
  }

  /// The first step k ≥ 1 at which V, started at `v` (< V_th) and driven by `drive` alone,
  /// reaches the threshold; nil when it never does. Solved in closed form, then confirmed
  /// by evaluating ``advance(_:steps:leak:drive:)`` around the estimate.
  public static func stepsToThreshold(from v: Double, leak: Double, drive: Double, threshold: Double) -> Int? {
    if leak == 1 {
      guard drive > 0 else { return nil }
      var k = max(1, Int(((threshold - v) / drive).rounded(.up)))
      while k > 1 && advance(v, steps: k - 1, leak: 1, drive: drive) >= threshold { k -= 1 }
      while advance(v, steps: k, leak: 1, drive: drive) < threshold { k += 1 }
      return k
    }
    let limit = drive / (1 - leak)
    // V_k = L + λ^k (v − L) moves monotonically toward L.
    guard limit > threshold else { return nil }
    let ratio = (limit - threshold) / (limit - v)
    var k = max(1, Int((Math.portableLog(ratio) / Math.portableLog(leak)).rounded(.up)))
    while k > 1 && advance(v, steps: k - 1, leak: leak, drive: drive) >= threshold { k -= 1 }
    while advance(v, steps: k, leak: leak, drive: drive) < threshold { k += 1 }
    return k
  }
}
