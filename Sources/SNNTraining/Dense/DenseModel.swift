import SNNBase
import SNNTensor

/// A ``ModelSpec`` compiled to the dense backend: SNNTensor layers running all T steps of a
/// batch at once, with hand-written backward passes, and the parameters in a
/// ``ParameterStore``.
///
/// **Network.** For every `conv`/`linear` stage: the synapses (`Conv2d` or `Linear`), then,
/// for hidden layers, an optional normalization (BN or tdBN, ``Normalization``) and a
/// multi-step `LIF` (``NeuronConfiguration``). Pooling and flatten stages pass values through
/// (average pooling of spikes gives fractions: the spec has no neuron stage after pools).
/// The last `linear` stage is a non-spiking readout averaged over time,
///
///     z = (1/T)·Σ_t (W·s[t] + b) = W·((1/T)·Σ_t s[t]) + b,
///
/// computed in the second form (one product of B rows instead of T·B; identical
/// mathematics), and the loss is the softmax cross-entropy of z (``SoftmaxCrossEntropy``).
///
/// **Inputs.** A batch is sample-major `[B, frames, C, H, W]` (``Batch``). One frame is a
/// static image injected as current at every step: the first weighted layer (and its
/// normalization) then runs once on `[B, …]` and its neurons read the same current at each
/// step (`LIF.forward(staticCurrent:steps:)`); backward sums over time before the first
/// layer's weight gradient, which therefore costs one product instead of T. With T frames
/// (event data), the input is transposed to time-major `[T, B, C, H, W]` and every layer
/// runs over all steps. `Linear` layers pick the event-driven spike kernel by measured
/// input density (``Configuration/spikeInputPolicy``).
///
/// **Parameters.** ``parameters`` is the one authority for the values (checkpoints, the
/// optimizer, other backends). The layers hold same-sized placeholder arrays; every
/// ``forward(_:)`` / ``backward(_:)`` (and ``withBoundParameters(_:)``) *lends* the store's
/// value and gradient arrays to the layers by swapping array buffers (O(1), no copy) and
/// takes them back before returning. Between calls the layers' own arrays are stale and
/// must not be read. Gradients accumulate into `parameters[i].gradients`; zero them with
/// `parameters.zeroGradients()` before a backward pass.
///
/// BN running statistics are state, not parameters: ``stateBlobs()`` / ``loadState(_:)``.
public final class DenseModel {
  public let spec: ModelSpec
  public let analysis: ModelAnalysis
  public let configuration: Configuration
  /// Values and gradients of every parameter (see the type's discussion).
  public var parameters: ParameterStore
  /// The compiled stages in spec order.
  public let stages: [Stage]
  /// The index in ``stages`` of the first weighted stage (it computes no input gradient).
  public let firstWeightedStage: Int

  /// (store index, layer parameter) pairs lent by ``withBoundParameters(_:)``.
  let bindings: [(storeIndex: Int, parameter: SNNTensor.Parameter)]
  var isBound = false

  // Per-forward records for backward.
  var stageInputIsStatic: [Bool]
  var stageInputShapes: [[Int]]
  var batchSize = 0
  var readoutInput = Tensor(shape: [0])
  var readoutGradient = Tensor(shape: [0])
  var timeMajorInput = Tensor(shape: [0])
  var lastCounter: SynOpCounter?

  /// Training mode (batch statistics in BN) or evaluation mode (running statistics).
  public var isTraining = true {
    didSet { for stage in stages { for layer in stage.layers { layer.isTraining = isTraining } } }
  }

