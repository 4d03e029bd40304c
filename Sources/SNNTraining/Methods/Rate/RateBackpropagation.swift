import SNNBase
import SNNTensor

/// Rate-based backpropagation (Yu et al., "Advancing Training Efficiency of Deep Spiking
/// Neural Networks through Rate-based Backpropagation", NeurIPS 2024): the `rate` method.
///
/// **Phase A, the spike pass (no graph).** The network runs T steps and every hidden neuron
/// keeps only running sums (``RateNeuronKernel``): its rate r = (1/T)·Σ_t S[t] and the
/// factor κ = (1/T)·Σ_t sg[t]·e[t], with e[t] = dH[t]/dĪ under a constant input, so κ is
/// the neuron's dr/dĪ. Every BN layer records the statistics (μ_s, σ_s²) of its spike-driven
/// inputs and updates its running statistics (in this pass only).
///
/// - ``Variant/multiStep`` (rate_M) runs one layer at a time over all T steps (`[T·B, …]`
///   tensors, BN statistics over all T·B samples): the transient of one layer is
///   O(T·B·N_layer).
/// - ``Variant/singleStep`` (rate_S) runs one step at a time through all layers (`[B, …]`
///   tensors): BN normalizes each step with that step's batch statistics, and the rate
///   pass uses μ_s = mean_t μ_t and σ_s² = 1/mean_t(1/(σ_t² + ε)) (the intended rule;
///   ``SpikePassStatistics/lastStep`` reproduces the reference code, whose step counter
///   never advances, so only the last step's statistics survive). Memory is O(L·B·N),
///   independent of T.
///
/// **Phase B, the rate pass (one "step" of batch B, with backward).** The input is the
/// time-averaged input r⁰ (the image itself for a static input); each hidden layer computes
/// c̄ = W·r^{l−1} + b, BN takes the values (μ_s, σ_s²) but differentiates as the batch
/// statistics of c̄ (``ChannelMoments/straightThroughBackward``), and the neurons are
/// replaced by r^l with the diagonal Jacobian κ^l: δc = κ ⊙ δr. The readout is
/// o = W_o·r^L + b (the same value as BPTT's time-averaged readout) with softmax
/// cross-entropy, whose gradient the reference code scales by 1/T (``LossScale``).
/// Average pooling, flatten, conv and linear layers commute with time averaging; max
/// pooling does not (the rate pass max-pools the rates).
///
/// Cost: T graph-free steps, then one forward and one backward of batch B; the stored
/// state (r, κ, e, V per neuron) does not grow with T.
public final class RateBackpropagationMethod: DenseTrainingMethod {
  /// rate_M or rate_S.
  public enum Variant: String, Sendable, CaseIterable {
    /// Multi-step: the T loop inside each layer.
    case multiStep = "M"
    /// Single-step: the T loop outside the model.
    case singleStep = "S"
  }

  /// The scale of the loss gradient that enters the rate pass.
  public enum LossScale: String, Sendable, CaseIterable {
    /// ∂L/∂o × 1/T, as the reference code's `CustomEvaluator` (the spec's default).
    case inverseT = "inverse-t"
    /// The plain gradient of the time-averaged cross-entropy (equal to BPTT's).
    case none
  }

  /// Which spike-pass statistics rate_S's BN uses in the rate pass.
  public enum SpikePassStatistics: String, Sendable, CaseIterable {
    /// μ_s = mean_t μ_t, σ_s² = 1/mean_t(1/(σ_t² + ε)).
    case intended
    /// The last step's μ and σ² + ε (the reference code's behaviour).
    case lastStep = "last-step"
  }

  public struct Settings: Equatable, Sendable {
    public var variant: Variant
    public var lossScale: LossScale
    public var statistics: SpikePassStatistics

    public init(
      variant: Variant = .singleStep, lossScale: LossScale = .inverseT,
      statistics: SpikePassStatistics = .intended
    ) {
      self.variant = variant
      self.lossScale = lossScale
      self.statistics = statistics
    }
  }

