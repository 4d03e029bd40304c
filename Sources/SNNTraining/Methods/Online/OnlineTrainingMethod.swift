import SNNBase
import SNNTensor

/// Online training through time with presynaptic traces: OTTT (Xiao et al., "Online
/// Training Through Time for Spiking Neural Networks", NeurIPS 2022) and NDOT (Jiang et al.,
/// "NDOT: Neuronal Dynamics-based Online Training for Spiking Neural Networks", ICML 2024),
/// the `ottt` and `ndot` methods. They differ only in the trace's decay factor
/// (``PresynapticTraceRule``).
///
/// **Forward, per step t.** Every hidden layer runs one LIF step with the previous
/// membrane detached (``OnlineNeuronKernel``), so no graph links the steps; its output is
/// the spikes × ``Settings/spikeScale`` (2.74 in the reference VGG: conv → LIF → Scale),
/// and every neuron keeps its trace â[t] = P·â[t−1] + S[t], which passes through the same
/// scale and pooling as the spikes. Hidden conv/linear weights may go through scaled weight
/// standardization (``ScaledWeightStandardization``). The readout o[t] = W_o·x_L[t] + b is
/// computed every step.
///
/// **Backward, per step t (no graph across time).** L[t] = ``MixedStepLoss``; the error
/// flows through the spike path of step t only: δs^{l−1} = Wᵀ·δu^l, δu^l = δs^l ⊙
/// h(H^l[t] − V_th) (× the spike scale), and every layer but the first takes its weight
/// gradient against the *trace* of its input, ∂L[t]/∂W^l = δu^l·(â^{l−1}[t])ᵀ; the first
/// (input) layer uses x[t] (``Settings/traceInput`` traces it too, with factor λ).
///
/// **Updates.** ``Schedule/online`` takes an optimizer step after every t (T per batch);
/// ``Schedule/accumulate`` sums the T steps' gradients and steps once.
///
/// **Memory.** Per hidden neuron V, H, S, the scaled output, â and its scaled copy (NDOT:
/// one or two previous q), plus one step's tensors: O(L·B·N), independent of T. Time is
/// T × (one step forward + one step backward), like BPTT.
///
/// **Prediction** is argmax_k Σ_t o[t]_k (= the time-averaged readout's argmax); the
/// reported loss is Σ_t L[t] in training and evaluation.
public final class OnlineTrainingMethod: DenseTrainingMethod {
  public enum Schedule: String, Sendable, CaseIterable {
    /// An optimizer step after every time step (NDOT_O, OTTT_O).
    case online
    /// Gradients summed over the T steps, one optimizer step per batch (NDOT_A, OTTT_A).
    case accumulate
  }

  public struct Settings: Equatable, Sendable {
    public var trace: PresynapticTraceRule
    public var schedule: Schedule
    /// α of the per-step loss (the MSE share).
    public var lossAlpha: Double
    /// The factor after every spiking layer (2.74 in the reference VGG; 1: none).
    public var spikeScale: Float
    /// Scaled weight standardization of the hidden layers' weights.
    public var weightStandardization: Bool
    /// Trace the input as well (factor λ) for the first layer's weight gradient.
    public var traceInput: Bool

    public init(
      trace: PresynapticTraceRule, schedule: Schedule = .accumulate, lossAlpha: Double = 0.05,
      spikeScale: Float = 2.74, weightStandardization: Bool = true, traceInput: Bool = false
    ) {
      self.trace = trace
      self.schedule = schedule
      self.lossAlpha = lossAlpha
      self.spikeScale = spikeScale
      self.weightStandardization = weightStandardization
      self.traceInput = traceInput
    }
  }

  /// A hidden layer's standardization: W and g in the store, Ŵ and ∂L/∂Ŵ.
  struct Standardization {
    var transform: ScaledWeightStandardization
    let weightIndex: Int
    let gainIndex: Int
    var standardized: [Float]
    var gradient: [Float]
  }

  public let name: String
  public let model: DenseModel
  public var optimizer: ParameterOptimizer
  public let settings: Settings
  let kernel: OnlineNeuronKernel<Float>
  let surrogate: SurrogateKernel<Float>
  let layers: [OnlineLayerState]
  let slotOfStage: [Int: Int]
  /// Pool stage index → a second pool object for the traces (forward only).
  let tracePools: [Int: any DenseLayer]
  /// Stage index → standardization.
  var standardizations: [Int: Standardization] = [:]
  let readoutIndex: Int
  var inputTrace = Tensor(shape: [0])
  var frame = Tensor(shape: [0])
  var firstLayerGradient = Tensor(shape: [0])

