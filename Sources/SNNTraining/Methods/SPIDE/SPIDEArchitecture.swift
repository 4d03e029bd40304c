import SNNBase
import SNNEngine

/// How a ``ModelSpec`` maps onto a ``SPIDENetwork``, and how the ``ParameterStore``'s
/// PyTorch-layout parameters map onto the engine's canonical weight layouts.
///
/// Every `conv` and hidden `linear` stage becomes a spiking layer, and so does every
/// `avgPool` stage (SPIDE follows each average pooling with its own spiking layer, fixed
/// weights 1/k²). The first stage must be `conv` or `linear` (the input projection F); the
/// last stage is the non-spiking linear readout. At most one feedback, from the last
/// spiking layer (a weighted layer) to layer 1, of any kind (dense, conv, transposed conv).
struct SPIDEArchitecture {
  /// What kind of current each spiking layer receives (for dropout).
  enum LayerKind {
    case conv
    case linear
    case pool
  }

  let input: SPIDELayer
  let layers: [SPIDELayer]
  let kinds: [LayerKind]
  /// `conv1`, `pool2`, `fc3`, … (SynOpCounter layer names).
  let names: [String]
  /// Wiring of the projection into each layer (index 0: the input projection F).
  let wirings: [SPIDEProjection.Wiring]
  /// Store indices of the weight and bias of the projection into each layer (nil: pooling).
  let weightIndex: [Int?]
  let biasIndex: [Int?]
  let feedbackWiring: SPIDEProjection.Wiring?
  let feedbackIndex: Int?
  let readoutWeightIndex: Int
  let readoutBiasIndex: Int?
  let classCount: Int
  /// For each weighted projection (by target layer) the store position of every canonical
  /// weight entry, −1 for padding.
  let canonicalToStore: [[Int32]?]
  let feedbackCanonicalToStore: [Int32]?
  /// The PyTorch flat index (c·H·W + y·W + x) of every neuron of layer L, −1 for padding.
  let lastLayerFlatIndex: [Int32]
  /// The engine index of every element of one input frame in PyTorch order.
  let inputEngineIndex: [Int32]
  /// The store's layout the network was derived from (for the equilibrium tests).
  let analysis: ModelAnalysis