  public let name: String
  public let model: DenseModel
  public var optimizer: ParameterOptimizer
  public let settings: Settings
  let kernel: RateNeuronKernel<Float>
  /// Per hidden stage (in stage order) its buffers and statistics.
  let layers: [RateLayerState]
  /// Stage index → position in `layers`.
  let slotOfStage: [Int: Int]
  let lastHidden: Int
  let readoutIndex: Int
  var frame = Tensor(shape: [0])
  var batchSize = 0

  /// A method for `setup` with fresh parameters.
  ///
  /// Throws ``ConfigurationError`` when the frame count is neither 1 nor T, the neuron's
  /// charge is not `.leaky` (H = λV + I), or the dense backend cannot run the model.
  public init(
    name: String = "rate", setup: MethodSetup, settings: Settings,
    neuron: DenseModel.NeuronConfiguration, normalization: DenseModel.Normalization
  ) throws(ConfigurationError) {
    let steps = try setup.timeStepsMatchingFrames()
    let lambda = try neuron.leakyLambda()
    let configuration = DenseModel.Configuration(
      timeSteps: steps, neuron: neuron, normalization: normalization)
    self.name = name
    self.settings = settings
    model = try DenseModel(
      spec: setup.model, configuration: configuration, seed: setup.configuration.seed)
    optimizer = ParameterOptimizer(
      settings: setup.configuration.optimizer, parameters: model.parameters)
    kernel = RateNeuronKernel(
      leak: lambda, vThreshold: neuron.vThreshold, vReset: neuron.vReset,
      hardReset: neuron.reset == .hard, detachReset: neuron.detachReset,
      surrogate: neuron.surrogate.resolved(beta: Double(lambda), vThreshold: 1).kernel())
    let compiled = model
    let hidden = compiled.hiddenStageIndices
    layers = hidden.map { RateLayerState(stage: compiled.stages[$0], index: $0) }
    slotOfStage = Dictionary(uniqueKeysWithValues: hidden.enumerated().map { ($1, $0) })
    lastHidden = hidden.last ?? -1
    readoutIndex = compiled.readoutStageIndex
  }

  var steps: Int { model.configuration.timeSteps }

  // MARK: Training

  public func trainBatch(_ batch: Batch, context: StepContext) throws -> BatchMetrics {
    model.parameters.zeroGradients()
    let metrics = computeGradients(batch)
    optimizer.step(&model.parameters, learningRate: context.learningRate)
    return metrics
  }

  /// Phase A and phase B on `batch`: accumulates the rate-based gradient into
  /// `model.parameters` (zero them first) and returns the batch's metrics.
  func computeGradients(_ batch: Batch) -> BatchMetrics {
    model.isTraining = true
    let counter = spikePass(batch, training: true)
    let loss = ratePass(batch)
    return BatchMetrics(
      sampleCount: batch.count, lossSum: loss.lossSum, correctCount: loss.correctCount,
      operations: counter)
  }

  /// The spike pass in evaluation mode (BN running statistics, no κ) and the readout of the
  /// time-averaged last hidden layer, which equals the time-averaged readout.
  public func evaluateBatch(_ batch: Batch, context: EvaluationContext) throws -> BatchMetrics {
    model.isTraining = false
    defer { model.isTraining = true }
    let counter = spikePass(batch, training: false)
    let logits = model.withBoundParameters { () -> Tensor in
      var x = lastHidden >= 0 ? layers[slotOfStage[lastHidden]!].rate : inputRate(batch)
      for i in (lastHidden + 1)..<readoutIndex {
        x = applyPassThrough(model.stages[i], x, leading: [batch.count])
      }
      let readout = model.stages[readoutIndex].synapses!
      let z = readout.forward(x)
      model.stages[readoutIndex].releaseSynapseInput()
      return z
    }
    let loss = SoftmaxCrossEntropy(logits: logits, labels: batch.labels, computeGradient: false)
    return BatchMetrics(
      sampleCount: batch.count, lossSum: loss.lossSum, correctCount: loss.correctCount,
      operations: counter)
  }