  /// Compiles `spec` for `configuration` and takes `parameters` (which must hold exactly
  /// ``parameterLayout(analysis:configuration:)``, e.g. from
  /// ``makeParameters(spec:configuration:seed:)`` or a checkpoint).
  ///
  /// Throws ``ConfigurationError`` for a spec the dense backend cannot run: no linear
  /// readout (`readout` must be `.linear`), feedback connections, or a store whose names or
  /// shapes differ from the layout.
  public init(spec: ModelSpec, parameters: ParameterStore, configuration: Configuration)
    throws(ConfigurationError)
  {
    let analysis = try spec.analyze()
    guard configuration.timeSteps >= 1 else {
      throw .invalid(
        field: "--T", value: "\(configuration.timeSteps)", expected: "an integer ≥ 1")
    }
    guard spec.readout == .linear, analysis.endsWithLinear else {
      throw .invalid(
        field: "model readout", value: spec.readout.rawValue,
        expected: "a non-spiking linear readout (the dense methods average it over time)")
    }
    guard spec.feedbacks.isEmpty else {
      throw .invalid(
        field: "--model", value: spec.notation,
        expected: "a feed-forward model (the dense backend has no feedback connections)")
    }
    let layout = DenseModel.parameterLayout(analysis: analysis, configuration: configuration)
    guard parameters.names == layout.map(\.name),
      zip(parameters.parameters, layout).allSatisfy({ $0.shape == $1.shape })
    else {
      throw .invalid(
        field: "parameters", value: parameters.names.joined(separator: ", "),
        expected: "the dense layout "
          + layout.map { "\($0.name) \($0.shape)" }.joined(separator: ", "))
    }

    var stages: [Stage] = []
    var bindings: [(Int, SNNTensor.Parameter)] = []
    var placeholder = SplitMix64(seed: 0)
    func bind(_ p: SNNTensor.Parameter?, _ name: String) {
      guard let p, let i = parameters.index(of: name) else { return }
      bindings.append((i, p))
    }
    for info in analysis.stages {
      switch info.stage {
      case .flatten:
        stages.append(
          Stage(
            kind: .flatten, index: info.index, layer: nil, norm: nil, neuron: nil,
            input: info.input, output: info.output))
      case .avgPool(let k):
        stages.append(
          Stage(
            kind: .avgPool(AvgPool2d(name: "pool\(info.index + 1)", kernelSize: k)),
            index: info.index, layer: nil, norm: nil, neuron: nil, input: info.input,
            output: info.output))
      case .maxPool(let k):
        stages.append(
          Stage(
            kind: .maxPool(MaxPool2d(name: "pool\(info.index + 1)", kernelSize: k)),
            index: info.index, layer: nil, norm: nil, neuron: nil, input: info.input,
            output: info.output))
      case .conv, .linear:
        let layer = analysis.layers[info.layerNumber! - 1]
        let kind: Stage.Kind
        switch layer.kind {
        case .conv(let kernel, let stride, let padding):
          let conv = Conv2d(
            name: layer.name, inChannels: layer.input.channels,
            outChannels: layer.output.channels, kernelSize: kernel, stride: stride,
            padding: padding, initializer: .zeros, biasInitializer: spec.bias ? .zeros : nil,
            threads: Parallel.defaultThreads, using: &placeholder)
          bind(conv.weight, layer.name + ".weight")
          bind(conv.bias, layer.name + ".bias")
          kind = .conv(conv)
        case .linear:
          let linear = Linear(
            name: layer.name, inFeatures: layer.input.elementCount,
            outFeatures: layer.output.elementCount, initializer: .zeros,
            biasInitializer: spec.bias ? .zeros : nil, weightLayout: .outputMajor,
            using: &placeholder)
          linear.spikeInputPolicy = configuration.spikeInputPolicy
          bind(linear.weight, layer.name + ".weight")
          bind(linear.bias, layer.name + ".bias")
          kind = .linear(linear)
        }
        var norm: BatchNorm?
        var neuron: LIF?
        if layer.isSpiking {
          let channels = layer.output.channels
          switch configuration.normalization {
          case .none: break
          case .batchNorm:
            norm = BatchNorm(name: layer.name + ".norm", channelCount: channels)
          case .thresholdDependent(let eta):
            norm = BatchNorm.thresholdDependent(
              name: layer.name + ".norm", channelCount: channels,
              vThreshold: configuration.neuron.vThreshold, eta: eta)
          }
          bind(norm?.gamma, layer.name + ".norm.gamma")
          bind(norm?.beta, layer.name + ".norm.beta")
          let lif = configuration.neuron.makeLayer(
            name: layer.name + ".neuron", primitiveMode: configuration.primitiveMode)
          bind(lif.leakLogit, layer.name + ".neuron.leak_logit")
          neuron = lif
        }
        stages.append(
          Stage(
            kind: kind, index: info.index, layer: layer, norm: norm, neuron: neuron,
            input: info.input, output: info.output))
      }
    }
    precondition(
      bindings.count == parameters.count - configuration.extraParameters.count,
      "DenseModel: not every parameter is bound to a layer")
    self.spec = spec
    self.analysis = analysis
    self.configuration = configuration
    self.parameters = parameters
    self.stages = stages
    self.bindings = bindings
    firstWeightedStage = stages.firstIndex { $0.layer != nil }!
    stages[firstWeightedStage].setComputesInputGradient(false)
    stageInputIsStatic = Array(repeating: false, count: stages.count)
    stageInputShapes = Array(repeating: [], count: stages.count)
  }

  /// A model for `spec` with fresh parameters initialized from `seed` (see
  /// ``makeParameters(spec:configuration:seed:)``).
  public convenience init(spec: ModelSpec, configuration: Configuration, seed: UInt64)
    throws(ConfigurationError)
  {
    try self.init(
      spec: spec,
      parameters: try DenseModel.makeParameters(
        spec: spec, configuration: configuration, seed: seed),
      configuration: configuration)
  }

