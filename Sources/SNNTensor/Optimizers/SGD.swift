/// Stochastic gradient descent with momentum, Nesterov momentum and coupled weight decay,
/// with PyTorch's update rule:
///
///     g ← ∇ + λ·w                       (weight decay λ of the parameter's group)
///     b ← g at the first step, else μ·b + (1 − τ)·g   (momentum μ, dampening τ)
///     g ← g + μ·b (Nesterov)  or  g ← b
///     w ← w − η·g                       (η = learning rate × group scale)
public final class SGD: Optimizer {
  public private(set) var groups: [ParameterGroup]
  public var learningRate: Float
  public let momentum: Float
  public let dampening: Float
  public let nesterov: Bool
  public private(set) var stepCount = 0
  var buffers: [[Float]]

  public init(
    groups: [ParameterGroup], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
    nesterov: Bool = false
  ) {
    precondition(learningRate >= 0 && momentum >= 0 && dampening >= 0, "SGD: negative option")
    precondition(
      !nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov needs momentum and no dampening"
    )
    self.groups = groups
    self.learningRate = learningRate
    self.momentum = momentum
    self.dampening = dampening
    self.nesterov = nesterov
    buffers =
      momentum == 0
      ? [] : groups.flatMap { $0.parameters.map { [Float](repeating: 0, count: $0.value.count) } }
  }

  public convenience init(
    parameters: [Parameter], learningRate: Float, momentum: Float = 0, weightDecay: Float = 0,
    nesterov: Bool = false
  ) {
    self.init(
      groups: [ParameterGroup(parameters: parameters, weightDecay: weightDecay)],
      learningRate: learningRate, momentum: momentum, nesterov: nesterov)
  }

  public func step() {
    var index = 0
    let first = stepCount == 0
    let mu = momentum, damp = 1 - dampening
    for group in groups {
      let lr = learningRate * group.learningRateScale, wd = group.weightDecay
      for p in group.parameters {
        let g = p.gradient
        g.withUnsafeBufferPointer { gp in
          p.value.withUnsafeMutableBufferPointer { w in
            if mu == 0 {
              for i in 0..<w.count { w[i] -= lr * (gp[i] + wd * w[i]) }
            } else {
              buffers[index].withUnsafeMutableBufferPointer { b in
                for i in 0..<w.count {
                  let d = gp[i] + wd * w[i]
                  let bv = first ? d : mu * b[i] + damp * d
                  b[i] = bv
                  let u = nesterov ? d + mu * bv : bv
                  w[i] -= lr * u
                }
              }
            }
          }
        }
        index += 1
      }
    }
    stepCount += 1
  }

  public func exportState() -> OptimizerState {
    OptimizerState(kind: "sgd", stepCount: stepCount, buffers: buffers)
  }

  public func importState(_ state: OptimizerState) throws(OptimizerStateError) {
    try validate(state, kind: "sgd", slots: momentum == 0 ? 0 : 1)
    stepCount = state.stepCount
    buffers = state.buffers
  }
}