  // MARK: Phase A

  /// Runs the spike pass; leaves r (and in training κ and the BN statistics) in `layers`.
  /// Returns the operation counts.
  func spikePass(_ batch: Batch, training: Bool) -> SynOpCounter? {
    let b = batch.count
    batchSize = b
    for layer in layers { layer.reset(batch: b, kernel: kernel, training: training) }
    var counter =
      model.configuration.countsOperations
      ? SynOpCounter(layerNames: model.analysis.layers.map(\.name)) : nil
    model.withBoundParameters {
      switch settings.variant {
      case .singleStep: singleStepPass(batch, training: training, counter: &counter)
      case .multiStep: multiStepPass(batch, training: training, counter: &counter)
      }
    }
    let scale = 1 / Float(steps)
    for layer in layers {
      if var c = counter, let number = model.stages[layer.stageIndex].layer?.number {
        c.addNeuronUpdates(layer.rate.count * steps, layer: number - 1)
        c.addSpikes(layer.totalSpikes(), layer: number - 1)
        counter = c
      }
      layer.finish(scale: scale, training: training)
      if training, let norm = model.stages[layer.stageIndex].norm {
        layer.resolveStatistics(
          variant: settings.variant, rule: settings.statistics, epsilon: norm.epsilon)
      }
    }
    return counter
  }

  /// rate_S: for t = 0..T−1, every layer on step t (`[B, …]`).
  private func singleStepPass(_ batch: Batch, training: Bool, counter: inout SynOpCounter?) {
    guard lastHidden >= 0 else { return }
    let b = batch.count
    let feature = model.spec.input
    let isStaticInput = batch.sampleShape.frames == 1
    let image =
      isStaticInput
      ? Tensor(shape: [b, feature.channels, feature.height, feature.width], scalars: batch.inputs)
      : nil
    for t in 0..<steps {
      var x: Tensor
      if let image {
        x = image
      } else {
        DenseModel.gatherFrame(
          t, of: batch.inputs, batch: b, frames: steps, feature: feature, into: &frame)
        x = frame
      }
      var isStatic = isStaticInput
      for i in 0...lastHidden {
        let stage = model.stages[i]
        guard let layer = stage.layer, let slot = slotOfStage[i] else {
          x = applyPassThrough(stage, x, leading: [b])
          continue
        }
        let state = layers[slot]
        if counter != nil {
          model.countSynapticWork(
            layer: layer, input: x, isStatic: isStatic, steps: 1, batch: b,
            poolFactor: model.poolFactor(beforeStage: i), into: &counter!)
        }
        if isStatic && t > 0 {
          // A static image gives the first layer the same current (and BN statistics) at
          // every step: reuse them; BN still records the step.
          if training, let norm = stage.norm { state.observeAgain(norm) }
        } else {
          let c = stage.synapses!.forward(x)
          stage.releaseSynapseInput()
          state.prepareCurrent(
            c, norm: stage.norm, rows: b, training: training, perStep: true)
        }
        state.step(kernel: kernel, training: training)
        x = state.spikes
        isStatic = false
      }
    }
  }