  /// The names of the gains added for scaled weight standardization: `<layer>.ws_gain`,
  /// one per output unit of every hidden layer, initialized to 1, group `normalization`.
  public static func gainDescriptors(_ analysis: ModelAnalysis) -> [ParameterDescriptor] {
    analysis.layers.filter(\.isSpiking).map { layer in
      ParameterDescriptor(
        name: layer.name + ".ws_gain", shape: [layer.weightShape[0]], group: .normalization,
        initializer: .constant(1))
    }
  }

  /// A method for `setup` with fresh parameters: hidden weights Kaiming-normal with fan-out
  /// (PyTorch `kaiming_normal_(mode='fan_out')`), the readout N(0, 0.01²), zero biases,
  /// gains 1 (the reference's initialization).
  ///
  /// Throws ``ConfigurationError`` when the frame count is neither 1 nor T, the charge is
  /// not `.leaky`, or the dense backend cannot run the model.
  public init(
    name: String, setup: MethodSetup, settings: Settings, neuron: DenseModel.NeuronConfiguration
  ) throws(ConfigurationError) {
    let steps = try setup.timeStepsMatchingFrames()
    let lambda = try neuron.leakyLambda()
    var neuron = neuron
    neuron.detachMembrane = true
    neuron.detachReset = true
    if settings.weightStandardization {
      for layer in setup.analysis.layers where layer.isSpiking && layer.fanIn < 2 {
        throw .invalid(
          field: "--weight-standardization", value: "scaled",
          expected: "layers with a fan-in of at least 2 (\(layer.name) has \(layer.fanIn))")
      }
    }
    let configuration = DenseModel.Configuration(
      timeSteps: steps, neuron: neuron, normalization: .none,
      extraParameters: settings.weightStandardization
        ? OnlineTrainingMethod.gainDescriptors(setup.analysis) : [])
    self.name = name
    self.settings = settings
    let seed = setup.configuration.seed
    let compiled = try DenseModel(spec: setup.model, configuration: configuration, seed: seed)
    for layer in compiled.analysis.layers {
      guard let i = compiled.parameters.index(of: layer.name + ".weight") else { continue }
      compiled.parameters.reinitialize(
        i,
        with: layer.isReadout
          ? .normal(mean: 0, std: 0.01) : .kaimingNormal(gain: 2.0.squareRoot(), mode: .fanOut),
        seed: seed)
    }
    model = compiled
    optimizer = ParameterOptimizer(
      settings: setup.configuration.optimizer, parameters: compiled.parameters)
    kernel = OnlineNeuronKernel(
      leak: lambda, vThreshold: neuron.vThreshold, vReset: neuron.vReset,
      hardReset: neuron.reset == .hard, rule: settings.trace)
    surrogate = neuron.surrogate.resolved(beta: Double(lambda), vThreshold: 1).kernel()
    let hidden = compiled.hiddenStageIndices
    layers = hidden.map { OnlineLayerState(stage: compiled.stages[$0], index: $0) }
    slotOfStage = Dictionary(uniqueKeysWithValues: hidden.enumerated().map { ($1, $0) })
    var pools: [Int: any DenseLayer] = [:]
    for (i, stage) in compiled.stages.enumerated() {
      switch stage.kind {
      case .avgPool(let p): pools[i] = AvgPool2d(kernelSize: p.kernelSize, stride: p.stride)
      case .maxPool(let p): pools[i] = MaxPool2d(kernelSize: p.kernelSize, stride: p.stride)
      default: break
      }
    }
    tracePools = pools
    readoutIndex = compiled.readoutStageIndex
    if settings.weightStandardization {
      for i in hidden {
        let layer = compiled.stages[i].layer!
        let w = compiled.parameters.index(of: layer.name + ".weight")!
        let g = compiled.parameters.index(of: layer.name + ".ws_gain")!
        let count = compiled.parameters[w].count
        standardizations[i] = Standardization(
          transform: ScaledWeightStandardization(rows: layer.weightShape[0], fanIn: layer.fanIn),
          weightIndex: w, gainIndex: g, standardized: [Float](repeating: 0, count: count),
          gradient: [Float](repeating: 0, count: count))
      }
    }
  }

