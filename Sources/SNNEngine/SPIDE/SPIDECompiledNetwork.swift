import SNNBase

/// A ``SPIDENetwork`` quantized for the event-driven phases (``SPIDEForwardPhase``,
/// ``SPIDEBackwardPhase``): fixed-point weights in both delivery layouts, the per-layer
/// shifts and the drive limits (see ``SPIDEFixedPoint``).
///
/// Backward weights carry the whole value a ternary spike delivers: a spike ±A of neuron j
/// in layer l adds `±A·D_l·w_ji/q` to neuron i of layer l − 1, where D_l = 1/keep_l is the
/// dropout scale of layer l's input current (1 without dropout); the feedback delivers
/// `±A·D_0·w/q` from layer 0 to layer L one step later.
public struct SPIDECompiledNetwork: Sendable {
  public let network: SPIDENetwork
  /// T and T_b.
  public let timeSteps: Int
  public let backwardTimeSteps: Int
  /// The keep probability (1 − p) of each layer's input-current dropout (1: none).
  public let keep: [Double]
  /// The largest value of one input element per step for event inputs (0: static input).
  public let inputEventBound: Double
  /// Fractional bits s_l of each layer's forward and backward fixed point.
  public let forwardShift: [Int]
  public let backwardShift: [Int]
  /// Largest per-step spike input of each layer, forward (M_l) and backward (M_b,l).
  public let forwardInputBound: [Double]
  public let backwardInputBound: [Double]

  /// `forwardWeights[l]`: the projection into layer l in forward layout, in layer l's
  /// fixed point (index 0: the input projection); `forwardPoolWeight[l]` for pooling.
  let forwardWeights: [SPIDEWeightBuffer]
  let forwardPoolWeight: [Int32]
  let feedbackForwardWeights: SPIDEWeightBuffer
  /// `backwardWeights[l]` (l ≥ 1): the projection into layer l in backward layout, times
  /// A·D_l/q, in layer l − 1's backward fixed point.
  let backwardWeights: [SPIDEWeightBuffer]
  let backwardPoolWeight: [Int32]
  let feedbackBackwardWeights: SPIDEWeightBuffer
  /// Delivery of each layer's spikes: `forwardDelivery[l]` over the projection into layer
  /// l + 1 (none for L), `backwardDelivery[l]` from layer l to l − 1 (none for 0).
  let forwardDelivery: [SPIDEDelivery?]
  let backwardDelivery: [SPIDEDelivery?]
  let inputDelivery: SPIDEDelivery
  let feedbackForwardDelivery: SPIDEDelivery?
  let feedbackBackwardDelivery: SPIDEDelivery?