  init(analysis: ModelAnalysis, spec: ModelSpec, store: ParameterStore) throws(ConfigurationError) {
    self.analysis = analysis
    let stages = analysis.stages
    guard let readoutLayer = analysis.layers.last, readoutLayer.isReadout else {
      throw .invalid(
        field: "--model", value: spec.notation,
        expected: "a last linear stage as a non-spiking readout (SPIDE's classifier)")
    }
    // A leading flatten (MLP notation, e.g. 784-400-10) carries no weights.
    let firstWeighted = stages.first { if case .flatten = $0.stage { false } else { true } }
    guard let first = firstWeighted, first.layerNumber != nil else {
      throw .invalid(
        field: "--model", value: spec.notation,
        expected: "a conv or linear first stage (SPIDE's input projection F)")
    }
    let inputShape = spec.input
    let firstIsLinear: Bool
    if case .linear = analysis.layers[0].kind { firstIsLinear = true } else { firstIsLinear = false }
    let input =
      firstIsLinear
      ? SPIDELayer(channels: inputShape.elementCount, height: 1, width: 1)
      : SPIDELayer(channels: inputShape.channels, height: inputShape.height, width: inputShape.width)
    var layers: [SPIDELayer] = []
    var kinds: [LayerKind] = []
    var names: [String] = []
    var wirings: [SPIDEProjection.Wiring] = []
    var weightIndex: [Int?] = []
    var biasIndex: [Int?] = []
    var layerOfNumber: [Int: Int] = [:]  // model layer number → SPIDE layer index
    for info in stages {
      let out = info.output
      let shape = SPIDELayer(channels: out.channels, height: out.height, width: out.width)
      switch info.stage {
      case .conv(_, let k, let stride, let padding):
        let layer = analysis.layers[info.layerNumber! - 1]
        layerOfNumber[layer.number] = layers.count
        layers.append(shape)
        kinds.append(.conv)
        names.append(layer.name)
        wirings.append(.conv(kernel: k, stride: stride, padding: padding))
        weightIndex.append(store.index(of: layer.name + ".weight"))
        biasIndex.append(store.index(of: layer.name + ".bias"))
      case .avgPool(let k):
        layers.append(shape)
        kinds.append(.pool)
        names.append("pool\(info.index + 1)")
        wirings.append(.averagePool(k))
        weightIndex.append(nil)
        biasIndex.append(nil)
      case .maxPool:
        throw .invalid(
          field: spec.stageField(info.index), value: "max pooling",
          expected: "average pooling (SPIDE needs linear rate maps)")
      case .flatten:
        continue
      case .linear:
        let layer = analysis.layers[info.layerNumber! - 1]
        if layer.isReadout { continue }
        layerOfNumber[layer.number] = layers.count
        layers.append(SPIDELayer(channels: out.elementCount, height: 1, width: 1))
        kinds.append(.linear)
        names.append(layer.name)
        wirings.append(.dense)
        weightIndex.append(store.index(of: layer.name + ".weight"))
        biasIndex.append(store.index(of: layer.name + ".bias"))
      }
    }
    guard !layers.isEmpty else {
      throw .invalid(
        field: "--model", value: spec.notation, expected: "at least one spiking layer")
    }
    guard case .linear = stages.last!.stage else {
      throw .invalid(field: "--model", value: spec.notation, expected: "a linear readout")
    }
    // Feedback.
    var feedbackWiring: SPIDEProjection.Wiring? = nil
    var feedbackIndex: Int? = nil
    guard analysis.feedbacks.count <= 1 else {
      throw .invalid(
        field: "--model", value: spec.notation, expected: "at most one feedback connection")
    }
    if let fb = analysis.feedbacks.first {
      guard layerOfNumber[fb.feedback.from] == layers.count - 1,
        layerOfNumber[fb.feedback.to] == 0
      else {
        throw .invalid(
          field: "model feedback 1", value: "from layer \(fb.feedback.from) to \(fb.feedback.to)",
          expected: "from the last spiking layer to the first (SPIDE's feedback)")
      }
      switch fb.feedback.kind {
      case .dense: feedbackWiring = .dense
      case .conv(let k, let s, let p): feedbackWiring = .conv(kernel: k, stride: s, padding: p)
      case .convTranspose(let k, let s, let p, _):
        feedbackWiring = .convTranspose(kernel: k, stride: s, padding: p)
      }
      feedbackIndex = store.index(of: fb.name + ".weight")
    }
    self.input = input
    self.layers = layers
    self.kinds = kinds
    self.names = names
    self.wirings = wirings
    self.weightIndex = weightIndex
    self.biasIndex = biasIndex
    self.feedbackWiring = feedbackWiring
    self.feedbackIndex = feedbackIndex
    readoutWeightIndex = store.index(of: readoutLayer.name + ".weight")!
    readoutBiasIndex = store.index(of: readoutLayer.name + ".bias")
    classCount = readoutLayer.output.elementCount

    // Index maps.
    var maps: [[Int32]?] = []
    for l in layers.indices {
      let source = l == 0 ? input : layers[l - 1]
      maps.append(
        Self.canonicalMap(
          wirings[l], source: source, target: layers[l], sourceIsFlatInput: l == 0 && firstIsLinear,
          feedback: false))
    }
    canonicalToStore = maps
    feedbackCanonicalToStore = feedbackWiring.map {
      Self.canonicalMap($0, source: layers.last!, target: layers[0], sourceIsFlatInput: false, feedback: true)!
    }
    let last = layers.last!
    lastLayerFlatIndex = (0..<last.neuronCount).map { e in
      last.isReal(e) ? Int32(Self.flatIndex(last, engine: e)) : -1
    }
    inputEngineIndex = (0..<inputShape.elementCount).map { i in
      firstIsLinear ? Int32(i) : Int32(input.index(channelMajor: i))
    }
  }

  /// The channel-major flat index of engine neuron `e` of `layer` (must be real).
  static func flatIndex(_ layer: SPIDELayer, engine e: Int) -> Int {
    let c = e % layer.paddedChannels
    let pixel = e / layer.paddedChannels
    return c * layer.pixelCount + pixel
  }