  var steps: Int { model.configuration.timeSteps }

  // MARK: Training and evaluation

  public func trainBatch(_ batch: Batch, context: StepContext) throws -> BatchMetrics {
    run(batch, training: true, learningRate: context.learningRate)
  }

  public func evaluateBatch(_ batch: Batch, context: EvaluationContext) throws -> BatchMetrics {
    run(batch, training: false, learningRate: 0)
  }

  /// Runs the T steps of `batch`; in training, with the gradients and updates of the
  /// schedule (`accumulate`: the gradient of Σ_t L[t] is left in `model.parameters` and one
  /// optimizer step taken; `online`: one step per t). With `learningRate == nil` no
  /// optimizer step is taken and the accumulated gradient stays (tests).
  @discardableResult
  func run(_ batch: Batch, training: Bool, learningRate: Double?) -> BatchMetrics {
    let b = batch.count, steps = self.steps
    model.isTraining = training
    defer { model.isTraining = true }
    for layer in layers { layer.reset(batch: b, kernel: kernel, training: training) }
    if training { model.parameters.zeroGradients() }
    // Ŵ from the current W and g, in evaluation too: the cached Ŵ predates the last
    // optimizer step, and is empty after a checkpoint was restored.
    standardizeAll()
    var counter =
      model.configuration.countsOperations
      ? SynOpCounter(layerNames: model.analysis.layers.map(\.name)) : nil
    let feature = model.spec.input
    let isStaticInput = batch.sampleShape.frames == 1
    let image =
      isStaticInput
      ? Tensor(shape: [b, feature.channels, feature.height, feature.width], scalars: batch.inputs)
      : nil
    if training && settings.traceInput {
      inputTrace.prepare(shape: [b, feature.channels, feature.height, feature.width])
      inputTrace.fill(0)
    }
    // With a static image and one update per batch, the first layer's current is the same
    // at every step and its weight gradient Σ_t δu[t]·xᵀ is taken once from Σ_t δu[t].
    let reuseFirstLayer =
      isStaticInput && settings.schedule == .accumulate && !(training && settings.traceInput)
    let deferFirstGradient = training && reuseFirstLayer
    var lossSum = 0.0
    var logitSum = Tensor(shape: [b, model.classCount])
    for t in 0..<steps {
      var x: Tensor
      if let image {
        x = image
      } else {
        DenseModel.gatherFrame(
          t, of: batch.inputs, batch: b, frames: steps, feature: feature, into: &frame)
        x = frame
      }
      withStandardizedWeights {
        let logits = forwardStep(
          t, x, batch: b, training: training, reuseFirstLayer: reuseFirstLayer && t > 0,
          isStaticInput: isStaticInput, counter: &counter)
        logitSum += logits.output
        let loss = MixedStepLoss(
          logits: logits.output, labels: batch.labels, alpha: settings.lossAlpha, steps: steps,
          computeGradient: training)
        lossSum += loss.lossSum
        if training {
          backwardStep(loss.gradient, logits, step: t, deferFirstGradient: deferFirstGradient)
        }
      }
      if training && settings.schedule == .online, let learningRate {
        applyStandardizationGradients()
        optimizer.step(&model.parameters, learningRate: learningRate)
        model.parameters.zeroGradients()
        standardizeAll()
      }
    }
    let steppedOnline = settings.schedule == .online && learningRate != nil
    if training && !steppedOnline {
      applyStandardizationGradients()
      if let learningRate { optimizer.step(&model.parameters, learningRate: learningRate) }
    }
    if var c = counter {
      for layer in layers {
        guard let number = model.stages[layer.stageIndex].layer?.number else { continue }
        c.addNeuronUpdates(layer.membrane.count * steps, layer: number - 1)
        c.addSpikes(layer.spikeCount, layer: number - 1)
      }
      counter = c
    }
    return BatchMetrics(
      sampleCount: b, lossSum: lossSum,
      correctCount: OnlineTrainingMethod.correctCount(logitSum, batch.labels),
      operations: counter)
  }