  /// rate_M: one layer at a time over all T steps (`[T, B, …]`, or `[B, …]` for a static
  /// input before the first neurons).
  private func multiStepPass(_ batch: Batch, training: Bool, counter: inout SynOpCounter?) {
    guard lastHidden >= 0 else { return }
    let b = batch.count, steps = self.steps
    let feature = model.spec.input
    var isStatic = batch.sampleShape.frames == 1
    var x: Tensor
    if isStatic {
      x = Tensor(
        shape: [b, feature.channels, feature.height, feature.width], scalars: batch.inputs)
    } else {
      x = Tensor(shape: [steps, b, feature.channels, feature.height, feature.width])
      let f = feature.elementCount
      batch.inputs.withUnsafeBufferPointer { src in
        x.withUnsafeMutableBufferPointer { dst in
          for s in 0..<b {
            for t in 0..<steps {
              (dst.baseAddress! + (t * b + s) * f).update(
                from: src.baseAddress! + (s * steps + t) * f, count: f)
            }
          }
        }
      }
    }
    for i in 0...lastHidden {
      let stage = model.stages[i]
      guard let layer = stage.layer, let slot = slotOfStage[i] else {
        x = applyPassThrough(stage, x, leading: isStatic ? [b] : [steps, b])
        continue
      }
      let state = layers[slot]
      if counter != nil {
        model.countSynapticWork(
          layer: layer, input: x, isStatic: isStatic, steps: isStatic ? steps : 1, batch: b,
          poolFactor: model.poolFactor(beforeStage: i),
          into: &counter!)
      }
      let c = stage.synapses!.forward(x)
      stage.releaseSynapseInput()
      x = Tensor(shape: [0])
      state.prepareCurrent(
        c, norm: stage.norm, rows: isStatic ? b : steps * b, training: training, perStep: false)
      var spikes = Tensor(shape: [steps, b] + stage.sampleOutputShape)
      state.run(
        steps: steps, staticCurrent: isStatic, kernel: kernel, training: training, into: &spikes)
      x = spikes
      isStatic = false
    }
  }

  /// Flatten and pooling stages on `x` with leading (batch or time-and-batch) axes.
  func applyPassThrough(_ stage: DenseModel.Stage, _ x: Tensor, leading: [Int]) -> Tensor {
    switch stage.kind {
    case .flatten:
      return x.reshaped(leading + [x.count / leading.reduce(1, *)])
    case .avgPool(let pool): return pool.forward(x)
    case .maxPool(let pool): return pool.forward(x)
    case .conv, .linear: preconditionFailure("not a pass-through stage")
    }
  }

  /// r⁰: the image, or the mean over the frames of event data (`[B, C, H, W]`).
  func inputRate(_ batch: Batch) -> Tensor {
    let feature = model.spec.input
    if batch.sampleShape.frames == 1 {
      return Tensor(
        shape: [batch.count, feature.channels, feature.height, feature.width],
        scalars: batch.inputs)
    }
    return DenseModel.meanFrame(
      of: batch.inputs, batch: batch.count, frames: batch.sampleShape.frames, feature: feature)
  }

  // MARK: Phase B

  /// The rate pass: forward on rates with batch B, softmax cross-entropy, backward with κ
  /// and straight-through BN. Returns the loss (its gradient is scaled per ``LossScale``).
  private func ratePass(_ batch: Batch) -> SoftmaxCrossEntropy {
    let b = batch.count
    return model.withBoundParameters { () -> SoftmaxCrossEntropy in
      var x = inputRate(batch)
      var inputShapes: [[Int]] = Array(repeating: [], count: model.stages.count)
      var logits = Tensor(shape: [0])
      for i in model.stages.indices {
        let stage = model.stages[i]
        inputShapes[i] = x.shape
        if stage.isReadout {
          logits = stage.synapses!.forward(x)
          break
        }
        guard stage.layer != nil, let slot = slotOfStage[i] else {
          x = applyPassThrough(stage, x, leading: [b])
          continue
        }
        let c = stage.synapses!.forward(x)
        if stage.norm != nil { layers[slot].cbar = c }
        x = layers[slot].rate
      }
      var loss = SoftmaxCrossEntropy(logits: logits, labels: batch.labels)
      if settings.lossScale == .inverseT { loss.gradient.scale(by: 1 / Float(steps)) }
      var g = model.stages[readoutIndex].synapses!.backward(loss.gradient)
      for i in stride(from: readoutIndex - 1, through: model.firstWeightedStage, by: -1) {
        let stage = model.stages[i]
        switch stage.kind {
        case .flatten:
          g = g.reshaped(inputShapes[i])
        case .avgPool(let pool):
          g = pool.backward(g)
        case .maxPool(let pool):
          g = pool.backward(g)
        case .conv, .linear:
          let state = layers[slotOfStage[i]!]
          let gc = state.backward(g, norm: stage.norm)
          g = stage.synapses!.backward(gc)
        }
      }
      return loss
    }
  }
}

