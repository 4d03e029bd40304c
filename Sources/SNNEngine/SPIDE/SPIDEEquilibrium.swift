/// The equilibrium SPIDE's phases approximate, computed densely in Double: the reference
/// its spike rates converge to (tests, diagnostics).
///
/// Forward (σ = clip to [0, 1], D_l the dropout scale of layer l's input current, 1
/// without dropout):
///
///     a_0 = σ((c_0 + D_0 ⊙ W_fb·a_L)/q),   a_l = σ(D_l ⊙ (W_l·a_{l−1} + b_l)/q)
///
/// with c_0 = F·x + b_0 the constant input current. Implicit adjoint of a loss with
/// g = ∂L/∂a_L, gates m_l = 1[0 < a_l < 1]:
///
///     δ_L = g + W_fbᵀ(D_0 ⊙ m_0 ⊙ δ_0)/q,   δ_{l−1} = W_lᵀ(D_l ⊙ m_l ⊙ δ_l)/q
///
/// and the gradients ∂L/∂W_l = (1/q)(m_l ⊙ δ_l)·a_{l−1}ᵀ, ∂L/∂b_l = (1/q)(m_l ⊙ δ_l),
/// ∂L/∂W_fb = (1/q)(m_0 ⊙ δ_0)·a_Lᵀ (SPIDE leaves D out of the weight gradients).
/// Both are solved by fixed-point iteration, layer by layer in the phases' order
/// (converges when the feedback loop contracts, which the norm cap on W_fb is for).
public enum SPIDEEquilibrium {
  /// Per layer, the dropout scale D of each neuron's input current (nil: 1 everywhere).
  public typealias Scales = [[Double]?]

  /// The equilibrium rates of every layer (engine layout, padding 0).
  public static func rates(
    _ network: SPIDENetwork, current: [Double], scales: Scales? = nil, iterations: Int = 500,
    tolerance: Double = 1e-13
  ) -> [[Double]] {
    let layers = network.layers
    let q = network.neuron.q
    var a = layers.map { [Double](repeating: 0, count: $0.neuronCount) }
    let forward = network.projections.map { $0.forwardLayoutWeights() }
    let feedback = network.feedback?.forwardLayoutWeights()
    for _ in 0..<max(1, iterations) {
      var change = 0.0
      for l in 0..<layers.count {
        var z: [Double]
        if l == 0 {
          z = current
          if let fb = network.feedback, let w = feedback {
            let input = apply(fb, w, a[layers.count - 1], targetCount: layers[0].neuronCount)
            for i in z.indices { z[i] += (scales?[0]?[i] ?? 1) * input[i] }
          }
        } else {
          let p = network.projections[l - 1]
          z = apply(p, forward[l - 1], a[l - 1], targetCount: layers[l].neuronCount)
          let bias = network.biases[l]
          for i in z.indices {
            let c = i % layers[l].paddedChannels
            if !bias.isEmpty && c < layers[l].channels { z[i] += Double(bias[c]) }
            z[i] *= scales?[l]?[i] ?? 1
          }
        }
        for i in z.indices {
          let value = layers[l].isReal(i) ? min(max(z[i] / q, 0), 1) : 0
          change = max(change, abs(value - a[l][i]))
          a[l][i] = value
        }
      }
      if change <= tolerance { break }
    }
    return a
  }

  /// The implicit adjoint δ of every layer for g = ∂L/∂a_L at the rates `a`.
  public static func adjoint(
    _ network: SPIDENetwork, rates a: [[Double]], gradient g: [Double], scales: Scales? = nil,
    iterations: Int = 500, tolerance: Double = 1e-13
  ) -> [[Double]] {
    let layers = network.layers
    let last = layers.count - 1
    let q = network.neuron.q
    let gates = a.map { $0.map { $0 > 0 && $0 < 1 ? 1.0 : 0.0 } }
    var delta = layers.map { [Double](repeating: 0, count: $0.neuronCount) }
    let backward = network.projections.map { $0.backwardLayoutWeights() }
    let feedback = network.feedback?.backwardLayoutWeights()
    for _ in 0..<max(1, iterations) {
      var change = 0.0
      for l in stride(from: last, through: 0, by: -1) {
        var d: [Double]
        if l == last {
          d = g
          if let fb = network.feedback, let w = feedback {
            let signal = (0..<layers[0].neuronCount).map {
              gates[0][$0] * (scales?[0]?[$0] ?? 1) * delta[0][$0] / q
            }
            let back = applyTransposed(fb, w, signal, sourceCount: layers[last].neuronCount)
            for i in d.indices { d[i] += back[i] }
          }
        } else {
          let p = network.projections[l]
          let signal = (0..<layers[l + 1].neuronCount).map {
            gates[l + 1][$0] * (scales?[l + 1]?[$0] ?? 1) * delta[l + 1][$0] / q
          }
          d = applyTransposed(p, backward[l], signal, sourceCount: layers[l].neuronCount)
        }
        for i in d.indices {
          change = max(change, abs(d[i] - delta[l][i]))
          delta[l][i] = d[i]
        }
      }
      if change <= tolerance { break }
    }
    return delta
  }

  /// `W·x` through `projection` (weights in forward layout).
  public static func apply(
    _ projection: SPIDEProjection, _ weights: [Float], _ x: [Double], targetCount: Int
  ) -> [Double] {
    var out = [Double](repeating: 0, count: targetCount)
    let pool = Double(projection.poolWeight)
    for s in x.indices where x[s] != 0 {
      projection.forEachTargetRun(of: s) { first, offset, count in
        for i in 0..<count {
          out[first + i] += x[s] * (weights.isEmpty ? pool : Double(weights[offset + i]))
        }
      }
    }
    return out
  }

  /// `Wᵀ·y` through `projection` (weights in backward layout).
  public static func applyTransposed(
    _ projection: SPIDEProjection, _ weights: [Float], _ y: [Double], sourceCount: Int
  ) -> [Double] {
    var out = [Double](repeating: 0, count: sourceCount)
    let pool = Double(projection.poolWeight)
    for t in y.indices where y[t] != 0 {
      projection.forEachSourceRun(of: t) { first, offset, count in
        for i in 0..<count {
          out[first + i] += y[t] * (weights.isEmpty ? pool : Double(weights[offset + i]))
        }
      }
    }
    return out
  }
}
