import SNNBase
import SNNEngine
import SNNTensor

/// A trained dense model compiled to the event engine: the same network run event by
/// event in grid mode, for inference and for counting its operations where they happen.
///
/// Every hidden weighted layer becomes a population of ``GridLIF`` neurons (channels-last,
/// as ``ConvConnectivity`` expects) with the dense neuron's dynamics: `H[t] = a·V[t−1] +
/// c·I[t]` becomes `V[t] = a·V[t−1] + Σ c·w·s` (the input scale c folded into the weights),
/// a hard reset to V_reset or a subtractive one. Batch normalization (evaluation mode,
/// running statistics) is folded into each layer's weights and bias; a bias becomes a
/// constant drive per neuron. Average pooling has no neurons: it is folded into the next
/// layer's synapses with weights 1/k² (a pooled convolution is a convolution with a k×
/// larger kernel and stride; pooled features into a linear layer are rows of its matrix
/// repeated). A static input (an image) is a constant drive of the first layer, computed
/// once per sample; framed event input is a spike-source population (count values: one
/// spike per event). The non-spiking readout is the time average of the last layer's
/// spikes through the readout weights.
///
/// Max pooling is not linear and cannot be folded; such models are refused.
public final class EventModel {
  public let dense: DenseModel
  public let timeSteps: Int
  /// The hidden weighted layers, in order (each one engine population).
  public let hiddenLayers: [ModelAnalysis.Layer]

  struct HiddenPlan {
    var layer: ModelAnalysis.Layer
    var parameters: GridLIF.Parameters
    /// Per output channel: effective weight scale (BN and the input scale c) and bias.
    var scale: [Float]
    var bias: [Float]
    /// Synapses from the previous population (nil for the first layer with a static input).
    var connectivity: Connectivity?
    /// The constant drive (bias) per neuron, channels-last.
    var drive: [Double]
  }

  let plans: [HiddenPlan]
  /// Readout: weights `[classes, features]` over the last hidden population's neurons in
  /// engine (channels-last) order, and the bias.
  let readoutWeights: [Float]
  let readoutBias: [Float]
  let readoutLayer: ModelAnalysis.Layer
  /// The first layer's synapses from the input frames (for event input) or nil.
  let inputConnectivity: Connectivity?