/// The per-layer buffers of ``RateBackpropagationMethod``: membrane, factor e, sums of
/// spikes and of sg·e (then r and κ), the step's spikes and normalized current, and the
/// BN statistics of the spike pass.
final class RateLayerState {
  let stageIndex: Int
  let sampleShape: [Int]
  let channels: Int
  let inner: Int
  var membrane = Tensor(shape: [0])
  var factor = Tensor(shape: [0])
  /// Σ_t S[t], then r.
  var rate = Tensor(shape: [0])
  /// Σ_t sg[t]·e[t], then κ.
  var kappa = Tensor(shape: [0])
  var spikes = Tensor(shape: [0])
  var current = Tensor(shape: [0])
  var normalizedCurrent = Tensor(shape: [0])
  var gradCurrent = Tensor(shape: [0])
  /// The rate pass's c̄ (kept for the straight-through BN backward).
  var cbar = Tensor(shape: [0])
  // Spike-pass statistics.
  var stepMean: [Float] = []
  var stepVariance: [Float] = []
  var meanSum: [Double] = []
  var inverseVarianceSum: [Double] = []
  var observedSteps = 0
  var lastRows = 0
  /// μ_s and 1/σ_s used by the rate pass.
  var statisticsMean: [Float] = []
  var statisticsInverseStd: [Float] = []

  init(stage: DenseModel.Stage, index: Int) {
    stageIndex = index
    sampleShape = stage.sampleOutputShape
    (channels, inner) = stage.outputChannelLayout
  }

  /// Fresh state for a batch of `batch` samples: V at rest, e = 1, sums 0.
  func reset(batch: Int, kernel: RateNeuronKernel<Float>, training: Bool) {
    let shape = [batch] + sampleShape
    membrane.prepare(shape: shape)
    membrane.fill(kernel.restingMembrane)
    rate.prepare(shape: shape)
    rate.fill(0)
    spikes.prepare(shape: shape)
    if training {
      factor.prepare(shape: shape)
      factor.fill(1)
      kappa.prepare(shape: shape)
      kappa.fill(0)
    }
    meanSum = [Double](repeating: 0, count: channels)
    inverseVarianceSum = [Double](repeating: 0, count: channels)
    observedSteps = 0
  }

  /// Sets `current` to the neurons' input: `c` itself, or BN of `c` (`rows` = leading
  /// values per channel group: B per step, or T·B). Training uses and records batch
  /// statistics (and updates the running ones); evaluation uses the running statistics.
  func prepareCurrent(
    _ c: Tensor, norm: BatchNorm?, rows: Int, training: Bool, perStep: Bool
  ) {
    guard let norm else {
      current = c
      return
    }
    var mean: [Float], inverseStd: [Float]
    if training {
      c.withUnsafeBufferPointer {
        ChannelMoments.compute(
          $0.baseAddress!, rows: rows, channels: channels, inner: inner, mean: &stepMean,
          variance: &stepVariance)
      }
      lastRows = rows
      observe(norm)
      mean = stepMean
      inverseStd = stepVariance.map { 1 / ($0 + norm.epsilon).squareRoot() }
    } else {
      mean = norm.runningMean.scalars
      inverseStd = norm.runningVariance.scalars.map { 1 / ($0 + norm.epsilon).squareRoot() }
    }
    normalizedCurrent.prepare(shape: c.shape)
    let gamma = norm.gamma.value.scalars, beta = norm.beta.value.scalars
    c.withUnsafeBufferPointer { x in
      normalizedCurrent.withUnsafeMutableBufferPointer { y in
        ChannelMoments.normalize(
          x.baseAddress!, into: y.baseAddress!, rows: rows, channels: channels, inner: inner,
          mean: mean, inverseStd: inverseStd, gamma: gamma, beta: beta, scale: norm.scale)
      }
    }
    current = normalizedCurrent
  }

