import SNNBase
import SNNEngine

/// Event-driven backpropagation (Zhu et al., NeurIPS 2022) on the event engine.
///
/// Forward and backward passes run sample by sample as event streams through an
/// ``SRMSimulator`` (SRM neurons with M, S, G traces; convolutional and dense synapses over
/// pooled spike cells; a backward queue of spike events ordered by step and layer
/// descending). Around it: weight standardisation per output channel with learnable gain
/// and bias (``WeightStandardization``), the spike-count loss with the supervisory trick,
/// the initial per-layer scale search, and AdamW with a cosine schedule and global
/// gradient-norm clipping (1.0 unless `--clip-grad-norm` says otherwise). See
/// Docs/Methods.md, "Event-driven backprop (edbp)".
///
/// **Parallelism.** A batch is split into a fixed number of groups (min(batch, 8)), each
/// simulated by its own workspace on any thread; the groups' gradients are summed in group
/// order, so results do not depend on the thread count.
public final class EDBPMethod: TrainingMethod {
  public let name = "edbp"
  public let settings: EDBPSettings
  public let configuration: RunConfiguration
  /// The compiled network with the current standardised weights.
  public private(set) var network: SRMNetwork
  public private(set) var store: ParameterStore
  var optimizer: ParameterOptimizer
  var standardizations: [WeightStandardization]
  let layerNames: [String]
  let weightIndex: [Int], gainIndex: [Int], biasIndex: [Int]
  let sampleShape: SampleShape
  let classCount: Int
  let workers: [SRMSimulator]
  /// Whether the scale search has run (it runs on the first training batch).
  public private(set) var initialized: Bool
  /// The scale search's outcome per layer: the gain multiplier, its final bracket, the
  /// late-window spike count per neuron at the multiplier and the target.
  public private(set) var scaleSearchResults:
    [(multiplier: Double, low: Double, high: Double, count: Double, target: Double)] = []
  /// Sums over the current training epoch (forward events, backward events, backward spike
  /// events, samples), and the per-sample values of the last completed epoch.
  var epochSums = [Double](repeating: 0, count: 4)
  var lastEpochPerSample: [Double]? = nil
  /// Threads for the sample groups (nil: `Parallel.defaultThreads`). Results do not depend
  /// on it.
  public var threadCount: Int? = nil

  /// The number of sample groups a batch of `batchSize` is split into.
  public static func groupCount(batchSize: Int) -> Int { max(1, min(batchSize, 8)) }

  public init(setup: MethodSetup) throws(ConfigurationError) {
    settings = try EDBPSettings(setup: setup)
    configuration = setup.configuration
    sampleShape = setup.sampleShape
    classCount = setup.classCount
    let T = setup.configuration.timeSteps
    let input: SRMNetwork.Input
    if setup.sampleShape.frames == 1 {
      input = .current
    } else if setup.sampleShape.frames == T {
      input = .frames
    } else {
      throw .invalid(
        field: "--T", value: "\(T)",
        expected: "1 frame per sample or T = \(setup.sampleShape.frames) (the dataset's frames)")
    }
    let analysis = setup.analysis
    let specs = try EDBPMethod.compile(setup.model)
    let f = setup.model.input
    network = try SRMNetwork(
      input: input,
      inputShape: SRMNetwork.Shape(height: f.height, width: f.width, channels: f.channels),
      timeSteps: T, parameters: settings.neuron, layers: specs)
    guard network.layers.last!.output.count == setup.classCount else {
      throw .invalid(
        field: "--model", value: "\(network.layers.last!.output.count) outputs",
        expected: "\(setup.classCount) (one output neuron per class)")
    }
    // Parameters: each layer's weight, then its standardisation gain and bias.
    var store = ParameterStore()
    var names: [String] = [], wi: [Int] = [], gi: [Int] = [], bi: [Int] = []
    var standardizations: [WeightStandardization] = []
    let seed = setup.configuration.seed
    for layer in analysis.layers {
      let weight = analysis.parameterLayout.first { $0.name == layer.name + ".weight" }!
      guard layer.fanIn >= 2 else {
        throw .invalid(
          field: "--model", value: "layer \(layer.name) with fan-in \(layer.fanIn)",
          expected: "a fan-in of at least 2 (weight standardisation)")
      }
      names.append(layer.name)
      wi.append(store.add(weight, seed: seed))
      let out = layer.weightShape[0]
      gi.append(
        store.add(
          ParameterDescriptor(
            name: layer.name + ".ws_gain", shape: [out], group: .normalization,
            initializer: .constant(1)), seed: seed))
      bi.append(
        store.add(
          ParameterDescriptor(
            name: layer.name + ".ws_bias", shape: [out], group: .normalization,
            initializer: .zeros), seed: seed))
      standardizations.append(WeightStandardization(outChannels: out, fanIn: layer.fanIn))
    }
    self.store = store
    self.standardizations = standardizations
    layerNames = names
    weightIndex = wi
    gainIndex = gi
    biasIndex = bi
    var optimizerSettings = setup.configuration.optimizer
    if optimizerSettings.gradientClipNorm == nil { optimizerSettings.gradientClipNorm = 1 }
    optimizerSettings.weightDecayGroups = [.weight, .normalization]
    optimizer = ParameterOptimizer(settings: optimizerSettings, parameters: store)
    let groups = EDBPMethod.groupCount(batchSize: setup.configuration.batchSize)
    let net = network
    let shared = SRMWeightBuffers(net)
    workers = (0..<groups).map { _ in SRMSimulator(network: net, weights: shared) }
    initialized = !settings.scaleSearch
    standardizeAll()
  }