  /// Samples whose label is the first index of the maximum of Σ_t o[t].
  static func correctCount(_ logits: Tensor, _ labels: [Int]) -> Int {
    let k = logits.shape[1]
    return logits.withUnsafeBufferPointer { z in
      var correct = 0
      for (b, y) in labels.enumerated() {
        var best = 0
        for j in 1..<k where z[b * k + j] > z[b * k + best] { best = j }
        if best == y { correct += 1 }
      }
      return correct
    }
  }

  // MARK: One step

  /// The readout of one step and what its backward pass needs.
  struct StepRecord {
    var output: Tensor
    /// Per stage: the input shape (for flatten's backward).
    var inputShapes: [[Int]]
    /// Per hidden slot, and for the readout: the weight-gradient input when it is not the
    /// forward's own input (a trace).
    var weightInputs: [Tensor?]
    var readoutWeightInput: Tensor?
  }

  /// Forward of step t from the network input `x` (`[B, C, H, W]`), inside the bound scope.
  private func forwardStep(
    _ t: Int, _ input: Tensor, batch b: Int, training: Bool, reuseFirstLayer: Bool,
    isStaticInput: Bool, counter: inout SynOpCounter?
  ) -> StepRecord {
    var x = input
    var isStatic = isStaticInput
    var trace: Tensor? = nil
    if training && settings.traceInput {
      let lambda = kernel.leak
      inputTrace.withUnsafeMutableBufferPointer { a in
        x.withUnsafeBufferPointer { s in
          for i in 0..<a.count { a[i] = lambda * a[i] + s[i] }
        }
      }
      trace = inputTrace
    }
    var record = StepRecord(
      output: Tensor(shape: [0]), inputShapes: Array(repeating: [], count: model.stages.count),
      weightInputs: Array(repeating: nil, count: layers.count), readoutWeightInput: nil)
    for i in model.stages.indices {
      let stage = model.stages[i]
      record.inputShapes[i] = x.shape
      switch stage.kind {
      case .flatten:
        x = x.reshaped([b, x.count / b])
        trace = trace?.reshaped([b, x.count / b])
        continue
      case .avgPool(let pool):
        x = pool.forward(x)
        if let a = trace { trace = tracePools[i]!.forward(a) }
        continue
      case .maxPool(let pool):
        x = pool.forward(x)
        if let a = trace { trace = tracePools[i]!.forward(a) }
        continue
      case .conv, .linear:
        break
      }
      let synapses = stage.synapses!
      if counter != nil {
        model.countSynapticWork(
          layer: stage.layer!, input: x, isStatic: isStatic, steps: 1, batch: b,
          poolFactor: model.poolFactor(beforeStage: i),
          spikeValue: isStatic || i == model.firstWeightedStage ? 1 : settings.spikeScale,
          into: &counter!)
      }
      if stage.isReadout {
        record.output = synapses.forward(x)
        if training {
          record.readoutWeightInput = trace
        } else {
          stage.releaseSynapseInput()
        }
        break
      }
      let slot = slotOfStage[i]!
      let state = layers[slot]
      if !(reuseFirstLayer && i == model.firstWeightedStage) {
        state.current = Tensor(shape: [0])  // so that the synapses reuse their output buffer
        state.current = synapses.forward(x)
        if !training { stage.releaseSynapseInput() }
      }
      record.weightInputs[slot] = trace
      state.step(kernel: kernel, training: training, scale: settings.spikeScale)
      let scaled = settings.spikeScale != 1
      x = scaled ? state.output : state.spikes
      trace = training ? (scaled ? state.scaledTrace : state.trace) : nil
      isStatic = false
    }
    return record
  }

