import SNNBase

/// SPIDE's cap on the Frobenius norm of the feedback weight, a reparametrization:
///
///     W = W̃ · min(‖W̃‖_F, c) / ‖W̃‖_F
///
/// where the trained parameter is W̃ and the network uses W. As in the reference code the
/// norm is *estimated* afresh before every forward pass from `projections` Gaussian
/// probes: with W̃ viewed as a matrix `[shape[0], rest]` and v_k ~ N(0, I),
/// `‖W̃‖_F² ≈ (1/K)·Σ_k ‖v_kᵀ W̃‖² (+10⁻¹²)` (unbiased: E‖vᵀW̃‖² = ‖W̃‖_F²). With
/// `projections == 0` the exact norm is used. The factor min(‖W̃‖, c)/‖W̃‖ is treated as a
/// constant in the backward pass: ∂L/∂W̃ = factor·∂L/∂W.
///
/// With the exact norm (the default: it costs one pass over W̃, K times less than the
/// estimate), ‖W‖_F ≤ c holds to rounding, and since ‖W‖₂ ≤ ‖W‖_F the feedback loop of the
/// equilibrium map (Lipschitz ‖W‖₂/q with q = 2) does not expand. With the estimate, ‖W‖_F
/// exceeds c by the estimator's relative error, which is large when W̃ has few rows (for a
/// transposed-convolution weight `[srcC, tgtC, k, k]` with 2 source channels, ‖W‖_F reached
/// 2.48 and ‖W‖₂/q 1.11 in the tests), so the cap then guarantees nothing.
public struct FeedbackNormCap: Equatable, Sendable {
  /// The cap c (SPIDE: 2).
  public var cap: Double
  /// Gaussian probes K (the reference code: 64); 0 for the exact norm.
  public var projections: Int

  public init(cap: Double = 2, projections: Int = 0) {
    precondition(cap > 0 && projections >= 0)
    self.cap = cap
    self.projections = projections
  }

  /// The norm of `weights` viewed as `[rows, weights.count / rows]`: estimated with
  /// ``projections`` probes drawn from `generator`, or exact.
  public func norm(
    _ weights: [Float], rows: Int, using generator: inout some RandomNumberGenerator
  ) -> Double {
    precondition(rows > 0 && weights.count % rows == 0)
    if projections == 0 {
      var s = 0.0
      for w in weights { s += Double(w) * Double(w) }
      return s.squareRoot()
    }
    let columns = weights.count / rows
    var total = 0.0
    var row = [Double](repeating: 0, count: columns)
    var probe = [Double](repeating: 0, count: rows)
    weights.withUnsafeBufferPointer { w in
      for _ in 0..<projections {
        for r in 0..<rows { probe[r] = generator.nextNormal() }
        for j in 0..<columns { row[j] = 0 }
        for r in 0..<rows {
          let v = probe[r]
          let base = r * columns
          for j in 0..<columns { row[j] += v * Double(w[base + j]) }
        }
        for j in 0..<columns { total += row[j] * row[j] }
      }
    }
    return (total / Double(projections) + 1e-12).squareRoot()
  }

  /// The factor min(‖W̃‖, c)/‖W̃‖ for the given norm (1 for a zero weight).
  public func factor(norm: Double) -> Double {
    norm > 0 ? min(norm, cap) / norm : 1
  }
}