  /// Records the statistics of the last `prepareCurrent` once more (a static first layer
  /// sees the same current at every step).
  func observeAgain(_ norm: BatchNorm) { observe(norm) }

  /// Adds the step's statistics to the sums and updates BN's running statistics (PyTorch:
  /// r ← (1 − m)·r + m·batch, with the unbiased variance).
  private func observe(_ norm: BatchNorm) {
    let eps = Double(norm.epsilon), m = norm.momentum
    let n = Float(lastRows * inner)
    let unbias = n > 1 ? n / (n - 1) : 1
    for c in 0..<channels {
      meanSum[c] += Double(stepMean[c])
      inverseVarianceSum[c] += 1 / (Double(stepVariance[c]) + eps)
    }
    observedSteps += 1
    norm.runningMean.withUnsafeMutableBufferPointer { rm in
      norm.runningVariance.withUnsafeMutableBufferPointer { rv in
        for c in 0..<channels {
          rm[c] = (1 - m) * rm[c] + m * stepMean[c]
          rv[c] = (1 - m) * rv[c] + m * stepVariance[c] * unbias
        }
      }
    }
  }

  /// μ_s and 1/σ_s for the rate pass from the recorded statistics.
  func resolveStatistics(
    variant: RateBackpropagationMethod.Variant,
    rule: RateBackpropagationMethod.SpikePassStatistics, epsilon: Float
  ) {
    if variant == .multiStep || rule == .lastStep || observedSteps == 0 {
      statisticsMean = stepMean
      statisticsInverseStd = stepVariance.map { 1 / ($0 + epsilon).squareRoot() }
    } else {
      let k = Double(observedSteps)
      statisticsMean = meanSum.map { Float($0 / k) }
      statisticsInverseStd = inverseVarianceSum.map { Float(($0 / k).squareRoot()) }
    }
  }

  /// One step of the neurons on `current` into `spikes`.
  func step(kernel: RateNeuronKernel<Float>, training: Bool) {
    let n = membrane.count
    current.withUnsafeBufferPointer { i in
      withStateBuffers(training: training) { v, s, r, e, k in
        let ib = UncheckedSendable(i.baseAddress!)
        Parallel.forEachChunk(count: n, chunks: RateLayerState.chunks(n)) { _, range in
          kernel.step(
            range: range, current: ib.value, membrane: v.value, spikes: s.value,
            spikeSum: r.value, factor: e?.value, kappaSum: k?.value)
        }
      }
    }
  }

  /// T steps on `current` (`[T, B, …]`, or `[B, …]` with `staticCurrent`) into `output`
  /// (`[T, B, …]`).
  func run(
    steps: Int, staticCurrent: Bool, kernel: RateNeuronKernel<Float>, training: Bool,
    into output: inout Tensor
  ) {
    let n = membrane.count
    current.withUnsafeBufferPointer { i in
      output.withUnsafeMutableBufferPointer { out in
        withStateBuffers(training: training) { v, _, r, e, k in
          let ib = UncheckedSendable(i.baseAddress!), ob = UncheckedSendable(out.baseAddress!)
          Parallel.forEachChunk(count: n, chunks: RateLayerState.chunks(n)) { _, range in
            for t in 0..<steps {
              kernel.step(
                range: range, current: ib.value + (staticCurrent ? 0 : t * n),
                membrane: v.value, spikes: ob.value + t * n, spikeSum: r.value,
                factor: e?.value, kappaSum: k?.value)
            }
          }
        }
      }
    }
  }