  public init(dense: DenseModel) throws(ConfigurationError) {
    self.dense = dense
    timeSteps = dense.configuration.timeSteps
    let stages = dense.stages
    var plans: [HiddenPlan] = []
    var pending: [Int] = []  // pool sizes since the last weighted stage
    var previous: FeatureShape = dense.spec.input
    var readout: (ModelAnalysis.Layer, [Float], [Float], [Int])? = nil
    var inputConnectivity: Connectivity? = nil
    for stage in stages {
      switch stage.kind {
      case .maxPool:
        throw .invalid(
          field: "--model", value: dense.spec.notation,
          expected: "average pooling only (max pooling cannot be folded into event-driven synapses)")
      case .avgPool(let pool):
        pending.append(pool.kernelSize)
      case .flatten:
        break
      case .conv, .linear:
        let layer = stage.layer!
        let (weights, bias) = EventModel.weightsAndBias(stage, dense: dense)
        // The source of these synapses before pooling: the previous hidden layer (or the
        // input), channels-last.
        let source = previous
        let poolFactor = pending.reduce(1, *)
        if layer.isReadout {
          readout = (layer, weights, bias, pending)
          break
        }
        let neuron = stage.neuron!
        let leakLogit = dense.parameters.index(of: layer.name + ".neuron.leak_logit")
          .map { dense.parameters[$0].values[0] }
        let (leak, inputScale) = EventModel.charge(neuron, leakLogit: leakLogit)
        var scale = [Float](repeating: inputScale, count: layer.output.channels)
        var shift = [Float](repeating: 0, count: layer.output.channels)
        if let norm = stage.norm {
          let mean = norm.runningMean.scalars, variance = norm.runningVariance.scalars
          // γ and β live in the parameter store (the layer holds them only while bound).
          let gamma = dense.parameters[layer.name + ".norm.gamma"].values
          let beta = dense.parameters[layer.name + ".norm.beta"].values
          for c in 0..<layer.output.channels {
            let g = gamma[c] * norm.scale / (variance[c] + norm.epsilon).squareRoot()
            // y = g·(x − μ) + β, with x = W·s + b.
            shift[c] = (beta[c] - g * mean[c]) * inputScale
            scale[c] = g * inputScale
          }
        }
        let channelBias = (0..<layer.output.channels).map { c in (bias.isEmpty ? 0 : bias[c]) * scale[c] + shift[c] }
        let params = GridLIF.Parameters(
          leak: Double(leak), vThreshold: Double(neuron.vThreshold), vReset: Double(neuron.reset == .hard ? neuron.vReset : 0),
          reset: neuron.reset == .hard ? .hard : .subtract, refractorySteps: 0)
        let outputCount = layer.output.elementCount
        let drive = (0..<outputCount).map { n in Double(channelBias[n % layer.output.channels]) }
        let connectivity = try EventModel.connect(
          layer, weights: weights, scale: scale, source: source, pool: pending, poolFactor: poolFactor)
        if plans.isEmpty {
          // The first layer: from the input (a drive when static; synapses for frames).
          inputConnectivity = connectivity
          plans.append(HiddenPlan(layer: layer, parameters: params, scale: scale, bias: channelBias, connectivity: nil, drive: drive))
        } else {
          plans.append(HiddenPlan(layer: layer, parameters: params, scale: scale, bias: channelBias, connectivity: connectivity, drive: drive))
        }
        previous = layer.output
        pending = []
      }
    }
    guard let (layer, weights, bias, pools) = readout, !plans.isEmpty else {
      throw .invalid(field: "--model", value: dense.spec.notation, expected: "hidden spiking layers and a linear readout")
    }
    // Readout weights reindexed to engine order (through any pooling).
    let source = plans.last!.layer.output
    let features = source.elementCount
    let classes = layer.output.elementCount
    let poolFactor = pools.reduce(1, *)
    var w = [Float](repeating: 0, count: classes * features)
    let pooled = FeatureShape(
      channels: source.channels, height: source.height / poolFactor, width: source.width / poolFactor)
    for n in 0..<features {
      let c = n % source.channels, pixel = n / source.channels
      let y = pixel / source.width / poolFactor, x = pixel % source.width / poolFactor
      guard y < pooled.height && x < pooled.width else { continue }
      let denseIndex = (c * pooled.height + y) * pooled.width + x
      for k in 0..<classes {
        w[k * features + n] = weights[k * layer.input.elementCount + denseIndex] / Float(poolFactor * poolFactor)
      }
    }
    readoutWeights = w
    readoutBias = bias.isEmpty ? [Float](repeating: 0, count: classes) : bias
    readoutLayer = layer
    self.plans = plans
    self.inputConnectivity = inputConnectivity
    hiddenLayers = plans.map(\.layer)
  }

  /// The charge of a dense neuron as (leak a, input scale c).
  /// `leakLogit` is b of a learnable leak, read from the parameter store (the layer holds it
  /// only while the model's parameters are bound).
  static func charge(_ neuron: SNNTensor.LIF, leakLogit: Float?) -> (Float, Float) {
    switch neuron.charge {
    case .leaky(let lambda): return (lambda, 1)
    case .decayInput(let tau): return (1 - 1 / tau, 1 / tau)
    case .integrate: return (1, 1)
    case .learnableLeak:
      let b = leakLogit!
      return (Float(1 / (1 + Math.exp(Double(-b)))), 1)
    }
  }

  /// The stage's weights (`[out, in, k, k]` or `[out, in]`) and bias (empty when none).
  static func weightsAndBias(_ stage: DenseModel.Stage, dense: DenseModel) -> ([Float], [Float]) {
    let layer = stage.layer!
    let weights = dense.parameters[layer.name + ".weight"].values
    let bias = dense.parameters.index(of: layer.name + ".bias").map { dense.parameters[$0].values } ?? []
    return (weights, bias)
  }

