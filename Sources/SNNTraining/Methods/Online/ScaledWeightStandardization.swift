import SNNBase

/// Scaled weight standardization with a learnable gain, as in OTTT's and NDOT's networks
/// (`ScaledWSConv2d`/`ScaledWSLinear`; from the normalizer-free networks of Brock et al.,
/// ICLR 2021): for output unit i with fan-in N,
///
///     Ŵ_ij = g_i·(W_ij − μ_i) / s_i,   s_i = √(N·σ_i² + ε),   ε = 10⁻⁴
///
/// with μ_i the mean and σ_i² the *unbiased* variance (`torch.var`) of row i, so that each
/// row of Ŵ/g has (nearly) unit L2 norm and the layer preserves the variance of its input.
/// The gain g starts at 1.
///
/// **Backward.** With G = ∂L/∂Ŵ and ŵ = (W − μ)/s:
///
///     ∂L/∂g_i  = Σ_j G_ij·ŵ_ij
///     ∂L/∂W_ij = (g_i/s_i)·[G_ij − mean_j G_ij − (N/(N − 1))·ŵ_ij·Σ_k G_ik·ŵ_ik]
///
/// (the derivative through the mean and the variance; tested against finite differences).
/// Statistics and gradients are computed in `Double`. Not to be confused with EDBP's
/// `WeightStandardization` (Zhu et al. 2022: no fan-in scale, a learnable bias).
public struct ScaledWeightStandardization: Sendable {
  /// ε under the square root (the reference's `eps=1e-4`).
  public static let epsilon = 1e-4

  public let rows: Int
  public let fanIn: Int
  /// ŵ per weight and s per row from the last ``standardize(weights:gain:into:)``.
  public private(set) var normalized: [Double]
  public private(set) var scale: [Double]

  public init(rows: Int, fanIn: Int) {
    precondition(rows >= 1 && fanIn >= 2, "weight standardization needs a fan-in of at least 2")
    self.rows = rows
    self.fanIn = fanIn
    normalized = [Double](repeating: 0, count: rows * fanIn)
    scale = [Double](repeating: 1, count: rows)
  }

  /// Ŵ (`[rows, fanIn]`) from W and g into `output`; keeps ŵ and s for the backward pass.
  public mutating func standardize(
    weights w: UnsafeBufferPointer<Float>, gain: UnsafeBufferPointer<Float>,
    into output: UnsafeMutableBufferPointer<Float>
  ) {
    precondition(w.count == rows * fanIn && output.count == w.count && gain.count == rows)
    let n = fanIn
    for r in 0..<rows {
      let row = w.baseAddress! + r * n
      var sum = 0.0
      for j in 0..<n { sum += Double(row[j]) }
      let mean = sum / Double(n)
      var squares = 0.0
      for j in 0..<n {
        let d = Double(row[j]) - mean
        squares += d * d
      }
      let variance = squares / Double(n - 1)
      let s = (Double(n) * variance + Self.epsilon).squareRoot()
      scale[r] = s
      let g = Double(gain[r])
      for j in 0..<n {
        let hat = (Double(row[j]) - mean) / s
        normalized[r * n + j] = hat
        output[r * n + j] = Float(g * hat)
      }
    }
  }

  /// Adds ∂L/∂W and ∂L/∂g for ∂L/∂Ŵ = `gradient` into `gradWeights` and `gradGain`.
  public func backward(
    _ gradient: UnsafeBufferPointer<Float>, gain: UnsafeBufferPointer<Float>,
    gradWeights: UnsafeMutableBufferPointer<Float>, gradGain: UnsafeMutableBufferPointer<Float>
  ) {
    let n = fanIn
    let ratio = Double(n) / Double(n - 1)
    for r in 0..<rows {
      let g = gradient.baseAddress! + r * n
      var sum = 0.0, dot = 0.0
      for j in 0..<n {
        sum += Double(g[j])
        dot += Double(g[j]) * normalized[r * n + j]
      }
      gradGain[r] += Float(dot)
      let mean = sum / Double(n)
      let factor = Double(gain[r]) / scale[r]
      for j in 0..<n {
        let hat = normalized[r * n + j]
        gradWeights[r * n + j] += Float(factor * (Double(g[j]) - mean - ratio * hat * dot))
      }
    }
  }
}
