import SNNBase

/// The spike-response neuron of Zhu et al. (NeurIPS 2022, "event-driven backpropagation")
/// on the integer step grid, with a double-exponential PSP and a full reset at a spike.
///
/// With θ_m = 1/τ_m, θ_s = 1/τ_s, θ_g = 1/τ_g and the input current I[t] = Σ_i w_i·x_i[t]
/// of step t (x: a binary spike, a pooled spike count, an analog pixel):
///
///     M ← (M + I[t])(1 − θ_m)    S ← (S + I[t])(1 − θ_s)    G ← (G + I[t])(1 − θ_g)
///     u[t] = κ(M − S),  κ = θ_s/(θ_s − θ_m)
///     o[t] = 1[u[t] ≥ ϑ];  on a spike M = S = G = 0
///
/// Equivalently `u[t] = Σ_{r < t' ≤ t} I[t']·ε(t − t' + 1)` with the PSP kernel
/// `ε(k) = κ[(1 − θ_m)^k − (1 − θ_s)^k]` (r the last spike step); ε(1) = θ_s. G is an
/// exponential trace of the input, `G[t] = Σ_{r < t' ≤ t} I[t']·(1 − θ_g)^{t − t' + 1}`;
/// it serves as "du/dt" in the backward pass. Each spike records Δu = u[t] − u[t − 1]
/// (u[t − 1] = 0 right after a spike and before the first step) and G[t].
///
/// Because u keeps rising for a few steps after an input (the PSP peaks at k ≈ 3 for
/// τ_m = 5, τ_s = 3), a neuron can cross threshold at a step without input:
/// ``stepsToThreshold(m:s:propagators:limit:)`` predicts that step from the traces alone.
public enum GridSRM {
  /// Time constants in steps and the threshold.
  public struct Parameters: Hashable, Sendable {
    /// τ_m (steps), the slow PSP component.
    public var tauM: Double
    /// τ_s (steps), the fast PSP component; must differ from τ_m.
    public var tauS: Double
    /// τ_g (steps), the input trace that stands in for du/dt in the backward kernel.
    public var tauG: Double
    /// ϑ, the firing threshold.
    public var threshold: Double

    public init(tauM: Double = 5, tauS: Double = 3, tauG: Double = 2.5, threshold: Double = 1) {
      self.tauM = tauM
      self.tauS = tauS
      self.tauG = tauG
      self.threshold = threshold
    }

    /// Throws unless every time constant is > 1 step (so each decay factor lies in (0, 1)),
    /// τ_m ≠ τ_s and the threshold is positive.
    public func validate(prefix: String = "") throws(ConfigurationError) {
      for (value, name) in [(tauM, "tauM"), (tauS, "tauS"), (tauG, "tauG")] {
        guard value.isFinite, value > 1 else {
          throw .invalid(
            field: prefix + name, value: "\(value)", expected: "a number of steps > 1")
        }
      }
      guard tauM != tauS else {
        throw .invalid(
          field: prefix + "tauS", value: "\(tauS)", expected: "a value different from tauM")
      }
      try ConfigurationError.requirePositive(threshold, prefix + "threshold")
    }
  }

  /// Decay factors and constants derived once from ``Parameters`` (Float, as the training
  /// runs in fp32).
  public struct Propagators: Sendable {
    /// 1 − θ_m, 1 − θ_s, 1 − θ_g.
    public let decayM: Float
    public let decayS: Float
    public let decayG: Float
    /// κ = θ_s/(θ_s − θ_m).
    public let kappa: Float
    public let threshold: Float

    public init(_ p: Parameters) {
      let thetaM = 1 / p.tauM, thetaS = 1 / p.tauS, thetaG = 1 / p.tauG
      decayM = Float(1 - thetaM)
      decayS = Float(1 - thetaS)
      decayG = Float(1 - thetaG)
      kappa = Float(thetaS / (thetaS - thetaM))
      threshold = Float(p.threshold)
    }

    /// The PSP kernel ε(k) = κ[(1 − θ_m)^k − (1 − θ_s)^k] for k ≥ 1 (Double).
    public func epsilon(_ k: Int) -> Double {
      Double(kappa) * (GridLIF.power(Double(decayM), k) - GridLIF.power(Double(decayS), k))
    }

    /// The monotone backward kernel −(1 − θ_g)^k for k ≥ 1 (Double).
    public func backwardKernel(_ k: Int) -> Double { -GridLIF.power(Double(decayG), k) }
  }

  /// The traces of one neuron.
  @frozen public struct Traces: Equatable, Sendable {
    public var m: Float
    public var s: Float
    public var g: Float
    @inlinable public init(m: Float = 0, s: Float = 0, g: Float = 0) {
      self.m = m
      self.s = s
      self.g = g
    }
  }

  /// One step with input `current`: returns u[t] (the traces are updated, not reset).
  @inlinable
  public static func step(_ x: inout Traces, current: Float, _ p: Propagators) -> Float {
    x.m = (x.m + current) * p.decayM
    x.s = (x.s + current) * p.decayS
    x.g = (x.g + current) * p.decayG
    return p.kappa * (x.m - x.s)
  }

  /// `steps` steps without input (each exactly one multiplication per trace, as dense
  /// stepping computes them, so lazy and dense updates agree bit for bit).
  @inlinable
  public static func decay(_ x: inout Traces, steps: Int, _ p: Propagators) {
    var k = 0
    while k < steps {
      x.m *= p.decayM
      x.s *= p.decayS
      x.g *= p.decayG
      k += 1
    }
  }

  /// The number of steps k in 1...limit after which a neuron with traces (m, s) and no
  /// further input first reaches the threshold, or nil.
  ///
  /// u_k = κ(m·a^k − s·b^k) has at most one extremum in k (its derivative vanishes where
  /// (a/b)^k is a constant), so once u_k decreases it never rises above max(u_k, 0) again:
  /// the scan stops there. Values are computed by the same repeated multiplications as
  /// ``decay(_:steps:_:)``, so the predicted step is the step dense stepping fires at.
  @inlinable
  public static func stepsToThreshold(m: Float, s: Float, propagators p: Propagators, limit: Int)
    -> Int?
  {
    // Bound: for k ≥ 1, m·a^k ≤ max(m, 0)·a and −s·b^k ≤ max(−s, 0)·b (κ > 0 when τ_m > τ_s;
    // otherwise skip the bound).
    if p.kappa > 0
      && p.kappa * (max(m, 0) * p.decayM + max(-s, 0) * p.decayS) * 1.00001 < p.threshold
    {
      return nil
    }
    var mk = m, sk = s
    var previous = p.kappa * (m - s)
    var k = 1
    while k <= limit {
      mk *= p.decayM
      sk *= p.decayS
      let u = p.kappa * (mk - sk)
      if u >= p.threshold { return k }
      if u < previous { return nil }
      previous = u
      k += 1
    }
    return nil
  }
}
