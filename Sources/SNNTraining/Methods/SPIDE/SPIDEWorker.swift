import SNNBase
import SNNEngine

/// What every sample of one batch shares (read-only while the workers run).
struct SPIDEBatchPlan {
  let compiled: SPIDECompiledNetwork
  /// The readout weight in the engine layout of layer L: `[class][neuron]`, padding 0.
  let readoutWeights: [Float]
  let readoutBias: [Float]
  /// Per layer: the dropout probability of its input current (0 in evaluation).
  let dropout: [Double]
  /// s/B: the scale of the loss gradient per sample.
  let gradientScale: Double
  let training: Bool
  /// Event input: the sample has T frames delivered as events.
  let eventInput: Bool
  /// The seed of this batch's dropout masks.
  let seed: UInt64
}

/// One thread's buffers and running sums: the per-sample pipeline of SPIDE (input current,
/// forward phase, readout, backward phase, local gradients).
final class SPIDEWorker {
  let architecture: SPIDEArchitecture
  let timeSteps: Int
  let forward: SPIDEForwardPhase
  let backward: SPIDEBackwardPhase
  let layers: [SPIDELayer]
  var input: [Float]
  var frames: [Float]
  var inputMean: [Float]
  var current: [Float]
  var rates: [[Float]]
  /// Per layer, the gates m (from the forward phase) and the dropout masks; owned memory,
  /// handed to the phases without copies.
  let gates: [UnsafeMutableBufferPointer<UInt8>]
  let masks: [UnsafeMutableBufferPointer<UInt8>]
  var betas: [[Float]]
  var gradient: [Float]
  var probabilities: [Double]

  // Gradient sums (backward layout of each projection), reset per batch.
  var weightGradients: [[Float]]
  var biasGradients: [[Float]]
  var feedbackGradient: [Float]
  var readoutWeightGradient: [Float]
  var readoutBiasGradient: [Float]

  // Metrics of the current batch.
  var lossSum = 0.0
  var correct = 0
  var counter: SynOpCounter
  var extras = SPIDEWorker.Extras()

  struct Extras {
    var forwardSpikes = 0.0
    var backwardSpikes = 0.0
    var forwardSynapticEvents = 0.0
    var backwardSynapticEvents = 0.0
    var inputEvents = 0.0
    var forwardBlockEvaluations = 0.0
    var backwardBlockEvaluations = 0.0
    var forwardNeuronSteps = 0.0
    var backwardNeuronSteps = 0.0
    var backwardSamples = 0.0

    mutating func add(_ o: Extras) {
      forwardSpikes += o.forwardSpikes
      backwardSpikes += o.backwardSpikes
      forwardSynapticEvents += o.forwardSynapticEvents
      backwardSynapticEvents += o.backwardSynapticEvents
      inputEvents += o.inputEvents
      forwardBlockEvaluations += o.forwardBlockEvaluations
      backwardBlockEvaluations += o.backwardBlockEvaluations
      forwardNeuronSteps += o.forwardNeuronSteps
      backwardNeuronSteps += o.backwardNeuronSteps
      backwardSamples += o.backwardSamples
    }

    var pairs: [(key: String, value: Double)] {
      [
        ("forward_spikes", forwardSpikes), ("backward_spikes", backwardSpikes),
        ("forward_synaptic_events", forwardSynapticEvents),
        ("backward_synaptic_events", backwardSynapticEvents), ("input_events", inputEvents),
        ("forward_block_evaluations", forwardBlockEvaluations),
        ("backward_block_evaluations", backwardBlockEvaluations),
        ("forward_neuron_steps", forwardNeuronSteps),
        ("backward_neuron_steps", backwardNeuronSteps),
        ("backward_samples", backwardSamples),
      ]
    }
  }