  /// For each canonical weight entry of a projection, the index in the PyTorch-layout store
  /// parameter (−1 for padding). Layouts:
  /// - conv `[out, in, k, k]` ↔ canonical `[ky][kx][inPad][outPad]`;
  /// - linear `[out, in]` (in: channel-major flat index of the source) ↔ `[srcN][tgtN]`;
  /// - feedback dense `[targetCount, sourceCount]` ↔ `[srcN][tgtN]`;
  /// - feedback conv `[tgtC, srcC, k, k]` ↔ conv canonical;
  /// - feedback transposed conv `[srcC, tgtC, k, k]` ↔ `[ky][kx][tgtPad][srcPad]`.
  static func canonicalMap(
    _ wiring: SPIDEProjection.Wiring, source: SPIDELayer, target: SPIDELayer,
    sourceIsFlatInput: Bool, feedback: Bool
  ) -> [Int32]? {
    switch wiring {
    case .averagePool: return nil
    case .dense:
      let sn = source.neuronCount
      let tn = target.neuronCount
      let inCount = source.realNeuronCount
      var map = [Int32](repeating: -1, count: sn * tn)
      for s in 0..<sn where source.isReal(s) {
        let i = sourceIsFlatInput ? s : flatIndex(source, engine: s)
        for t in 0..<tn where target.isReal(t) {
          let o = flatIndex(target, engine: t)
          map[s * tn + t] = Int32(o * inCount + i)
        }
      }
      return map
    case .conv(let k, _, _):
      let sp = source.paddedChannels
      let tp = target.paddedChannels
      var map = [Int32](repeating: -1, count: k * k * sp * tp)
      for ky in 0..<k {
        for kx in 0..<k {
          for ci in 0..<source.channels {
            for co in 0..<target.channels {
              map[((ky * k + kx) * sp + ci) * tp + co] = Int32(
                ((co * source.channels + ci) * k + ky) * k + kx)
            }
          }
        }
      }
      return map
    case .convTranspose(let k, _, _):
      let sp = source.paddedChannels
      let tp = target.paddedChannels
      var map = [Int32](repeating: -1, count: k * k * sp * tp)
      for ky in 0..<k {
        for kx in 0..<k {
          for ct in 0..<target.channels {
            for cs in 0..<source.channels {
              map[((ky * k + kx) * tp + ct) * sp + cs] = Int32(
                ((cs * target.channels + ct) * k + ky) * k + kx)
            }
          }
        }
      }
      return map
    }
  }

  /// The network with the store's current values; the feedback weight multiplied by
  /// `feedbackScale` (the norm cap's factor).
  func network(
    _ store: ParameterStore, neuron: SPIDENeuronModel, feedbackScale: Float
  ) throws(ConfigurationError) -> SPIDENetwork {
    func projection(
      _ wiring: SPIDEProjection.Wiring, _ source: SPIDELayer, _ target: SPIDELayer,
      _ map: [Int32]?, _ parameter: Int?, scale: Float
    ) throws(ConfigurationError) -> SPIDEProjection {
      var p = try SPIDEProjection(source: source, target: target, wiring: wiring)
      if let map, let parameter {
        let values = store[parameter].values
        p.weights = map.map { $0 < 0 ? 0 : values[Int($0)] * scale }
      }
      return p
    }
    let inputProjection = try projection(
      wirings[0], input, layers[0], canonicalToStore[0], weightIndex[0], scale: 1)
    var projections: [SPIDEProjection] = []
    for l in 1..<layers.count {
      projections.append(
        try projection(
          wirings[l], layers[l - 1], layers[l], canonicalToStore[l], weightIndex[l], scale: 1))
    }
    let feedback = try feedbackWiring.map { w throws(ConfigurationError) in
      try projection(
        w, layers.last!, layers[0], feedbackCanonicalToStore, feedbackIndex, scale: feedbackScale)
    }
    let biases = biasIndex.map { $0.map { store[$0].values } ?? [] }
    return try SPIDENetwork(
      input: input, inputProjection: inputProjection, projections: projections,
      feedback: feedback, biases: biases, neuron: neuron)
  }
}
