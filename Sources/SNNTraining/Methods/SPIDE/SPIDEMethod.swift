import SNNBase
import SNNEngine

/// SPIDE (Xiao et al. 2023): purely spike-based training of feedback spiking networks by
/// implicit differentiation, on the event engine.
///
/// Per batch:
/// 1. the feedback weight is reparametrized by the norm cap (``FeedbackNormCap``) and the
///    network quantized (``SPIDECompiledNetwork``);
/// 2. per sample (samples in parallel over the threads): the input current F·x + b_0, the
///    **forward phase** (``SPIDEForwardPhase``, T steps) giving rates a_l and gates m_l;
///    the non-spiking readout on a_L with cross-entropy; g = s·∂CE/∂a_L; the **backward
///    phase** (``SPIDEBackwardPhase``, T_b steps of ternary neurons on the transposed graph)
///    giving β_l; the **local updates** ∂W_l = (1/q)(m_l ⊙ β_l)·a_{l−1}ᵀ,
///    ∂b_l = (1/q)(m_l ⊙ β_l), ∂F = (1/q)(m_0 ⊙ β_0)·xᵀ (x: the image, or the mean frame of
///    event input), ∂W_fb = (1/q)(m_0 ⊙ β_0)·a_Lᵀ, each a product of a forward and a
///    backward rate;
/// 3. the sums over the batch are reduced in thread order, the feedback gradient multiplied
///    by the cap's factor, and SGD (momentum, weight decay on every parameter as in the
///    reference) steps with learning rate η/s — the loss was scaled by s.
///
/// Dropout is variational (one mask per sample for all T and T_b steps) on the input current
/// of the selected layers, applied to the backward inputs too, and left out of the weight
/// gradients, as the reference does.
final class SPIDEMethod: TrainingMethod {
  let name = "spide"
  var parameters: ParameterStore
  var optimizer: ParameterOptimizer
  let architecture: SPIDEArchitecture
  let settings: SPIDESettings
  let timeSteps: Int
  let eventInput: Bool
  let dropout: [Double]
  var workers: [SPIDEWorker] = []
  /// Sums over the current and the last completed training epoch (for the summary).
  var epochSums = SPIDEWorker.Extras()
  var epochSamples = 0.0
  var lastEpochSums: SPIDEWorker.Extras?
  var lastEpochSamples = 0.0
  /// The last norm estimate of W̃ and its factor (diagnostics).
  var lastFeedbackNorm = 0.0
  var lastFeedbackFactor = 1.0
  /// A compiled network for evaluation (no dropout), valid until the parameters change; only
  /// kept when there is no feedback (whose norm estimate is drawn per batch).
  var evaluationPlan: SPIDEBatchPlan?

  init(_ setup: MethodSetup) throws {
    settings = SPIDESettings(setup.options)
    try settings.neuron.validate(prefix: "--")
    timeSteps = setup.configuration.timeSteps
    let frames = setup.sampleShape.frames
    guard frames == 1 || frames == timeSteps else {
      throw ConfigurationError.invalid(
        field: "dataset frames", value: "\(frames) frames per sample",
        expected: "1 (a static input) or T = \(timeSteps) (event frames)")
    }
    eventInput = frames > 1
    var store = try ParameterStore(model: setup.model, seed: setup.configuration.seed)
    let analysis = setup.analysis
    architecture = try SPIDEArchitecture(analysis: analysis, spec: setup.model, store: store)
    // Initialization as the reference: Kaiming-normal (fan-in) hidden weights, zero biases;
    // PyTorch's default Linear initialization for the readout; feedback Kaiming × 0.1.
    let seed = setup.configuration.seed
    let readout = analysis.layers.last!
    let bound = 1 / Double(readout.fanIn).squareRoot()
    store.reinitialize(
      architecture.readoutWeightIndex, with: .uniform(low: -bound, high: bound), seed: seed)
    if let b = architecture.readoutBiasIndex {
      store.reinitialize(b, with: .uniform(low: -bound, high: bound), seed: seed)
    }
    if let f = architecture.feedbackIndex {
      store.reinitialize(
        f, with: .kaimingNormal(gain: 2.0.squareRoot() * settings.feedbackInitScale, mode: .fanIn),
        seed: seed)
    }
    parameters = store
    var optimizerSettings = setup.configuration.optimizer
    optimizerSettings.weightDecayGroups = [.weight, .bias]
    optimizer = ParameterOptimizer(settings: optimizerSettings, parameters: store)
    let (convDropout, linearDropout) = (settings.convDropout, settings.linearDropout)
    dropout = architecture.kinds.map { kind in
      switch kind {
      case .conv: return convDropout
      case .linear: return linearDropout
      case .pool: return 0
      }
    }
    // Validate the network once (shapes, fixed point).
    _ = try plan(training: false, random: nil, batchSize: 1, frames: nil)
  }