  private func withStateBuffers(
    training: Bool,
    _ body: (
      UncheckedSendable<UnsafeMutablePointer<Float>>,
      UncheckedSendable<UnsafeMutablePointer<Float>>,
      UncheckedSendable<UnsafeMutablePointer<Float>>,
      UncheckedSendable<UnsafeMutablePointer<Float>>?,
      UncheckedSendable<UnsafeMutablePointer<Float>>?
    ) -> Void
  ) {
    membrane.withUnsafeMutableBufferPointer { v in
      spikes.withUnsafeMutableBufferPointer { s in
        rate.withUnsafeMutableBufferPointer { r in
          if training {
            factor.withUnsafeMutableBufferPointer { e in
              kappa.withUnsafeMutableBufferPointer { k in
                body(
                  UncheckedSendable(v.baseAddress!), UncheckedSendable(s.baseAddress!),
                  UncheckedSendable(r.baseAddress!), UncheckedSendable(e.baseAddress!),
                  UncheckedSendable(k.baseAddress!))
              }
            }
          } else {
            body(
              UncheckedSendable(v.baseAddress!), UncheckedSendable(s.baseAddress!),
              UncheckedSendable(r.baseAddress!), nil, nil)
          }
        }
      }
    }
  }

  static func chunks(_ n: Int) -> Int { max(1, min(Parallel.defaultThreads, n / 4096)) }

  /// Σ of all spikes (read before ``finish(scale:training:)``).
  func totalSpikes() -> Int {
    rate.withUnsafeBufferPointer { r in
      var total = 0.0
      for v in r { total += Double(v) }
      return Int(total.rounded())
    }
  }

  /// Turns the sums into r and κ (× 1/T).
  func finish(scale: Float, training: Bool) {
    current = Tensor(shape: [0])  // release the synapses' output buffer
    rate.scale(by: scale)
    if training { kappa.scale(by: scale) }
  }

  /// δc = κ ⊙ δr, then the straight-through BN backward if there is BN.
  func backward(_ gradRate: Tensor, norm: BatchNorm?) -> Tensor {
    precondition(gradRate.count == kappa.count, "rate pass: gradient \(gradRate.shape)")
    let n = kappa.count
    guard let norm else {
      gradCurrent.prepare(shape: kappa.shape)
      gradRate.withUnsafeBufferPointer { g in
        kappa.withUnsafeBufferPointer { k in
          gradCurrent.withUnsafeMutableBufferPointer { o in
            for i in 0..<n { o[i] = k[i] * g[i] }
          }
        }
      }
      return gradCurrent
    }
    gradCurrent.prepare(shape: cbar.shape)
    var gy = Tensor(shape: cbar.shape)
    gradRate.withUnsafeBufferPointer { g in
      kappa.withUnsafeBufferPointer { k in
        gy.withUnsafeMutableBufferPointer { o in
          for i in 0..<n { o[i] = k[i] * g[i] }
        }
      }
    }
    let rows = cbar.count / (channels * inner)
    let gamma = norm.gamma.value.scalars
    cbar.withUnsafeBufferPointer { c in
      gy.withUnsafeBufferPointer { g in
        gradCurrent.withUnsafeMutableBufferPointer { o in
          norm.gamma.gradient.withUnsafeMutableBufferPointer { dg in
            norm.beta.gradient.withUnsafeMutableBufferPointer { db in
              ChannelMoments.straightThroughBackward(
                input: c.baseAddress!, gradOutput: g.baseAddress!, gradInput: o.baseAddress!,
                rows: rows, channels: channels, inner: inner, mean: statisticsMean,
                inverseStd: statisticsInverseStd, gamma: gamma, scale: norm.scale,
                gradGamma: dg.baseAddress!, gradBeta: db.baseAddress!)
            }
          }
        }
      }
    }
    cbar = Tensor(shape: [0])
    return gradCurrent
  }
}
