/// Global gradient-norm clipping.
public enum GradientClipping {
  /// The Euclidean norm of all gradients together, √Σ_p Σ_i g², accumulated in Double in
  /// parameter order.
  public static func globalNorm(_ parameters: [Parameter]) -> Double {
    var s = 0.0
    for p in parameters { s += p.gradient.squaredNorm }
    return s.squareRoot()
  }

  /// Scales all gradients by maxNorm/(norm + 1e-6) when their global norm exceeds
  /// `maxNorm` (PyTorch's `clip_grad_norm_`). Returns the norm before clipping.
  @discardableResult
  public static func clipGlobalNorm(_ parameters: [Parameter], maxNorm: Double) -> Double {
    precondition(maxNorm > 0, "maxNorm must be positive")
    let norm = globalNorm(parameters)
    if norm > maxNorm {
      let factor = Float(maxNorm / (norm + 1e-6))
      for p in parameters { p.gradient.scale(by: factor) }
    }
    return norm
  }
}