  init(architecture: SPIDEArchitecture, network: SPIDENetwork, timeSteps: Int, backwardTimeSteps: Int) {
    self.architecture = architecture
    self.timeSteps = timeSteps
    layers = network.layers
    forward = SPIDEForwardPhase(network: network, timeSteps: timeSteps)
    backward = SPIDEBackwardPhase(network: network, timeSteps: backwardTimeSteps)
    let inputCount = network.input.neuronCount
    input = [Float](repeating: 0, count: inputCount)
    frames = []
    inputMean = [Float](repeating: 0, count: inputCount)
    current = [Float](repeating: 0, count: layers[0].neuronCount)
    rates = layers.map { [Float](repeating: 0, count: $0.neuronCount) }
    gates = layers.map { layer in
      let b = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: layer.neuronCount)
      b.initialize(repeating: 0)
      return b
    }
    masks = layers.map { layer in
      let b = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: layer.neuronCount)
      b.initialize(repeating: 1)
      return b
    }
    betas = rates
    gradient = [Float](repeating: 0, count: layers.last!.neuronCount)
    probabilities = [Double](repeating: 0, count: architecture.classCount)
    weightGradients = (0..<layers.count).map { l in
      [Float](repeating: 0, count: network.projection(into: l).weights.count)
    }
    biasGradients = layers.map { [Float](repeating: 0, count: $0.channels) }
    feedbackGradient = [Float](repeating: 0, count: network.feedback?.weights.count ?? 0)
    readoutWeightGradient = [Float](
      repeating: 0, count: architecture.classCount * layers.last!.neuronCount)
    readoutBiasGradient = [Float](repeating: 0, count: architecture.classCount)
    counter = SynOpCounter(layerNames: architecture.names + ["readout"])
  }

  deinit {
    for b in gates { b.deallocate() }
    for b in masks { b.deallocate() }
  }

  /// Clears the sums of the previous batch.
  func resetSums() {
    for l in weightGradients.indices {
      weightGradients[l].withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
      biasGradients[l].withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
    feedbackGradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    readoutWeightGradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    readoutBiasGradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    lossSum = 0
    correct = 0
    counter.reset()
    extras = Extras()
  }

  /// Runs sample `index` of `batch` through the pipeline and adds to the sums.
  func process(_ batch: Batch, sample index: Int, plan: SPIDEBatchPlan) {
    let compiled = plan.compiled
    let network = compiled.network
    let frameCount = batch.sampleShape.frames
    let frameSize = batch.sampleShape.feature.elementCount
    let offset = index * frameCount * frameSize
    let map = architecture.inputEngineIndex
    let last = layers.count - 1

    // Dropout masks: one per sample, for every step.
    var random = Xoshiro256StarStar(seed: RandomStreams.seed(plan.seed, "spide/dropout", index))
    var keep = [Double](repeating: 1, count: layers.count)
    var useMasks = false
    for l in layers.indices where plan.dropout[l] > 0 {
      useMasks = true
      keep[l] = 1 - plan.dropout[l]
      let m = masks[l]
      for i in 0..<m.count { m[i] = random.nextUnitDouble() < keep[l] ? 1 : 0 }
    }
    if useMasks {
      for l in layers.indices where plan.dropout[l] == 0 { masks[l].update(repeating: 1) }
    }

    // Input current of layer 0.
    batch.inputs.withUnsafeBufferPointer { x in
      if plan.eventInput {
        if frames.count != timeSteps * input.count {
          frames = [Float](repeating: 0, count: timeSteps * input.count)
        }
        frames.withUnsafeMutableBufferPointer { f in
          f.update(repeating: 0)
          for t in 0..<timeSteps {
            for i in 0..<frameSize { f[t * input.count + Int(map[i])] = x[offset + t * frameSize + i] }
          }
        }
        inputMean.withUnsafeMutableBufferPointer { m in
          m.update(repeating: 0)
          for t in 0..<timeSteps {
            for i in 0..<frameSize { m[Int(map[i])] += x[offset + t * frameSize + i] }
          }
          let inverse = 1 / Float(timeSteps)
          for i in m.indices { m[i] *= inverse }
        }
        input.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
      } else {
        input.withUnsafeMutableBufferPointer { e in
          for i in 0..<frameSize { e[Int(map[i])] = x[offset + i] }
        }
      }
    }
    current = input.withUnsafeBufferPointer { network.inputCurrent($0) }
    var inputMACs = 0
    if !plan.eventInput {
      for s in input.indices where input[s] != 0 {
        network.inputProjection.forEachTargetRun(of: s) { _, _, count in inputMACs += count }
      }
    }
    if keep[0] < 1 && !(plan.eventInput) {
      // Dropout of F·x + b_0 (the feedback current has its own mask, the layer's mask).
      let k = Float(1 / keep[0])
      for i in current.indices {
        current[i] *= random.nextUnitDouble() < keep[0] ? k : 0
      }
    } else if keep[0] < 1 {
      let k = Float(1 / keep[0])
      let m = masks[0]
      for i in current.indices { current[i] *= m[i] != 0 ? k : 0 }
    }

    // Forward phase.
    runForward(compiled, masks: useMasks, keep: keep, eventInput: plan.eventInput)
    for l in layers.indices {
      rates[l].withUnsafeMutableBufferPointer { a in forward.rates(l, into: a, gates: gates[l]) }
      counter.addSpikes(forward.spikeCount(l), layer: l)
      counter.addNeuronUpdates(layers[l].realNeuronCount * timeSteps, layer: l)
      counter.addAccumulates(forward.synapticEvents[l], layer: l)
      extras.forwardSpikes += Double(forward.spikeCount(l))
      extras.forwardSynapticEvents += Double(forward.synapticEvents[l])
      extras.forwardBlockEvaluations += Double(forward.blockEvaluations(l))
      extras.forwardNeuronSteps += Double(layers[l].realNeuronCount * timeSteps)
    }
    extras.inputEvents += Double(forward.inputEvents)
    counter.addMultiplyAccumulates(inputMACs, layer: 0)

    // Readout and loss.
    let classes = architecture.classCount
    let n = layers[last].neuronCount
    let label = batch.labels[index]
    var best = 0
    rates[last].withUnsafeBufferPointer { a in
      plan.readoutWeights.withUnsafeBufferPointer { w in
        for k in 0..<classes {
          var z = Double(plan.readoutBias[k])
          let row = k * n
          for i in 0..<n where a[i] != 0 { z += Double(w[row + i]) * Double(a[i]) }
          probabilities[k] = z
          if z > probabilities[best] { best = k }
        }
      }
    }
    counter.addMultiplyAccumulates(classes * layers[last].realNeuronCount, layer: layers.count)
    let maxLogit = probabilities[best]
    var sum = 0.0
    for k in 0..<classes {
      probabilities[k] = Math.exp(probabilities[k] - maxLogit)
      sum += probabilities[k]
    }
    for k in 0..<classes { probabilities[k] /= sum }
    lossSum += -Math.log(max(probabilities[label], 1e-300))
    if best == label { correct += 1 }
    guard plan.training else { return }

    // g = (s/B)·W_rᵀ(p − y), and the readout's own gradient.
    let q = network.neuron.q
    gradient.withUnsafeMutableBufferPointer { g in
      g.update(repeating: 0)
      plan.readoutWeights.withUnsafeBufferPointer { w in
        rates[last].withUnsafeBufferPointer { a in
          readoutWeightGradient.withUnsafeMutableBufferPointer { gw in
            for k in 0..<classes {
              let d = Float(plan.gradientScale * (probabilities[k] - (k == label ? 1 : 0)))
              readoutBiasGradient[k] += d
              let row = k * n
              for i in 0..<n {
                g[i] += d * w[row + i]
                gw[row + i] += d * a[i]
              }
            }
          }
        }
      }
    }

    // Backward phase.
    runBackward(compiled, feedbackMasked: keep[0] < 1 && network.feedback != nil)
    for l in layers.indices {
      betas[l].withUnsafeMutableBufferPointer {
        backward.rates(l, amplitude: network.neuron.amplitude, into: $0)
      }
      extras.backwardSpikes += Double(backward.spikeCount(l))
      extras.backwardSynapticEvents += Double(backward.synapticEvents[l])
      extras.backwardBlockEvaluations += Double(backward.blockEvaluations(l))
      extras.backwardNeuronSteps += Double(layers[l].realNeuronCount * backward.timeSteps)
    }
    extras.backwardSamples += 1

    // Local updates: ∂W_l = (1/q)(m_l ⊙ β_l)·a_{l−1}ᵀ (β is 0 where m is 0).
    let inverseQ = Float(1 / q)
    for l in layers.indices {
      guard architecture.weightIndex[l] != nil else { continue }
      let projection = network.projection(into: l)
      let source: [Float] = l == 0 ? (plan.eventInput ? inputMean : input) : rates[l - 1]
      accumulate(
        projection, beta: betas[l], source: source, scale: inverseQ, into: &weightGradients[l],
        bias: &biasGradients[l], channels: layers[l].paddedChannels)
    }
    if let feedback = network.feedback {
      var unused: [Float] = []
      accumulate(
        feedback, beta: betas[0], source: rates[last], scale: inverseQ, into: &feedbackGradient,
        bias: &unused, channels: layers[0].paddedChannels)
    }
  }

  private func runForward(
    _ compiled: SPIDECompiledNetwork, masks useMasks: Bool, keep: [Double], eventInput: Bool
  ) {
    let maskBuffers: [UnsafeBufferPointer<UInt8>?]? =
      useMasks ? masks.map { UnsafeBufferPointer($0) } : nil
    current.withUnsafeBufferPointer { c in
      if eventInput {
        frames.withUnsafeBufferPointer { f in
          forward.run(compiled, current: c, masks: maskBuffers, keep: keep, frames: f)
        }
      } else {
        forward.run(compiled, current: c, masks: maskBuffers, keep: keep)
      }
    }
  }

  private func runBackward(_ compiled: SPIDECompiledNetwork, feedbackMasked: Bool) {
    let gateBuffers = gates.map { UnsafeBufferPointer($0) }
    gradient.withUnsafeBufferPointer { g in
      backward.run(
        compiled, gradient: g, gates: gateBuffers,
        feedbackMask: feedbackMasked ? UnsafeBufferPointer(masks[0]) : nil)
    }
  }

  /// `grad[synapse s→t] += scale·β_t·a_s` in the projection's backward layout, and
  /// `bias[c(t)] += scale·β_t`, over the targets with β ≠ 0.
  private func accumulate(
    _ projection: SPIDEProjection, beta: [Float], source: [Float], scale: Float,
    into grad: inout [Float], bias: inout [Float], channels: Int
  ) {
    beta.withUnsafeBufferPointer { b in
      source.withUnsafeBufferPointer { a in
        grad.withUnsafeMutableBufferPointer { gw in
          bias.withUnsafeMutableBufferPointer { gb in
            for t in 0..<b.count where b[t] != 0 {
              let value = b[t] * scale
              if !gb.isEmpty {
                let c = t % channels
                if c < gb.count { gb[c] += value }
              }
              projection.forEachSourceRun(of: t) { first, offset, count in
                axpy(gw.baseAddress! + offset, a.baseAddress! + first, value, count)
              }
            }
          }
        }
      }
    }
  }
}

/// `y[0..<n] += α·x[0..<n]`.
@inline(__always)
func axpy(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ alpha: Float, _ n: Int) {
  var i = 0
  let a = SIMD8<Float>(repeating: alpha)
  while i + 8 <= n {
    let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
    let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
    UnsafeMutableRawPointer(y + i).storeBytes(of: yv + a * xv, as: SIMD8<Float>.self)
    i += 8
  }
  while i < n {
    y[i] += alpha * x[i]
    i += 1
  }
}