  /// The layers of `model` for the engine: convolutions and dense layers, each with the
  /// average pooling before it folded in. Refuses max pooling, feedback, pooling before
  /// the first layer and two poolings in a row.
  public static func compile(_ model: ModelSpec) throws(ConfigurationError) -> [SRMNetwork
    .LayerSpec]
  {
    guard model.feedbacks.isEmpty else {
      throw .invalid(
        field: "--model", value: model.notation, expected: "no feedback (edbp is feed-forward)")
    }
    var specs: [SRMNetwork.LayerSpec] = []
    var pool = 1
    for stage in model.stages {
      switch stage {
      case .conv(let out, let kernel, let stride, let padding):
        specs.append(
          .conv(outChannels: out, kernel: kernel, stride: stride, padding: padding, pool: pool))
        pool = 1
      case .linear(let out):
        specs.append(.dense(outFeatures: out, pool: pool))
        pool = 1
      case .avgPool(let k):
        guard !specs.isEmpty, pool == 1 else {
          throw .invalid(
            field: "--model", value: model.notation,
            expected: "average pooling only after a layer, at most one in a row (edbp)")
        }
        pool = k
      case .maxPool:
        throw .invalid(
          field: "--model", value: model.notation, expected: "average pooling only (edbp)")
      case .flatten:
        break
      }
    }
    guard pool == 1 else {
      throw .invalid(
        field: "--model", value: model.notation, expected: "a last layer after pooling")
    }
    return specs
  }

  public var parameterCount: Int { store.scalarCount }

  // MARK: Weights

  /// Standardises layer `l`'s weights into the network.
  func standardize(layer l: Int) {
    var output = [Float](repeating: 0, count: store[weightIndex[l]].count)
    standardizations[l].forward(
      weights: store[weightIndex[l]].values, gain: store[gainIndex[l]].values,
      bias: store[biasIndex[l]].values, into: &output)
    output.withUnsafeBufferPointer { network.setWeights(layer: l, $0) }
  }

  func standardizeAll() {
    for l in layerNames.indices { standardize(layer: l) }
    publishNetwork()
  }

  func publishNetwork() {
    let shared = SRMWeightBuffers(network)
    for worker in workers { worker.setNetwork(network, weights: shared) }
  }

  // MARK: Samples

  /// What one group of samples produced.
  struct GroupResult {
    var lossSum = 0.0
    var correct = 0
    var counters: SRMSimulator.Counters? = nil
    var lateSpikes: [Int] = []
  }