  /// The synapses of `layer` from a channels-last population of shape `source`, through
  /// average pools `pool` (product `poolFactor`), weights scaled per output channel.
  static func connect(
    _ layer: ModelAnalysis.Layer, weights: [Float], scale: [Float], source: FeatureShape, pool: [Int], poolFactor: Int
  ) throws(ConfigurationError) -> Connectivity {
    let k = poolFactor
    let share = 1 / Float(k * k)
    switch layer.kind {
    case .conv(let kernel, let stride, let padding):
      let cin = layer.input.channels, cout = layer.output.channels
      guard source.height % k == 0 && source.width % k == 0 else {
        throw .invalid(
          field: "--model", value: "pooling \(k) of \(source.height)×\(source.width) before \(layer.name)",
          expected: "feature maps divisible by the pool size (the event engine folds pools into convolutions)")
      }
      // Pool k, then conv K (stride s, padding p) = conv (K·k) with stride s·k and padding
      // p·k over the unpooled map, weight w/k² on each of the k×k positions.
      let big = kernel * k
      var folded = [Float](repeating: 0, count: big * big * cin * cout)
      for o in 0..<cout {
        for i in 0..<cin {
          for ky in 0..<kernel {
            for kx in 0..<kernel {
              let w = weights[((o * cin + i) * kernel + ky) * kernel + kx] * scale[o] * share
              for dy in 0..<k {
                for dx in 0..<k {
                  folded[(((ky * k + dy) * big + kx * k + dx) * cin + i) * cout + o] = w
                }
              }
            }
          }
        }
      }
      return .convolution(
        ConvConnectivity(
          inChannels: cin, height: source.height, width: source.width, outChannels: cout, kernelHeight: big,
          kernelWidth: big, stride: stride * k, padding: padding * k, kernel: folded))
    case .linear:
      let inFeatures = layer.input.elementCount, outFeatures = layer.output.elementCount
      let pooled = FeatureShape(channels: source.channels, height: source.height / k, width: source.width / k)
      precondition(pooled.elementCount == inFeatures, "EventModel: pooled shape does not match \(layer.name)")
      let sources = source.elementCount
      var matrix = [Float](repeating: 0, count: sources * outFeatures)
      for n in 0..<sources {
        let c = n % source.channels, pixel = n / source.channels
        let y = pixel / source.width / k, x = pixel % source.width / k
        guard y < pooled.height && x < pooled.width else { continue }
        let i = (c * pooled.height + y) * pooled.width + x
        for o in 0..<outFeatures { matrix[n * outFeatures + o] = weights[o * inFeatures + i] * scale[o] * share }
      }
      return .dense(DenseConnectivity(sourceCount: sources, targetCount: outFeatures, weights: matrix))
    }
  }

  /// What one sample did in the engine.
  public struct Run {
    /// The readout (time-averaged), one value per class.
    public var logits: [Float]
    /// Spikes per hidden layer (summed over steps and neurons).
    public var spikes: [Int]
    /// Spike steps of every hidden neuron: `trains[layer][neuron (channels-last)]`.
    public var trains: [[[Int]]]
    /// Synaptic accumulates and MACs per model layer (hidden layers, then the readout), as
    /// the engine performed them: ACs where a spike was delivered, MACs for the analog
    /// first layer (its drive, once per step of the network) and the readout's
    /// accumulates from the last layer's spikes.
    public var counter: SynOpCounter
    /// Neuron evaluations of the event-driven simulation (a dense simulation does
    /// neurons × T).
    public var neuronEvaluations: Int
  }