  /// Backward of one step (inside the bound scope): readout, then down through the spike
  /// path of this step; weight gradients against the traces.
  private func backwardStep(
    _ gradient: Tensor, _ record: StepRecord, step t: Int, deferFirstGradient: Bool
  ) {
    let readout = model.stages[readoutIndex]
    if let a = record.readoutWeightInput { readout.replaceSynapseInput(a) }
    var g = readout.synapses!.backward(gradient)
    let first = model.firstWeightedStage
    guard readoutIndex > first else { return }
    for i in stride(from: readoutIndex - 1, through: first, by: -1) {
      let stage = model.stages[i]
      switch stage.kind {
      case .flatten:
        g = g.reshaped(record.inputShapes[i])
      case .avgPool(let pool):
        g = pool.backward(g)
      case .maxPool(let pool):
        g = pool.backward(g)
      case .conv, .linear:
        let slot = slotOfStage[i]!
        let state = layers[slot]
        let gu = state.currentGradient(
          g, surrogate: surrogate, vThreshold: kernel.vThreshold, scale: settings.spikeScale)
        if i == first && deferFirstGradient {
          // Σ_t δu[t], then one backward against the (static) input at the last step.
          if t == 0 {
            firstLayerGradient = gu
          } else {
            firstLayerGradient += gu
          }
          if t == steps - 1 {
            g = stage.synapses!.backward(firstLayerGradient)
            firstLayerGradient = Tensor(shape: [0])
          }
          continue
        }
        if let a = record.weightInputs[slot] { stage.replaceSynapseInput(a) }
        g = stage.synapses!.backward(gu)
      }
    }
  }

  // MARK: Weight standardization

  /// Ŵ of every standardized layer from the store's W and g.
  func standardizeAll() {
    for i in standardizations.keys.sorted() {
      var s = standardizations[i]!
      let w = model.parameters[s.weightIndex].values
      let g = model.parameters[s.gainIndex].values
      w.withUnsafeBufferPointer { wp in
        g.withUnsafeBufferPointer { gp in
          s.standardized.withUnsafeMutableBufferPointer { out in
            s.transform.standardize(weights: wp, gain: gp, into: out)
          }
        }
      }
      standardizations[i] = s
    }
  }

  /// Runs `body` inside the bound scope with Ŵ and ∂L/∂Ŵ in place of the layers' W and
  /// ∂L/∂W.
  private func withStandardizedWeights(_ body: () -> Void) {
    model.withBoundParameters {
      swapStandardized()
      body()
      swapStandardized()
    }
  }

  private func swapStandardized() {
    for i in standardizations.keys.sorted() {
      guard let weight = model.stages[i].weightParameter else { continue }
      weight.value.swapScalars(with: &standardizations[i]!.standardized)
      weight.gradient.swapScalars(with: &standardizations[i]!.gradient)
    }
  }

  /// Adds ∂L/∂W and ∂L/∂g from the accumulated ∂L/∂Ŵ, then clears ∂L/∂Ŵ.
  func applyStandardizationGradients() {
    for i in standardizations.keys.sorted() {
      var s = standardizations[i]!
      let gain = model.parameters[s.gainIndex].values
      var gainGradient = [Float](repeating: 0, count: gain.count)
      model.parameters.withGradients(s.weightIndex) { gw in
        s.gradient.withUnsafeBufferPointer { gp in
          gain.withUnsafeBufferPointer { g in
            gainGradient.withUnsafeMutableBufferPointer { gg in
              s.transform.backward(gp, gain: g, gradWeights: gw, gradGain: gg)
            }
          }
        }
      }
      model.parameters.withGradients(s.gainIndex) { gg in
        for r in 0..<gg.count { gg[r] += gainGradient[r] }
      }
      s.gradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
      standardizations[i] = s
    }
  }
}

extension DenseModel.Stage {
  /// The weight parameter of a weighted stage's synapses.
  var weightParameter: SNNTensor.Parameter? {
    switch kind {
    case .conv(let c): return c.weight
    case .linear(let l): return l.weight
    case .avgPool, .maxPool, .flatten: return nil
    }
  }
}

/// The per-layer buffers of ``OnlineTrainingMethod``.
final class OnlineLayerState {
  let stageIndex: Int
  let sampleShape: [Int]
  var membrane = Tensor(shape: [0])
  var potential = Tensor(shape: [0])
  var spikes = Tensor(shape: [0])
  /// spikeScale·S and spikeScale·â (unused when the scale is 1).
  var output = Tensor(shape: [0])
  var trace = Tensor(shape: [0])
  var scaledTrace = Tensor(shape: [0])
  var previous = Tensor(shape: [0])
  var previous2 = Tensor(shape: [0])
  var current = Tensor(shape: [0])
  var gradCurrent = Tensor(shape: [0])
  var spikeCount = 0

  init(stage: DenseModel.Stage, index: Int) {
    stageIndex = index
    sampleShape = stage.sampleOutputShape
  }