  /// Simulates the samples of `batch` in groups on all cores: forward, and with
  /// `train`, loss gradients and backward (gradients stay in the workers).
  func run(_ batch: Batch, train: Bool, flips: [Bool]) -> [GroupResult] {
    let groups = workers.count
    var results = [GroupResult](repeating: GroupResult(), count: groups)
    let T = network.timeSteps
    let late = (2 * T) / 3
    let frameSize = sampleShape.feature.elementCount
    let frames = sampleShape.frames
    let f = sampleShape.feature
    let settings = self.settings
    let layerCount = network.layers.count
    results.withUnsafeMutableBufferPointer { out in
      batch.inputs.withUnsafeBufferPointer { inputs in
        Parallel.forEach(iterations: groups, threads: threadCount ?? Parallel.defaultThreads) { g in
          let sim = workers[g]
          sim.resetCounters()
          if train { sim.zeroGradients() }
          var result = GroupResult()
          result.lateSpikes = [Int](repeating: 0, count: layerCount)
          var buffer = [Float](repeating: 0, count: frames * frameSize)
          for s in Parallel.chunkRange(g, of: groups, count: batch.count) {
            // Channels-first [frames, C, H, W] to channels-last [frames, H, W, C].
            let base = s * frames * frameSize
            let flip = flips.isEmpty ? false : flips[s]
            for t in 0..<frames {
              for c in 0..<f.channels {
                for y in 0..<f.height {
                  for x in 0..<f.width {
                    let sx = flip ? f.width - 1 - x : x
                    buffer[t * frameSize + (y * f.width + x) * f.channels + c] =
                      inputs[base + t * frameSize + (c * f.height + y) * f.width + sx]
                  }
                }
              }
            }
            buffer.withUnsafeBufferPointer { sim.forward(input: $0) }
            let label = batch.labels[s]
            let scores = sim.outputScores()
            var best = 0
            for k in scores.indices where scores[k] > scores[best] { best = k }
            if best == label { result.correct += 1 }
            for l in 0..<layerCount { result.lateSpikes[l] += sim.spikeCount(layer: l, from: late) }
            if train && settings.supervisoryTrick {
              sim.applySupervisoryTrick(label: label, duThreshold: settings.trickThreshold)
            }
            let counts = sim.outputCounts()
            let (loss, gradients) = EDBPMethod.countLoss(
              counts: counts, label: label, timeSteps: T, desired: settings.desiredCount,
              undesired: settings.undesiredCount)
            result.lossSum += loss
            if train {
              sim.setOutputGradients(gradients)
              sim.backward(options: settings.backward)
            }
          }
          result.counters = sim.counters
          out[g] = result
        }
      }
    }
    return results
  }

  /// The count loss of spec A2 for one sample: δ_k = (n_k − τ_k)/T with τ the desired
  /// count for the label and the undesired count otherwise, δ_k = 0 when the label neuron
  /// fires more than desired or another neuron less than undesired;
  /// L = ½·Σ_t Σ_k δ_k² = ½·T·Σ_k δ_k². Returns L and dL/dt for each output neuron's
  /// spikes, −δ_k.
  public static func countLoss(
    counts: [Int], label: Int, timeSteps T: Int, desired: Double, undesired: Double
  ) -> (loss: Double, spikeGradients: [Float]) {
    var loss = 0.0
    var gradients = [Float](repeating: 0, count: counts.count)
    for k in counts.indices {
      let n = Double(counts[k])
      var delta: Double
      if k == label {
        delta = n > desired ? 0 : (n - desired) / Double(T)
      } else {
        delta = n < undesired ? 0 : (n - undesired) / Double(T)
      }
      loss += 0.5 * Double(T) * delta * delta
      gradients[k] = Float(-delta)
    }
    return (loss, gradients)
  }

  func metrics(_ results: [GroupResult], samples: Int, train: Bool) -> BatchMetrics {
    var counter = SynOpCounter(layerNames: layerNames)
    var loss = 0.0, correct = 0
    var forward = 0, backward = 0, backwardSpikes = 0
    for r in results {
      loss += r.lossSum
      correct += r.correct
      guard let c = r.counters else { continue }
      for l in layerNames.indices {
        counter.addAccumulates(c.layerSynapticEvents[l], layer: l)
        counter.addSpikes(c.spikes[l], layer: l)
      }
      counter.addMultiplyAccumulates(c.forwardMACs, layer: 0)
      forward += c.forwardSynapticEvents
      backward += c.backwardSynapticEvents
      backwardSpikes += c.backwardSpikeEvents
    }
    for l in layerNames.indices {
      counter.addNeuronUpdates(
        network.layers[l].output.count * network.timeSteps * samples, layer: l)
    }
    var extras: [(key: String, value: Double)] = [("forward_synaptic_events", Double(forward))]
    if train {
      extras.append(("backward_events", Double(backward)))
      extras.append(("backward_spike_events", Double(backwardSpikes)))
      epochSums[0] += Double(forward)
      epochSums[1] += Double(backward)
      epochSums[2] += Double(backwardSpikes)
      epochSums[3] += Double(samples)
    }
    return BatchMetrics(
      sampleCount: samples, lossSum: loss, correctCount: correct, operations: counter,
      extraSums: extras)
  }

  // MARK: Training