  /// Quantizes `network` for phases of `timeSteps` and `backwardTimeSteps` steps.
  ///
  /// - Parameters:
  ///   - keep: per layer, the keep probability of its input-current dropout (default: all 1).
  ///   - inputEventBound: for event inputs delivered through the input projection, the
  ///     largest value of one input element at one step (e.g. 1 for binary frames).
  /// - Throws: ``ConfigurationError`` when a weight is not finite or the weights are so
  ///   large that no fixed point of at least ``SPIDEFixedPoint/minimumShift`` bits fits.
  public init(
    network: SPIDENetwork, timeSteps: Int, backwardTimeSteps: Int, keep: [Double]? = nil,
    inputEventBound: Double = 0
  ) throws(ConfigurationError) {
    precondition(timeSteps >= 1 && backwardTimeSteps >= 0, "step counts must be positive")
    let layerCount = network.layers.count
    let keep = keep ?? [Double](repeating: 1, count: layerCount)
    precondition(keep.count == layerCount && keep.allSatisfy { $0 > 0 && $0 <= 1 })
    precondition(inputEventBound >= 0 && inputEventBound.isFinite)
    let neuron = network.neuron
    let q = neuron.q
    let theta = neuron.vThreshold
    let amplitude = neuron.amplitude
    let vb = neuron.vBackward
    let last = network.lastLayer

    func checkFinite(_ p: SPIDEProjection, _ name: String) throws(ConfigurationError) {
      if let bad = p.weights.first(where: { !$0.isFinite }) {
        throw .invalid(
          field: "SPIDE \(name) weights", value: "\(bad)",
          expected: "finite weights (training has diverged)")
      }
    }
    try checkFinite(network.inputProjection, "input projection")
    for (i, p) in network.projections.enumerated() { try checkFinite(p, "projection \(i + 1)") }
    if let fb = network.feedback { try checkFinite(fb, "feedback") }
    for (l, b) in network.biases.enumerated() where b.contains(where: { !$0.isFinite }) {
      throw .invalid(field: "SPIDE biases[\(l)]", value: "not finite", expected: "finite biases")
    }

    // Forward input bounds and shifts.
    var forwardBound = [Double](repeating: 0, count: layerCount)
    for l in 1..<layerCount { forwardBound[l] = network.projections[l - 1].maximumTargetInput() }
    if let fb = network.feedback { forwardBound[0] += fb.maximumTargetInput() }
    forwardBound[0] += inputEventBound * network.inputProjection.maximumTargetInput()
    var forwardShift: [Int] = []
    for l in 0..<layerCount {
      let m = forwardBound[l]
      let bound = theta + q + Double(timeSteps) * (2 * q + 2 * m + theta)
      guard let s = SPIDEFixedPoint.shift(forBound: bound) else {
        throw .invalid(
          field: "SPIDE layer \(l) weights", value: "input bound \(m)",
          expected: "weights small enough for a \(SPIDEFixedPoint.minimumShift)-bit fixed point")
      }
      forwardShift.append(s)
    }

    // Backward input bounds (per unit of backward spike) and shifts.
    var backwardBound = [Double](repeating: 0, count: layerCount)
    for l in 1..<layerCount {
      backwardBound[l - 1] =
        amplitude / (q * keep[l]) * network.projections[l - 1].maximumSourceInput()
    }
    if let fb = network.feedback {
      backwardBound[last] += amplitude / (q * keep[0]) * fb.maximumSourceInput()
    }
    var backwardShift: [Int] = []
    for l in 0..<layerCount {
      let m = backwardBound[l]
      let drive = l == last ? amplitude + m + vb : 0
      let bound = vb + amplitude + Double(max(backwardTimeSteps, 1)) * (drive + m + amplitude)
      guard let s = SPIDEFixedPoint.shift(forBound: bound) else {
        throw .invalid(
          field: "SPIDE layer \(l) backward weights", value: "input bound \(m)",
          expected: "weights small enough for a \(SPIDEFixedPoint.minimumShift)-bit fixed point")
      }
      backwardShift.append(s)
    }

    // Quantized weights.
    var forwardWeights: [SPIDEWeightBuffer] = []
    var forwardPool: [Int32] = []
    var backwardWeights: [SPIDEWeightBuffer] = [SPIDEWeightBuffer([])]
    var backwardPool: [Int32] = [0]
    for l in 0..<layerCount {
      let p = network.projection(into: l)
      let s = forwardShift[l]
      forwardWeights.append(
        SPIDEWeightBuffer(SPIDEFixedPoint.quantize(p.forwardLayoutWeights(), scale: 1, shift: s)))
      forwardPool.append(SPIDEFixedPoint.quantize(Double(p.poolWeight), shift: s))
      if l >= 1 {
        let scale = amplitude / (q * keep[l])
        let sb = backwardShift[l - 1]
        backwardWeights.append(
          SPIDEWeightBuffer(
            SPIDEFixedPoint.quantize(p.backwardLayoutWeights(), scale: scale, shift: sb)))
        backwardPool.append(SPIDEFixedPoint.quantize(Double(p.poolWeight) * scale, shift: sb))
      }
    }
    if let fb = network.feedback {
      feedbackForwardWeights = SPIDEWeightBuffer(
        SPIDEFixedPoint.quantize(fb.forwardLayoutWeights(), scale: 1, shift: forwardShift[0]))
      feedbackBackwardWeights = SPIDEWeightBuffer(
        SPIDEFixedPoint.quantize(
          fb.backwardLayoutWeights(), scale: amplitude / (q * keep[0]), shift: backwardShift[last]))
      feedbackForwardDelivery = SPIDEDelivery(
        route: SPIDERoute(fb, forward: true), weights: feedbackForwardWeights.pointer,
        poolWeight: 0)
      feedbackBackwardDelivery = SPIDEDelivery(
        route: SPIDERoute(fb, forward: false), weights: feedbackBackwardWeights.pointer,
        poolWeight: 0)
    } else {
      feedbackForwardWeights = SPIDEWeightBuffer([])
      feedbackBackwardWeights = SPIDEWeightBuffer([])
      feedbackForwardDelivery = nil
      feedbackBackwardDelivery = nil
    }
    forwardDelivery = (0..<layerCount).map { l in
      l == last
        ? nil
        : SPIDEDelivery(
          route: SPIDERoute(network.projections[l], forward: true),
          weights: forwardWeights[l + 1].pointer, poolWeight: forwardPool[l + 1])
    }
    backwardDelivery = (0..<layerCount).map { l in
      l == 0
        ? nil
        : SPIDEDelivery(
          route: SPIDERoute(network.projections[l - 1], forward: false),
          weights: backwardWeights[l].pointer, poolWeight: backwardPool[l])
    }
    inputDelivery = SPIDEDelivery(
      route: SPIDERoute(network.inputProjection, forward: true), weights: forwardWeights[0].pointer,
      poolWeight: forwardPool[0])
    self.network = network
    self.timeSteps = timeSteps
    self.backwardTimeSteps = backwardTimeSteps
    self.keep = keep
    self.inputEventBound = inputEventBound
    self.forwardShift = forwardShift
    self.backwardShift = backwardShift
    self.forwardInputBound = forwardBound
    self.backwardInputBound = backwardBound
    self.forwardWeights = forwardWeights
    self.forwardPoolWeight = forwardPool
    self.backwardWeights = backwardWeights
    self.backwardPoolWeight = backwardPool
  }

  /// The drive range of layer l that changes no spike: [−(M_l + V_th), q + M_l + V_th].
  public func forwardDriveLimits(_ l: Int) -> (low: Double, high: Double) {
    let m = forwardInputBound[l]
    let theta = network.neuron.vThreshold
    return (-(m + theta), network.neuron.q + m + theta)
  }

  /// The backward drive range of layer L: ±(A + M_b + V_b).
  public var backwardDriveLimit: Double {
    network.neuron.amplitude + backwardInputBound[network.lastLayer] + network.neuron.vBackward
  }

  /// Quantized weights for inspection and references (tests): the forward-layout weights of
  /// the projection into layer l (0: input projection), or the feedback's.
  public func quantizedForwardWeights(into l: Int) -> [Int32] { forwardWeights[l].values }
  public func quantizedForwardPoolWeight(into l: Int) -> Int32 { forwardPoolWeight[l] }
  public var quantizedFeedbackForwardWeights: [Int32] { feedbackForwardWeights.values }
  /// The backward-layout weights delivered from layer l to l − 1 (l ≥ 1).
  public func quantizedBackwardWeights(from l: Int) -> [Int32] { backwardWeights[l].values }
  public func quantizedBackwardPoolWeight(from l: Int) -> Int32 { backwardPoolWeight[l] }
  public var quantizedFeedbackBackwardWeights: [Int32] { feedbackBackwardWeights.values }
}