  var parameterCount: Int { parameters.scalarCount }

  // MARK: Batches

  /// Builds the network from the parameters and quantizes it for this batch.
  func plan(
    training: Bool, random: UnsafeMutablePointer<Xoshiro256StarStar>?, batchSize: Int,
    frames: Batch?
  ) throws(ConfigurationError) -> SPIDEBatchPlan {
    var factor = 1.0
    if let f = architecture.feedbackIndex {
      let p = parameters[f]
      var generator = random?.pointee ?? Xoshiro256StarStar(seed: 0)
      let norm = settings.normCap.norm(p.values, rows: p.shape[0], using: &generator)
      random?.pointee = generator
      factor = settings.normCap.factor(norm: norm)
      lastFeedbackNorm = norm
      lastFeedbackFactor = factor
    }
    let network = try architecture.network(
      parameters, neuron: settings.neuron, feedbackScale: Float(factor))
    let keep = training ? dropout.map { 1 - $0 } : nil
    var bound = 0.0
    if eventInput, let frames {
      var largest: Float = 0
      for v in frames.inputs {
        guard v >= 0, v == v.rounded(), v < 65536 else {
          throw .invalid(
            field: "event frames", value: "\(v)",
            expected: "non-negative integer event counts (SPIDE delivers them as events)")
        }
        largest = max(largest, v)
      }
      // A power of two, so that most batches share one fixed point.
      bound = 1
      while bound < Double(largest) { bound *= 2 }
    }
    let compiled = try SPIDECompiledNetwork(
      network: network, timeSteps: timeSteps, backwardTimeSteps: settings.backwardTimeSteps,
      keep: keep, inputEventBound: bound)
    let readout = parameters[architecture.readoutWeightIndex].values
    let last = network.layers.last!
    let classes = architecture.classCount
    let inCount = last.realNeuronCount
    var w = [Float](repeating: 0, count: classes * last.neuronCount)
    for e in 0..<last.neuronCount {
      let f = Int(architecture.lastLayerFlatIndex[e])
      if f < 0 { continue }
      for k in 0..<classes { w[k * last.neuronCount + e] = readout[k * inCount + f] }
    }
    let bias =
      architecture.readoutBiasIndex.map { parameters[$0].values }
      ?? [Float](repeating: 0, count: classes)
    var seed: UInt64 = 0
    if training, let random { seed = random.pointee.next() }
    return SPIDEBatchPlan(
      compiled: compiled, readoutWeights: w, readoutBias: bias,
      dropout: training ? dropout : dropout.map { _ in 0 },
      gradientScale: settings.scaleFactor / Double(batchSize), training: training,
      eventInput: eventInput, seed: seed)
  }

  func ensureWorkers(_ count: Int, network: SPIDENetwork) {
    while workers.count < count {
      workers.append(
        SPIDEWorker(
          architecture: architecture, network: network, timeSteps: timeSteps,
          backwardTimeSteps: settings.backwardTimeSteps))
    }
  }

  /// Runs every sample of `batch` through the workers; returns the number of chunks used.
  func runSamples(_ batch: Batch, plan: SPIDEBatchPlan) -> Int {
    let chunks = max(1, min(Parallel.defaultThreads, batch.count))
    ensureWorkers(chunks, network: plan.compiled.network)
    for c in 0..<chunks { workers[c].resetSums() }
    let shared = UncheckedSendable(workers)
    Parallel.forEachChunk(count: batch.count, chunks: chunks) { chunk, range in
      let worker = shared.value[chunk]
      for i in range { worker.process(batch, sample: i, plan: plan) }
    }
    return chunks
  }

  func metrics(_ batch: Batch, chunks: Int) -> (BatchMetrics, SPIDEWorker.Extras) {
    var loss = 0.0
    var correct = 0
    var counter = workers[0].counter
    counter.reset()
    var extras = SPIDEWorker.Extras()
    for c in 0..<chunks {
      loss += workers[c].lossSum
      correct += workers[c].correct
      counter.merge(workers[c].counter)
      extras.add(workers[c].extras)
    }
    return (
      BatchMetrics(
        sampleCount: batch.count, lossSum: loss, correctCount: correct, operations: counter,
        extraSums: extras.pairs),
      extras
    )
  }