  public func trainBatch(_ batch: Batch, context: StepContext) throws -> BatchMetrics {
    if !initialized { scaleSearch(batch) }
    var random = context.random
    let flips = settings.horizontalFlip ? batch.labels.map { _ in random.next() & 1 == 1 } : []
    let results = run(batch, train: true, flips: flips)
    let metrics = self.metrics(results, samples: batch.count, train: true)
    applyGradients(samples: batch.count)
    optimizer.step(&store, learningRate: context.learningRate)
    standardizeAll()
    return metrics
  }

  /// Sums the workers' gradients in group order, maps them through the standardisation
  /// backward into the store (mean over the batch).
  func applyGradients(samples: Int) {
    store.zeroGradients()
    for l in layerNames.indices {
      let count = network.layers[l].weightCount
      var total = [Float](repeating: 0, count: count)
      total.withUnsafeMutableBufferPointer { t in
        for worker in workers {
          worker.withGradient(layer: l) { g in
            for i in 0..<count { t[i] += g[i] }
          }
        }
      }
      var model = [Float](repeating: 0, count: count)
      total.withUnsafeBufferPointer { t in
        model.withUnsafeMutableBufferPointer { m in
          network.addGradient(layer: l, transposed: t, scale: 1 / Float(samples), into: m)
        }
      }
      let wide = model.map(Double.init)
      let gain = store[gainIndex[l]].values
      var gw = [Float](repeating: 0, count: count)
      var gg = [Float](repeating: 0, count: gain.count), gb = gg
      wide.withUnsafeBufferPointer { g in
        gw.withUnsafeMutableBufferPointer { w in
          gg.withUnsafeMutableBufferPointer { a in
            gb.withUnsafeMutableBufferPointer { b in
              standardizations[l].backward(
                g, gain: gain, kind: settings.standardizationBackward, weights: w, gain: a,
                bias: b)
            }
          }
        }
      }
      store[weightIndex[l]].gradients = gw
      store[gainIndex[l]].gradients = gg
      store[biasIndex[l]].gradients = gb
    }
  }

  /// The initial scale search of spec A4, layer by layer on `batch`: a geometric bisection
  /// over [0.05, 500] of a multiplier on the layer's gains, until high/low < 1.01, towards
  /// a mean late-window spike count per neuron (steps t ≥ ⌊2T/3⌋) of
  /// 1.2·avg_spike_init·(T − ⌊2T/3⌋)/T.
  public func scaleSearch(_ batch: Batch) {
    let T = network.timeSteps
    let target = 1.2 * settings.averageSpikeInit * Double(T - (2 * T) / 3) / Double(T)
    scaleSearchResults = []
    for l in layerNames.indices {
      let original = store[gainIndex[l]].values
      let neurons = Double(network.layers[l].output.count * batch.count)
      func count(_ multiplier: Double) -> Double {
        store[gainIndex[l]].values = original.map { $0 * Float(multiplier) }
        standardize(layer: l)
        publishNetwork()
        let results = run(batch, train: false, flips: [])
        return Double(results.reduce(0) { $0 + $1.lateSpikes[l] }) / neurons
      }
      var low = 0.05, high = 500.0
      while high / low >= 1.01 {
        let m = (low * high).squareRoot()
        if count(m) > target { high = m } else { low = m }
      }
      let m = (low * high).squareRoot()
      let final = count(m)
      scaleSearchResults.append((m, low, high, final, target))
    }
    initialized = true
  }

  public func evaluateBatch(_ batch: Batch, context: EvaluationContext) throws -> BatchMetrics {
    let results = run(batch, train: false, flips: [])
    return metrics(results, samples: batch.count, train: false)
  }

  // MARK: Summary

  static let extraNames = [
    "forward_synaptic_events_per_sample", "backward_events_per_sample",
    "backward_spike_events_per_sample",
  ]

  public func epochDidEnd(epoch: Int) -> [(key: String, value: JSONValue)] {
    guard epochSums[3] > 0 else { return [] }
    lastEpochPerSample = (0..<3).map { epochSums[$0] / epochSums[3] }
    epochSums = [0, 0, 0, 0]
    return zip(EDBPMethod.extraNames, lastEpochPerSample!).map { ($0, JSONValue($1)) }
  }

