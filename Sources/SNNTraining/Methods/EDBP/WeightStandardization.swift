import SNNBase

/// Weight standardisation per output channel with a learnable gain and bias (Zhu et al.
/// 2022, spec A1): for output channel c with fan-in n,
///
///     w'_c = g_c·(w_c − μ_c)/√(σ²_c + 10⁻⁵) + b_c
///
/// with μ_c the mean and σ²_c the unbiased variance of w_c over its n fan-in entries.
///
/// **Backward.** With G = ∂L/∂w', ŵ = (w − μ)/s and s = √(σ² + 10⁻⁵):
/// ∂L/∂b_c = Σ_i G_ci, ∂L/∂g_c = Σ_i G_ci·ŵ_ci and, exactly,
///
///     ∂L/∂w_cj = (g_c/s_c)·[G_cj − (1/n)Σ_i G_ci − ŵ_cj·(Σ_i G_ci·ŵ_ci)/(n − 1)]
///
/// (``Backward/exact``). The reference code keeps only the diagonal term
/// `(g_c/s_c)·G_cj` (``Backward/diagonal``), dropping the paths through μ and σ.
/// Statistics and gradients are computed in Double.
public struct WeightStandardization: Sendable {
  public enum Backward: String, Sendable, CaseIterable {
    /// The exact derivative, through the mean and the variance.
    case exact
    /// The reference code's diagonal-only term.
    case diagonal
  }

  /// The ε under the square root.
  public static let epsilon = 1e-5

  public let outChannels: Int
  public let fanIn: Int
  /// ŵ per weight and s per channel from the last ``forward(weights:gain:bias:into:)``.
  public private(set) var normalized: [Double]
  public private(set) var scale: [Double]

  public init(outChannels: Int, fanIn: Int) {
    precondition(outChannels >= 1 && fanIn >= 2, "standardisation needs a fan-in of at least 2")
    self.outChannels = outChannels
    self.fanIn = fanIn
    normalized = [Double](repeating: 0, count: outChannels * fanIn)
    scale = [Double](repeating: 1, count: outChannels)
  }

  /// Computes w' (`[out, fanIn]`) from w, g and b, keeping ŵ and s for the backward pass.
  public mutating func forward(
    weights w: [Float], gain: [Float], bias: [Float], into output: inout [Float]
  ) {
    precondition(w.count == outChannels * fanIn && output.count == w.count)
    precondition(gain.count == outChannels && bias.count == outChannels)
    let n = fanIn
    for c in 0..<outChannels {
      var sum = 0.0
      for i in 0..<n { sum += Double(w[c * n + i]) }
      let mean = sum / Double(n)
      var squares = 0.0
      for i in 0..<n {
        let d = Double(w[c * n + i]) - mean
        squares += d * d
      }
      let s = (squares / Double(n - 1) + Self.epsilon).squareRoot()
      scale[c] = s
      let g = Double(gain[c]), b = Double(bias[c])
      for i in 0..<n {
        let hat = (Double(w[c * n + i]) - mean) / s
        normalized[c * n + i] = hat
        output[c * n + i] = Float(g * hat + b)
      }
    }
  }

  /// Maps ∂L/∂w' (`gradient`, `[out, fanIn]`) to ∂L/∂w, ∂L/∂g and ∂L/∂b, *added* into the
  /// three buffers.
  public func backward(
    _ gradient: UnsafeBufferPointer<Double>, gain: [Float], kind: Backward,
    weights gw: UnsafeMutableBufferPointer<Float>, gain gg: UnsafeMutableBufferPointer<Float>,
    bias gb: UnsafeMutableBufferPointer<Float>
  ) {
    let n = fanIn
    for c in 0..<outChannels {
      var sum = 0.0, dot = 0.0
      for i in 0..<n {
        sum += gradient[c * n + i]
        dot += gradient[c * n + i] * normalized[c * n + i]
      }
      gb[c] += Float(sum)
      gg[c] += Float(dot)
      let factor = Double(gain[c]) / scale[c]
      switch kind {
      case .exact:
        let mean = sum / Double(n)
        let projection = dot / Double(n - 1)
        for i in 0..<n {
          gw[c * n + i] += Float(
            factor * (gradient[c * n + i] - mean - normalized[c * n + i] * projection))
        }
      case .diagonal:
        for i in 0..<n { gw[c * n + i] += Float(factor * gradient[c * n + i]) }
      }
    }
  }
}