  /// The number of classes (outputs of the readout).
  public var classCount: Int { analysis.classCount }
  /// The hidden weighted stages (those with neurons), in order.
  public var spikingStages: [Stage] { stages.filter { $0.neuron != nil } }

  // MARK: Parameter binding

  /// Runs `body` with the store's values and gradients lent to the layers (O(1) buffer
  /// swaps; see the type's discussion). Nested calls are allowed (only the outermost one
  /// swaps). Use it to drive the layers directly, e.g. for a custom forward pass.
  public func withBoundParameters<R>(_ body: () throws -> R) rethrows -> R {
    if isBound { return try body() }
    swapBindings()
    isBound = true
    defer {
      swapBindings()
      isBound = false
    }
    return try body()
  }

  private func swapBindings() {
    for (i, p) in bindings {
      p.value.swapScalars(with: &parameters[i].values)
      p.gradient.swapScalars(with: &parameters[i].gradients)
    }
  }

  // MARK: Forward

  /// The time-averaged readout logits `[B, classes]` of `batch` (see the type's
  /// discussion). Caches what ``backward(_:)`` needs; in training mode BN uses and updates
  /// batch statistics.
  public func forward(_ batch: Batch) -> Tensor {
    forward(inputs: batch.inputs, sampleShape: batch.sampleShape, batchSize: batch.count)
  }

  /// The logits of `batchSize` samples of `sampleShape` stored sample-major in `inputs`.
  /// `sampleShape.frames` must be 1 (static input) or T.
  public func forward(inputs: [Float], sampleShape: SampleShape, batchSize: Int) -> Tensor {
    let steps = configuration.timeSteps
    precondition(
      sampleShape.frames == 1 || sampleShape.frames == steps,
      "DenseModel: samples have \(sampleShape.frames) frames; expected 1 (static) or T = \(steps)")
    precondition(
      sampleShape.feature.elementCount == spec.input.elementCount,
      "DenseModel: sample shape \(sampleShape.feature) does not match the model input \(spec.input)"
    )
    precondition(batchSize >= 1 && inputs.count == batchSize * sampleShape.elementCount)
    let feature = spec.input
    let perFrame = [feature.channels, feature.height, feature.width]
    var x: Tensor
    var isStatic: Bool
    if sampleShape.frames == 1 {
      x = Tensor(shape: [batchSize] + perFrame, scalars: inputs)
      isStatic = true
    } else {
      timeMajorInput.prepare(shape: [steps, batchSize] + perFrame)
      let f = feature.elementCount
      inputs.withUnsafeBufferPointer { src in
        timeMajorInput.withUnsafeMutableBufferPointer { dst in
          for b in 0..<batchSize {
            for t in 0..<steps {
              (dst.baseAddress! + (t * batchSize + b) * f).update(
                from: src.baseAddress! + (b * steps + t) * f, count: f)
            }
          }
        }
      }
      x = timeMajorInput
      isStatic = false
    }
    self.batchSize = batchSize
    var counter =
      configuration.countsOperations ? SynOpCounter(layerNames: analysis.layers.map(\.name)) : nil
    let logits = withBoundParameters { () -> Tensor in
      var logits = Tensor(shape: [0])
      // The number of ones of x when x is known to be binary (a neuron layer's output,
      // perhaps flattened), so that counting passes over each spike tensor once.
      var knownOnes: Int? = nil
      // The product of the average pools since the last neurons: their output is spikes
      // averaged over k×k windows, counted as the spikes routed through the pool.
      var poolFactor = 1
      for (i, stage) in stages.enumerated() {
        stageInputIsStatic[i] = isStatic
        stageInputShapes[i] = x.shape
        if counter != nil, let layer = stage.layer {
          countSynapses(
            layer: layer, input: x, isStatic: isStatic, knownOnes: knownOnes,
            poolFactor: poolFactor, into: &counter!)
        }
        switch stage.kind {
        case .flatten:
          let lead = isStatic ? 1 : 2
          x = x.reshaped(Array(x.shape.prefix(lead)) + [x.shape.dropFirst(lead).reduce(1, *)])
        case .avgPool(let pool):
          x = pool.forward(x)
          knownOnes = nil
          poolFactor *= pool.kernelSize
        case .maxPool(let pool):
          x = pool.forward(x)
          knownOnes = nil
        case .conv, .linear:
          poolFactor = 1
          let synapses = stage.synapses!
          if stage.isReadout {
            if isStatic {
              logits = synapses.forward(x)
            } else {
              meanOverTime(x)
              logits = synapses.forward(readoutInput)
            }
            continue
          }
          var y = synapses.forward(x)
          if let norm = stage.norm {
            y =
              isStatic
              ? norm.forward(y.reshaped([1] + y.shape)).reshaped(y.shape) : norm.forward(y)
          }
          let neuron = stage.neuron!
          if isStatic {
            x = neuron.forward(staticCurrent: y, steps: steps)
            isStatic = false
          } else {
            x = neuron.forward(y)
          }
          if counter != nil, let n = stage.layer?.number {
            knownOnes = x.binaryCount
            counter!.addNeuronUpdates(x.count, layer: n - 1)
            // Primitive mode spikes are fractions: count the nonzero ones.
            let spikes =
              knownOnes ?? x.withUnsafeBufferPointer { $0.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }
            counter!.addSpikes(spikes, layer: n - 1)
          }
        }
      }
      return logits
    }
    lastCounter = counter
    return logits
  }