  /// Runs one sample: `input` is one static image (`C·H·W` values, channels-first as the
  /// dataset gives them) or T frames (`T·C·H·W`, non-negative integer counts).
  public func run(input: [Float]) throws(ConfigurationError) -> Run {
    let feature = dense.spec.input
    let isStatic = input.count == feature.elementCount
    guard isStatic || input.count == timeSteps * feature.elementCount else {
      throw .invalid(field: "input", value: "\(input.count) values", expected: "\(feature.elementCount) or \(timeSteps)×\(feature.elementCount)")
    }
    var counter = SynOpCounter(layerNames: dense.analysis.layers.map(\.name))
    var populations: [GridNetwork.Population] = []
    var projections: [GridNetwork.Projection] = []
    let first = plans[0]
    var firstDrive = first.drive
    if isStatic {
      // The first layer's input current: the analog image through its weights, once.
      firstDrive = staticDrive(input)
      counter.addMultiplyAccumulates(first.layer.macsPerStep * timeSteps, layer: first.layer.number - 1)
    } else {
      // Frames → spike steps, channels-last neuron order.
      let hw = feature.height * feature.width
      var trains = Array(repeating: [Int](), count: feature.elementCount)
      for t in 0..<timeSteps {
        for c in 0..<feature.channels {
          for p in 0..<hw {
            let v = input[(t * feature.channels + c) * hw + p]
            guard v > 0 else { continue }
            let count = Int(v.rounded())
            guard Float(count) == v else {
              throw .invalid(field: "input", value: "\(v)", expected: "event counts (non-negative integers) per frame")
            }
            for _ in 0..<count { trains[p * feature.channels + c].append(t) }
          }
        }
      }
      populations.append(.spikeSteps(name: "input", trains: trains))
      projections.append(.init(name: first.layer.name, source: 0, target: 1, connectivity: inputConnectivity!))
    }
    let offset = populations.count
    for (l, plan) in plans.enumerated() {
      let drive = l == 0 ? firstDrive : plan.drive
      populations.append(
        .lif(name: plan.layer.name, parameters: plan.parameters, drive: drive, initialPotential: Array(repeating: 0, count: drive.count)))
      if l > 0 {
        projections.append(.init(name: plan.layer.name, source: offset + l - 1, target: offset + l, connectivity: plan.connectivity!))
      }
    }
    let simulator = try GridSimulator(network: GridNetwork(populations: populations, projections: projections))
    simulator.run(until: timeSteps)
    // Per model layer: the projection into each hidden layer.
    for (p, projection) in projections.enumerated() {
      let layerNumber = plans[projection.target - offset].layer.number
      counter.addAccumulates(Int(simulator.counter.accumulates[p]), layer: layerNumber - 1)
    }
    var trains: [[[Int]]] = []
    var spikes: [Int] = []
    for l in plans.indices {
      trains.append(simulator.trains(population: offset + l))
      spikes.append(simulator.spikeCounts[offset + l])
    }
    // The readout: time-averaged spikes of the last layer through its weights.
    let last = trains.last!
    let features = last.count
    let classes = readoutBias.count
    var logits = readoutBias
    var counts = [Float](repeating: 0, count: features)
    for n in 0..<features { counts[n] = Float(last[n].count) }
    for k in 0..<classes {
      var sum: Float = 0
      for n in 0..<features where counts[n] != 0 { sum += readoutWeights[k * features + n] * counts[n] }
      logits[k] += sum / Float(timeSteps)
    }
    // Each spike of the last layer adds its weights to the readout's sums.
    counter.addAccumulates(spikes.last! * classes, layer: readoutLayer.number - 1)
    for (l, plan) in plans.enumerated() {
      counter.addSpikes(spikes[l], layer: plan.layer.number - 1)
      // The neuron evaluations the engine performed (the dense backend counts neurons × T).
      counter.addNeuronUpdates(simulator.neuronUpdatesByPopulation[offset + l], layer: plan.layer.number - 1)
    }
    return Run(logits: logits, spikes: spikes, trains: trains, counter: counter, neuronEvaluations: simulator.neuronUpdates)
  }

  /// The first layer's drive per neuron (channels-last) for a static image.
  func staticDrive(_ image: [Float]) -> [Double] {
    let plan = plans[0]
    let layer = plan.layer
    let (weights, _) = (dense.parameters[layer.name + ".weight"].values, ())
    let input = dense.spec.input
    let out = layer.output
    var drive = [Double](repeating: 0, count: out.elementCount)
    switch layer.kind {
    case .conv(let kernel, let stride, let padding):
      for o in 0..<out.channels {
        for oy in 0..<out.height {
          for ox in 0..<out.width {
            var sum: Float = 0
            for i in 0..<input.channels {
              for ky in 0..<kernel {
                let y = oy * stride - padding + ky
                guard y >= 0 && y < input.height else { continue }
                for kx in 0..<kernel {
                  let x = ox * stride - padding + kx
                  guard x >= 0 && x < input.width else { continue }
                  sum += weights[((o * input.channels + i) * kernel + ky) * kernel + kx] * image[(i * input.height + y) * input.width + x]
                }
              }
            }
            drive[(oy * out.width + ox) * out.channels + o] = Double(sum * plan.scale[o] + plan.bias[o])
          }
        }
      }
    case .linear:
      let n = input.elementCount
      for o in 0..<out.elementCount {
        var sum: Float = 0
        for i in 0..<n { sum += weights[o * n + i] * image[i] }
        drive[o] = Double(sum * plan.scale[o] + plan.bias[o])
      }
    }
    return drive
  }
}