  func reset(batch: Int, kernel: OnlineNeuronKernel<Float>, training: Bool) {
    let shape = [batch] + sampleShape
    membrane.prepare(shape: shape)
    membrane.fill(kernel.restingMembrane)
    potential.prepare(shape: shape)
    spikes.prepare(shape: shape)
    spikeCount = 0
    guard training else { return }
    trace.prepare(shape: shape)
    trace.fill(0)
    if kernel.rule != .constant {
      previous.prepare(shape: shape)
      previous.fill(0)
    }
    if kernel.rule == .paper {
      previous2.prepare(shape: shape)
      previous2.fill(0)
    }
  }

  /// One step on `current`: spikes, potential, membrane, and (training) the trace; then
  /// `output` = scale·S and `scaledTrace` = scale·â.
  func step(kernel: OnlineNeuronKernel<Float>, training: Bool, scale: Float) {
    let n = membrane.count
    let traced = training
    let usesPrevious = traced && kernel.rule != .constant
    let usesPrevious2 = traced && kernel.rule == .paper
    current.withUnsafeBufferPointer { i in
      membrane.withUnsafeMutableBufferPointer { v in
        potential.withUnsafeMutableBufferPointer { h in
          spikes.withUnsafeMutableBufferPointer { s in
            trace.withUnsafeMutableBufferPointer { a in
              previous.withUnsafeMutableBufferPointer { q1 in
                previous2.withUnsafeMutableBufferPointer { q2 in
                  let ib = UncheckedSendable(i.baseAddress!), vb = UncheckedSendable(v.baseAddress!)
                  let hb = UncheckedSendable(h.baseAddress!), sb = UncheckedSendable(s.baseAddress!)
                  let ab = UncheckedSendable(traced ? a.baseAddress : nil)
                  let q1b = UncheckedSendable(usesPrevious ? q1.baseAddress : nil)
                  let q2b = UncheckedSendable(usesPrevious2 ? q2.baseAddress : nil)
                  Parallel.forEachChunk(count: n, chunks: RateLayerState.chunks(n)) { _, range in
                    kernel.step(
                      range: range, current: ib.value, membrane: vb.value, potential: hb.value,
                      spikes: sb.value, trace: ab.value, previous: q1b.value,
                      previous2: q2b.value)
                  }
                }
              }
            }
          }
        }
      }
    }
    spikeCount += spikes.withUnsafeBufferPointer { s in
      var count: Float = 0
      for v in s { count += v }
      return Int(count)
    }
    if scale == 1 { return }
    output.prepare(shape: spikes.shape)
    output.withUnsafeMutableBufferPointer { o in
      spikes.withUnsafeBufferPointer { s in for j in 0..<n { o[j] = scale * s[j] } }
    }
    if training {
      scaledTrace.prepare(shape: trace.shape)
      scaledTrace.withUnsafeMutableBufferPointer { o in
        trace.withUnsafeBufferPointer { a in for j in 0..<n { o[j] = scale * a[j] } }
      }
    }
  }

  /// δI[t] = scale·δx ⊙ h(H[t] − V_th) for ∂L/∂(scaled output) `g`.
  func currentGradient(
    _ g: Tensor, surrogate: SurrogateKernel<Float>, vThreshold vth: Float, scale: Float
  ) -> Tensor {
    precondition(g.count == potential.count, "online step: gradient \(g.shape)")
    gradCurrent.prepare(shape: potential.shape)
    let n = potential.count
    g.withUnsafeBufferPointer { gp in
      potential.withUnsafeBufferPointer { h in
        gradCurrent.withUnsafeMutableBufferPointer { o in
          let p = surrogate.parameter
          switch surrogate.kind {
          case .sigmoid:
            for j in 0..<n { o[j] = scale * gp[j] * SigmoidShape.derivative(h[j] - vth, p) }
          case .atan:
            for j in 0..<n { o[j] = scale * gp[j] * ATanShape.derivative(h[j] - vth, p) }
          case .rectangle:
            for j in 0..<n { o[j] = scale * gp[j] * RectangleShape.derivative(h[j] - vth, p) }
          case .triangle:
            for j in 0..<n { o[j] = scale * gp[j] * TriangleShape.derivative(h[j] - vth, p) }
          }
        }
      }
    }
    return gradCurrent
  }
}