  /// `readoutInput[b, n] = (1/T)·Σ_t x[t, b, n]` for `x` `[T, B, N]`.
  private func meanOverTime(_ x: Tensor) {
    let steps = x.shape[0], n = x.elementsPerStep
    readoutInput.prepare(shape: Array(x.shape.dropFirst()))
    let scale = 1 / Float(steps)
    x.withUnsafeBufferPointer { src in
      readoutInput.withUnsafeMutableBufferPointer { dst in
        let d = dst.baseAddress!, s = src.baseAddress!
        d.update(from: s, count: n)
        for t in 1..<max(steps, 1) {
          let row = s + t * n
          for i in 0..<n { d[i] += row[i] }
        }
        for i in 0..<n { d[i] *= scale }
      }
    }
  }

  /// The operation counts of the last forward pass (nil when not counting): per weighted
  /// layer, synaptic accumulates (binary inputs: active inputs × their fan-out) or MACs
  /// (analog inputs, per step: the image current is counted at each of the T steps), and
  /// the neuron updates and spikes of its neurons.
  public var operations: SynOpCounter? { lastCounter }

  // MARK: Backward

  /// Backpropagates ∂L/∂logits (`[B, classes]`) of the last ``forward(_:)`` through time
  /// (BPTT): accumulates every parameter's gradient into ``parameters``. One backward per
  /// forward.
  public func backward(_ gradLogits: Tensor) {
    precondition(
      gradLogits.shape == [batchSize, classCount],
      "DenseModel: gradient \(gradLogits.shape), expected \([batchSize, classCount])")
    let steps = configuration.timeSteps
    withBoundParameters {
      var g = gradLogits
      // True while g is `[B, …]` and stands for the same ∂L/∂x at every step (below the
      // time-averaged readout): the neurons take it as is, without T copies.
      var constantOverTime = false
      for i in stride(from: stages.count - 1, through: firstWeightedStage, by: -1) {
        let stage = stages[i]
        switch stage.kind {
        case .flatten:
          let shape = stageInputShapes[i]
          g = g.reshaped(constantOverTime ? Array(shape.dropFirst()) : shape)
        case .avgPool(let pool):
          if constantOverTime { g = broadcastOverTime(g, steps: steps) }
          constantOverTime = false
          g = pool.backward(g)
        case .maxPool(let pool):
          if constantOverTime { g = broadcastOverTime(g, steps: steps) }
          constantOverTime = false
          g = pool.backward(g)
        case .conv, .linear:
          let synapses = stage.synapses!
          if stage.isReadout {
            // z = W·mean_t(s) + b: ∂L/∂s[t] = Wᵀ·∂L/∂z / T at every step.
            let gm = synapses.backward(g)
            if i == firstWeightedStage { return }
            g = stageInputIsStatic[i] ? gm : gm * (1 / Float(steps))
            constantOverTime = !stageInputIsStatic[i]
            continue
          }
          let neuron = stage.neuron!
          g = constantOverTime ? neuron.backward(timeConstantGradient: g) : neuron.backward(g)
          constantOverTime = false
          if let norm = stage.norm {
            g =
              stageInputIsStatic[i]
              ? norm.backward(g.reshaped([1] + g.shape)).reshaped(g.shape) : norm.backward(g)
          }
          g = synapses.backward(g)
        }
      }
    }
  }

  /// `[T, …]`: `g` (`[…]`) repeated at every step.
  private func broadcastOverTime(_ g: Tensor, steps: Int) -> Tensor {
    let n = g.count
    readoutGradient.prepare(shape: [steps] + g.shape)
    g.withUnsafeBufferPointer { src in
      readoutGradient.withUnsafeMutableBufferPointer { dst in
        for t in 0..<steps { (dst.baseAddress! + t * n).update(from: src.baseAddress!, count: n) }
      }
    }
    return readoutGradient
  }
}