  public func summaryExtras() -> [(key: String, value: JSONValue)] {
    let dense = Double(network.denseMACsPerStep * network.timeSteps)
    var entries: [(key: String, value: JSONValue)] = []
    if let values = lastEpochPerSample {
      for (name, value) in zip(EDBPMethod.extraNames, values) {
        entries.append((name, JSONValue(value)))
      }
      entries.append(("dense_macs_per_sample", JSONValue(dense)))
      entries.append(("forward_events_per_dense_mac", JSONValue(values[0] / dense)))
      entries.append(("backward_events_per_dense_mac", JSONValue(values[1] / dense)))
    }
    entries.append(("ws_backward", JSONValue(settings.standardizationBackward.rawValue)))
    // What the optimizer really uses (edbp clips at 1 by default and decays both groups).
    entries.append(
      (
        "gradient_clip_norm_used",
        optimizer.settings.gradientClipNorm.map { JSONValue($0) } ?? .null
      ))
    entries.append(
      (
        "weight_decay_groups_used",
        .array(optimizer.settings.weightDecayGroups.map { JSONValue($0.name) })
      ))
    entries.append(("layer_decay", JSONValue(Double(settings.backward.layerDecay))))
    return entries
  }

  // MARK: State

  public func exportState() -> MethodState {
    var json: JSONValue = [
      "optimizer": optimizer.stateJSON, "initialized": JSONValue(initialized),
      "epoch_sums": .array(epochSums.map { JSONValue($0) }),
    ]
    json.set(
      "last_epoch_per_sample", lastEpochPerSample.map { .array($0.map { JSONValue($0) }) } ?? .null)
    return MethodState(json: json, blobs: store.blobs() + optimizer.stateBlobs)
  }

  public func restoreState(_ state: MethodState) throws(CheckpointError) {
    func bad(_ field: String, _ expected: String) -> CheckpointError {
      CheckpointError(
        .invalidHeader, field: "header.method_state.\(field)", expected: expected, found: "other")
    }
    guard let members = state.json.objectMembers else { throw bad("", "an object") }
    func member(_ key: String) -> JSONValue? { members.first { $0.key == key }?.value }
    guard let initialized = member("initialized")?.boolValue else {
      throw bad("initialized", "true or false")
    }
    guard let sums = member("epoch_sums")?.arrayValue?.compactMap(\.doubleValue), sums.count == 4
    else { throw bad("epoch_sums", "4 numbers") }
    var last: [Double]? = nil
    if let value = member("last_epoch_per_sample"), value != .null {
      guard let list = value.arrayValue?.compactMap(\.doubleValue), list.count == 3 else {
        throw bad("last_epoch_per_sample", "3 numbers or null")
      }
      last = list
    }
    guard let optimizerJSON = member("optimizer") else { throw bad("optimizer", "an object") }
    var newStore = store
    try newStore.load(state.blobs)
    var newOptimizer = optimizer
    try newOptimizer.restore(
      blobs: state.blobs, json: optimizerJSON, field: "header.method_state.optimizer")
    store = newStore
    optimizer = newOptimizer
    self.initialized = initialized
    epochSums = sums
    lastEpochPerSample = last
    standardizeAll()
  }
}

extension EDBPMethod {
  /// The registry entry: `snn train --method edbp`. Defaults per dataset follow spec A5
  /// (MNIST: 15C5-AP2-40C5-AP2-300-10, T = 5; Fashion-MNIST: the same net with the flip;
  /// N-MNIST: 12C5p1-AP2-64C5-AP2-10, T = 30, weight decay 0.2), AdamW, lr 5e-4.
  public static let descriptor: TrainingMethodDescriptor = {
    func neuron(_ m: Double, _ s: Double, _ g: Double) -> ModelSpec.NeuronSettings {
      ModelSpec.NeuronSettings(
        kind: "srm", parameters: ["tauM": m, "tauS": s, "tauG": g, "vThreshold": 1])
    }
    let images = MethodDefaults(
      timeSteps: 5, model: "15C5-AP2-40C5-AP2-300-10", readout: .spiking, neuron: neuron(5, 3, 2.5),
      optimizer: .adamw, learningRate: 5e-4, weightDecay: 5e-4)
    var defaults = images
    defaults.perDataset = [
      "mnist": images, "fashion-mnist": images,
      "nmnist": MethodDefaults(
        timeSteps: 30, model: "12C5p1-AP2-64C5-AP2-10", readout: .spiking, neuron: neuron(8, 4, 3),
        optimizer: .adamw, learningRate: 5e-4, weightDecay: 0.2),
    ]
    return TrainingMethodDescriptor(
      name: "edbp",
      summary: "event-driven backprop (Zhu et al. 2022): SRM neurons, gradients as spike events",
      backend: .event, options: EDBPSettings.options, defaults: defaults,
      makeMethod: { setup in try EDBPMethod(setup: setup) })
  }()
}