  func trainBatch(_ batch: Batch, context: StepContext) throws -> BatchMetrics {
    var random = context.random
    let plan = try withUnsafeMutablePointer(to: &random) { r in
      try self.plan(training: true, random: r, batchSize: batch.count, frames: batch)
    }
    evaluationPlan = nil
    let chunks = runSamples(batch, plan: plan)
    let (result, extras) = metrics(batch, chunks: chunks)
    epochSums.add(extras)
    epochSamples += Double(batch.count)

    // Reduce the gradients in chunk order and map them to the store's layouts.
    parameters.zeroGradients()
    let network = plan.compiled.network
    for l in architecture.layers.indices {
      guard let w = architecture.weightIndex[l], let map = architecture.canonicalToStore[l] else {
        continue
      }
      let projection = network.projection(into: l)
      let backwardMap = projection.backwardLayout(map)
      parameters.withGradients(w) { g in
        for c in 0..<chunks {
          workers[c].weightGradients[l].withUnsafeBufferPointer { src in
            for i in 0..<src.count where backwardMap[i] >= 0 { g[Int(backwardMap[i])] += src[i] }
          }
        }
      }
      if let b = architecture.biasIndex[l] {
        parameters.withGradients(b) { g in
          for c in 0..<chunks {
            for i in 0..<g.count { g[i] += workers[c].biasGradients[l][i] }
          }
        }
      }
    }
    if let f = architecture.feedbackIndex, let fb = network.feedback,
      let map = architecture.feedbackCanonicalToStore
    {
      let backwardMap = fb.backwardLayout(map)
      let factor = Float(lastFeedbackFactor)
      parameters.withGradients(f) { g in
        for c in 0..<chunks {
          workers[c].feedbackGradient.withUnsafeBufferPointer { src in
            for i in 0..<src.count where backwardMap[i] >= 0 { g[Int(backwardMap[i])] += src[i] }
          }
        }
        for i in 0..<g.count { g[i] *= factor }
      }
    }
    let last = network.layers.last!
    let classes = architecture.classCount
    let inCount = last.realNeuronCount
    parameters.withGradients(architecture.readoutWeightIndex) { g in
      for c in 0..<chunks {
        workers[c].readoutWeightGradient.withUnsafeBufferPointer { src in
          for e in 0..<last.neuronCount {
            let f = Int(architecture.lastLayerFlatIndex[e])
            if f < 0 { continue }
            for k in 0..<classes { g[k * inCount + f] += src[k * last.neuronCount + e] }
          }
        }
      }
    }
    if let b = architecture.readoutBiasIndex {
      parameters.withGradients(b) { g in
        for c in 0..<chunks {
          for k in 0..<classes { g[k] += workers[c].readoutBiasGradient[k] }
        }
      }
    }
    optimizer.step(&parameters, learningRate: context.learningRate / settings.scaleFactor)
    return result
  }

  func evaluateBatch(_ batch: Batch, context: EvaluationContext) throws -> BatchMetrics {
    let plan: SPIDEBatchPlan
    if let cached = evaluationPlan, !eventInput {
      plan = cached
    } else {
      var random = context.random
      plan = try withUnsafeMutablePointer(to: &random) { r in
        try self.plan(training: false, random: r, batchSize: batch.count, frames: batch)
      }
      if architecture.feedbackIndex == nil && !eventInput { evaluationPlan = plan }
    }
    let chunks = runSamples(batch, plan: plan)
    return metrics(batch, chunks: chunks).0
  }

  // MARK: Summary

  func epochDidEnd(epoch: Int) -> [(key: String, value: JSONValue)] {
    lastEpochSums = epochSums
    lastEpochSamples = epochSamples
    epochSums = SPIDEWorker.Extras()
    epochSamples = 0
    var out = summaryExtras()
    if architecture.feedbackIndex != nil {
      out.append(("feedback_norm_estimate", JSONValue(lastFeedbackNorm)))
      out.append(("feedback_norm_factor", JSONValue(lastFeedbackFactor)))
    }
    return out
  }

