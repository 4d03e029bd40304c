import SNNBase

/// Adam (Kingma & Ba, ICLR 2015) and AdamW (Loshchilov & Hutter, ICLR 2019), with
/// PyTorch's update rule. At step t (1-based), with group learning rate η and decay λ:
///
///     Adam:   g ← ∇ + λ·w                     (coupled L2)
///     AdamW:  w ← w·(1 − η·λ),  g ← ∇         (decoupled)
///     m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²
///     w ← w − (η/(1 − β₁ᵗ))·m / (√v/√(1 − β₂ᵗ) + ε)
///
/// The bias corrections are computed in Double from t.
public final class Adam: Optimizer {
  public private(set) var groups: [ParameterGroup]
  public var learningRate: Float
  public let beta1: Float
  public let beta2: Float
  public let epsilon: Float
  /// true for AdamW.
  public let decoupledWeightDecay: Bool
  public private(set) var stepCount = 0
  var firstMoments: [[Float]]
  var secondMoments: [[Float]]

  public init(
    groups: [ParameterGroup], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
    epsilon: Float = 1e-8, decoupledWeightDecay: Bool = false
  ) {
    precondition(learningRate >= 0 && epsilon > 0, "Adam: bad learning rate or epsilon")
    precondition(
      beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam: betas must be in [0, 1)")
    self.groups = groups
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.decoupledWeightDecay = decoupledWeightDecay
    firstMoments = groups.flatMap {
      $0.parameters.map { [Float](repeating: 0, count: $0.value.count) }
    }
    secondMoments = firstMoments
  }

  /// AdamW: Adam with decoupled weight decay (PyTorch's default λ = 0.01).
  public static func adamW(
    groups: [ParameterGroup], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
    epsilon: Float = 1e-8
  ) -> Adam {
    Adam(
      groups: groups, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
      decoupledWeightDecay: true)
  }

  var kind: String { decoupledWeightDecay ? "adamw" : "adam" }

  public func step() {
    stepCount += 1
    let t = Double(stepCount)
    let bc1 = 1 - Math.pow(Double(beta1), t), bc2 = 1 - Math.pow(Double(beta2), t)
    let b1 = beta1, b2 = beta2, eps = epsilon
    let invSqrtBc2 = Float(1 / bc2.squareRoot())
    var index = 0
    for group in groups {
      let lr = learningRate * group.learningRateScale, wd = group.weightDecay
      let stepSize = Float(Double(lr) / bc1)
      let decoupled = decoupledWeightDecay
      for p in group.parameters {
        p.gradient.withUnsafeBufferPointer { gp in
          p.value.withUnsafeMutableBufferPointer { w in
            firstMoments[index].withUnsafeMutableBufferPointer { m in
              secondMoments[index].withUnsafeMutableBufferPointer { v in
                for i in 0..<w.count {
                  var g = gp[i]
                  if decoupled {
                    w[i] *= 1 - lr * wd
                  } else {
                    g += wd * w[i]
                  }
                  m[i] = b1 * m[i] + (1 - b1) * g
                  v[i] = b2 * v[i] + (1 - b2) * g * g
                  w[i] -= stepSize * m[i] / (v[i].squareRoot() * invSqrtBc2 + eps)
                }
              }
            }
          }
        }
        index += 1
      }
    }
  }

  public func exportState() -> OptimizerState {
    OptimizerState(kind: kind, stepCount: stepCount, buffers: firstMoments + secondMoments)
  }

  public func importState(_ state: OptimizerState) throws(OptimizerStateError) {
    try validate(state, kind: kind, slots: 2)
    let n = firstMoments.count
    stepCount = state.stepCount
    firstMoments = Array(state.buffers[0..<n])
    secondMoments = Array(state.buffers[n...])
  }
}
