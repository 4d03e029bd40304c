import SNNBase

// The JSON form of a model spec (in checkpoints, run summaries and model files):
//
// {
//   "input": [1, 28, 28],
//   "stages": [
//     {"type": "conv", "out_channels": 15, "kernel": 5, "stride": 1, "padding": 0},
//     {"type": "avg_pool", "size": 2},
//     {"type": "max_pool", "size": 2},
//     {"type": "flatten"},
//     {"type": "linear", "out_features": 10}
//   ],
//   "feedbacks": [
//     {"from": 3, "to": 1, "type": "conv_transpose", "kernel": 3, "stride": 2,
//      "padding": 1, "output_padding": 1}
//   ],
//   "readout": "linear",
//   "bias": true,
//   "neuron": {"kind": "lif", "parameters": {"vThreshold": 1.0}}
// }

extension ModelSpec {
  /// The spec as JSON (keys in the order above; neuron parameters sorted by name).
  public var json: JSONValue {
    var stageValues: [JSONValue] = []
    for stage in stages {
      switch stage {
      case .conv(let o, let k, let s, let p):
        stageValues.append([
          "type": "conv", "out_channels": JSONValue(o), "kernel": JSONValue(k),
          "stride": JSONValue(s), "padding": JSONValue(p),
        ])
      case .avgPool(let k): stageValues.append(["type": "avg_pool", "size": JSONValue(k)])
      case .maxPool(let k): stageValues.append(["type": "max_pool", "size": JSONValue(k)])
      case .flatten: stageValues.append(["type": "flatten"])
      case .linear(let n): stageValues.append(["type": "linear", "out_features": JSONValue(n)])
      }
    }
    var feedbackValues: [JSONValue] = []
    for f in feedbacks {
      var v: JSONValue = ["from": JSONValue(f.from), "to": JSONValue(f.to)]
      switch f.kind {
      case .dense: v.set("type", "dense")
      case .conv(let k, let s, let p):
        v.set("type", "conv")
        v.set("kernel", JSONValue(k))
        v.set("stride", JSONValue(s))
        v.set("padding", JSONValue(p))
      case .convTranspose(let k, let s, let p, let o):
        v.set("type", "conv_transpose")
        v.set("kernel", JSONValue(k))
        v.set("stride", JSONValue(s))
        v.set("padding", JSONValue(p))
        v.set("output_padding", JSONValue(o))
      }
      feedbackValues.append(v)
    }
    let parameters = neuron.parameters.keys.sorted().map {
      (key: $0, value: JSONValue(neuron.parameters[$0]!))
    }
    return [
      "input": JSONValue([input.channels, input.height, input.width]),
      "stages": .array(stageValues),
      "feedbacks": .array(feedbackValues),
      "readout": JSONValue(readout.rawValue),
      "bias": JSONValue(bias),
      "neuron": ["kind": JSONValue(neuron.kind), "parameters": .object(parameters)],
    ]
  }

  /// Reads and validates the JSON form; errors name the key path under `field`
  /// (`model.stages[2].kernel`). Unknown keys are errors.
  public init(json: JSONValue, field: String = "model") throws(ConfigurationError) {
    var root = try JSONObjectReader(json, path: field)
    let inputValues = try root.array("input")
    guard inputValues.count == 3 else {
      throw .invalid(
        field: root.field("input"), value: "\(inputValues.count) numbers",
        expected: "[channels, height, width]")
    }
    var sizes: [Int] = []
    for (i, v) in inputValues.enumerated() {
      sizes.append(
        try JSONObjectReader.int(
          v, field: "\(root.field("input"))[\(i)]", in: 1...ModelSpec.maximumDimension))
    }
    let input = FeatureShape(channels: sizes[0], height: sizes[1], width: sizes[2])

    var stages: [Stage] = []
    for (i, value) in try root.array("stages").enumerated() {
      var s = try JSONObjectReader(value, path: "\(root.field("stages"))[\(i)]")
      let type = try s.string("type")
      switch type {
      case "conv":
        stages.append(
          .conv(
            outChannels: try s.int("out_channels"), kernel: try s.int("kernel"),
            stride: try s.int("stride"), padding: try s.int("padding")))
      case "avg_pool": stages.append(.avgPool(try s.int("size")))
      case "max_pool": stages.append(.maxPool(try s.int("size")))
      case "flatten": stages.append(.flatten)
      case "linear": stages.append(.linear(outFeatures: try s.int("out_features")))
      default:
        throw .unknown(
          field: "stage type at \(s.field("type"))", value: type,
          allowed: ["conv", "avg_pool", "max_pool", "flatten", "linear"])
      }
      try s.finish()
    }

    var feedbacks: [Feedback] = []
    for (i, value) in try root.array("feedbacks").enumerated() {
      var f = try JSONObjectReader(value, path: "\(root.field("feedbacks"))[\(i)]")
      let from = try f.int("from")
      let to = try f.int("to")
      let type = try f.string("type")
      let kind: Feedback.Kind
      switch type {
      case "dense": kind = .dense
      case "conv":
        kind = .conv(
          kernel: try f.int("kernel"), stride: try f.int("stride"), padding: try f.int("padding"))
      case "conv_transpose":
        kind = .convTranspose(
          kernel: try f.int("kernel"), stride: try f.int("stride"), padding: try f.int("padding"),
          outputPadding: try f.int("output_padding"))
      default:
        throw .unknown(
          field: "feedback type at \(f.field("type"))", value: type,
          allowed: ["dense", "conv", "conv_transpose"])
      }
      try f.finish()
      feedbacks.append(Feedback(from: from, to: to, kind: kind))
    }

    let readoutName = try root.string("readout")
    guard let readout = Readout(rawValue: readoutName) else {
      throw .unknown(
        field: root.field("readout"), value: readoutName, allowed: Readout.allCases.map(\.rawValue))
    }
    let bias = try root.bool("bias")
    var n = try root.object("neuron")
    let kind = try n.string("kind")
    var p = try n.object("parameters")
    var parameters: [String: Double] = [:]
    for key in p.keys {
      parameters[key] = try JSONObjectReader.double(p.optional(key)!, field: p.field(key))
    }
    try p.finish()
    try n.finish()
    try root.finish()
    self.init(
      input: input, stages: stages, feedbacks: feedbacks, readout: readout, bias: bias,
      neuron: NeuronSettings(kind: kind, parameters: parameters))
    try validate()
  }
}