  func summaryExtras() -> [(key: String, value: JSONValue)] {
    guard let s = lastEpochSums, lastEpochSamples > 0 else { return [] }
    let n = lastEpochSamples
    let backwardSamples = max(s.backwardSamples, 1)
    let macsPerStep = Double(architecture.analysis.macsPerStep)
    return [
      ("forward_rate", JSONValue(s.forwardSpikes / max(s.forwardNeuronSteps, 1))),
      ("backward_rate", JSONValue(s.backwardSpikes / max(s.backwardNeuronSteps, 1))),
      ("forward_synaptic_events_per_sample", JSONValue(s.forwardSynapticEvents / n)),
      ("backward_synaptic_events_per_sample", JSONValue(s.backwardSynapticEvents / backwardSamples)),
      ("forward_spikes_per_sample", JSONValue(s.forwardSpikes / n)),
      ("backward_spikes_per_sample", JSONValue(s.backwardSpikes / backwardSamples)),
      ("input_events_per_sample", JSONValue(s.inputEvents / n)),
      ("forward_block_evaluations_per_sample", JSONValue(s.forwardBlockEvaluations / n)),
      ("backward_block_evaluations_per_sample", JSONValue(s.backwardBlockEvaluations / backwardSamples)),
      ("T_backward", JSONValue(settings.backwardTimeSteps)),
      (
        "dense_macs_per_sample",
        JSONValue(macsPerStep * Double(timeSteps + settings.backwardTimeSteps))
      ),
      // What the optimizer really decays (spide decays biases too, as the reference's SGD).
      (
        "weight_decay_groups_used",
        .array(optimizer.settings.weightDecayGroups.map { JSONValue($0.name) })
      ),
    ]
  }

  // MARK: State

  func exportState() -> MethodState {
    func sums(_ e: SPIDEWorker.Extras?, _ samples: Double) -> JSONValue {
      guard let e else { return .null }
      var object: JSONValue = ["samples": JSONValue(samples)]
      for (k, v) in e.pairs { object.set(k, JSONValue(v)) }
      return object
    }
    let json: JSONValue = [
      "optimizer": optimizer.stateJSON,
      "epoch_sums": sums(epochSums, epochSamples),
      "last_epoch_sums": sums(lastEpochSums, lastEpochSamples),
    ]
    return MethodState(json: json, blobs: parameters.blobs() + optimizer.stateBlobs)
  }

  func restoreState(_ state: MethodState) throws(CheckpointError) {
    func readSums(_ value: JSONValue?, _ field: String) throws(CheckpointError) -> (
      SPIDEWorker.Extras, Double
    )? {
      guard let value, value != .null else { return nil }
      var e = SPIDEWorker.Extras()
      func number(_ key: String) throws(CheckpointError) -> Double {
        guard let d = value[key]?.doubleValue else {
          throw CheckpointError(
            .invalidHeader, field: "method_state.\(field).\(key)", expected: "a number",
            found: value[key]?.description ?? "nothing")
        }
        return d
      }
      e.forwardSpikes = try number("forward_spikes")
      e.backwardSpikes = try number("backward_spikes")
      e.forwardSynapticEvents = try number("forward_synaptic_events")
      e.backwardSynapticEvents = try number("backward_synaptic_events")
      e.inputEvents = try number("input_events")
      e.forwardBlockEvaluations = try number("forward_block_evaluations")
      e.backwardBlockEvaluations = try number("backward_block_evaluations")
      e.forwardNeuronSteps = try number("forward_neuron_steps")
      e.backwardNeuronSteps = try number("backward_neuron_steps")
      e.backwardSamples = try number("backward_samples")
      return (e, try number("samples"))
    }
    guard let optimizerJSON = state.json["optimizer"] else {
      throw CheckpointError(
        .invalidHeader, field: "method_state.optimizer", expected: "the optimizer state",
        found: "nothing")
    }
    let current = try readSums(state.json["epoch_sums"], "epoch_sums")
    let previous = try readSums(state.json["last_epoch_sums"], "last_epoch_sums")
    var restoredParameters = parameters
    try restoredParameters.load(state.blobs)
    var restoredOptimizer = optimizer
    try restoredOptimizer.restore(
      blobs: state.blobs, json: optimizerJSON, field: "method_state.optimizer")
    parameters = restoredParameters
    optimizer = restoredOptimizer
    epochSums = current?.0 ?? SPIDEWorker.Extras()
    epochSamples = current?.1 ?? 0
    lastEpochSums = previous?.0
    lastEpochSamples = previous?.1 ?? 0
    evaluationPlan = nil
  }
}
