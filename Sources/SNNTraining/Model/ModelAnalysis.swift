import SNNBase

/// Everything a backend needs to know about a validated ``ModelSpec``: the shape after every
/// stage, the layers with their parameter shapes, the feedback connections, and dense
/// operation counts.
///
/// MAC counts are the "ANN-equivalent" counts used for energy comparisons: what one time
/// step of the same architecture costs as a dense network, per sample.
/// - conv: `outChannels · outH · outW · inChannels · k²` (padding positions included, as
///   the usual FLOP counts do);
/// - linear: `inFeatures · outFeatures`;
/// - feedback: dense `sourceCount · targetCount`; conv as above on the source shape;
///   transposed conv `sourceChannels · sourceH · sourceW · targetChannels · k²`;
/// - pooling and flatten: 0 (no multiplications).
public struct ModelAnalysis: Equatable, Sendable {
  /// One stage with its shapes.
  public struct StageInfo: Equatable, Sendable {
    public var index: Int
    public var stage: ModelSpec.Stage
    public var input: FeatureShape
    public var output: FeatureShape
    /// The layer number when the stage is a `conv` or `linear` layer.
    public var layerNumber: Int?
    public var macsPerStep: Int
  }

  /// A `conv` or `linear` stage.
  public struct Layer: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
      case conv(kernel: Int, stride: Int, padding: Int)
      case linear
    }
    /// The layer number, from 1.
    public var number: Int
    /// The index of the stage in ``ModelSpec/stages``.
    public var stageIndex: Int
    public var kind: Kind
    /// `conv<number>` or `fc<number>`: the prefix of the layer's parameter names.
    public var name: String
    public var input: FeatureShape
    public var output: FeatureShape
    /// Whether this is the non-spiking readout (the last layer with `readout == .linear`).
    public var isReadout: Bool
    /// Whether spiking neurons follow the layer (every layer but a linear readout).
    public var isSpiking: Bool { !isReadout }
    /// `[out, in, k, k]` or `[out, in]`.
    public var weightShape: [Int]
    /// `[out]` when the spec has biases, else nil.
    public var biasShape: [Int]?
    /// Inputs per output (`in · k²` or `in`), for Kaiming initialization.
    public var fanIn: Int
    /// Outputs per input (`out · k²` or `out`).
    public var fanOut: Int
    public var macsPerStep: Int
  }

  /// A feedback connection with its shapes.
  public struct FeedbackInfo: Equatable, Sendable {
    /// The connection's position in ``ModelSpec/feedbacks``, from 1.
    public var number: Int
    public var feedback: ModelSpec.Feedback
    /// `feedback<number>`: the prefix of its parameter name.
    public var name: String
    public var source: FeatureShape
    public var target: FeatureShape
    public var weightShape: [Int]
    /// PyTorch's convention: `weightShape[1] · k²` (`sourceCount` for dense).
    public var fanIn: Int
    public var fanOut: Int
    public var macsPerStep: Int
  }

  public var stages: [StageInfo]
  public var layers: [Layer]
  public var feedbacks: [FeedbackInfo]
  /// The shape of the last stage's output (`classCount × 1 × 1` for a classifier).
  public var output: FeatureShape
  /// Whether the last stage is `linear` (a classifier: the trainer requires it). A spec
  /// ending in conv or pooling stages describes a feature extractor, e.g. the
  /// `64C5s2-64C5s2-64C5` body of SPIDE's convnet.
  public var endsWithLinear: Bool
  /// Dense MACs of one time step of one sample, all stages and feedbacks.
  public var macsPerStep: Int
  /// Spiking neurons per sample: the output elements of every spiking layer.
  public var spikingNeuronCount: Int

  /// The number of outputs of the last stage (the classes of a classifier).
  public var classCount: Int { output.elementCount }
  /// The layers followed by spiking neurons, in order.
  public var spikingLayers: [Layer] { layers.filter(\.isSpiking) }
}

extension ModelSpec {
  /// The largest accepted size of any one dimension (channels, height, width, features).
  public static let maximumDimension = 1 << 20
  /// The largest accepted element count of any activation or weight.
  public static let maximumElementCount = 1 << 31

  /// Validates the spec and infers every shape.
  ///
  /// Throws ``ConfigurationError`` naming the stage (`model stage 3 (40C5)`), what it got
  /// and what was expected: a kernel larger than its padded input, a pool window larger
  /// than its input, a `linear` stage without the `flatten` before it, a `conv` after
  /// `flatten`, a feedback between shapes that do not map onto each other, sizes out of
  /// range. The readout (``ModelSpec/Readout/linear``) is the last stage when it is
  /// `linear`.
  public func analyze() throws(ConfigurationError) -> ModelAnalysis {
    try checkDimension(input.channels, "model input", "channels")
    try checkDimension(input.height, "model input", "height")
    try checkDimension(input.width, "model input", "width")
    _ = try checkedCount([input.channels, input.height, input.width], "model input")
    guard let last = stages.last else {
      throw .invalid(field: "model", value: "no stages", expected: "at least one stage")
    }
    for (name, value) in neuron.parameters where !value.isFinite {
      throw .invalid(
        field: "model neuron parameter '\(name)'", value: "\(value)", expected: "a finite number")
    }
    let endsWithLinear: Bool
    if case .linear = last { endsWithLinear = true } else { endsWithLinear = false }

    var infos: [ModelAnalysis.StageInfo] = []
    var layers: [ModelAnalysis.Layer] = []
    var shape = input
    var flattened = false
    var macs = 0
    var neurons = 0
    for (index, stage) in stages.enumerated() {
      let field = stageField(index)
      var output = shape
      var stageMacs = 0
      var layerNumber: Int?
      switch stage {
      case .conv(let outChannels, let kernel, let stride, let padding):
        if flattened {
          throw .invalid(
            field: field, value: "a conv stage after flatten",
            expected: "conv and pooling stages before the first linear stage")
        }
        try checkDimension(outChannels, field, "output channels")
        try checkDimension(kernel, field, "kernel size")
        try checkDimension(stride, field, "stride")
        guard padding >= 0, padding < kernel else {
          throw .invalid(
            field: field, value: "padding \(padding)",
            expected: "a padding in 0..<\(kernel) (smaller than the kernel)")
        }
        let paddedHeight = shape.height + 2 * padding
        let paddedWidth = shape.width + 2 * padding
        guard kernel <= paddedHeight, kernel <= paddedWidth else {
          throw .invalid(
            field: field, value: "input \(shape)",
            expected:
              "a kernel no larger than the padded input (kernel \(kernel) > "
              + "\(min(shape.height, shape.width)) + 2·\(padding))")
        }
        output = FeatureShape(
          channels: outChannels, height: (paddedHeight - kernel) / stride + 1,
          width: (paddedWidth - kernel) / stride + 1)
        let weights = try checkedCount([outChannels, shape.channels, kernel, kernel], field)
        _ = try checkedCount([output.channels, output.height, output.width], field)
        stageMacs = try checkedProduct([weights, output.height, output.width], field)
        layerNumber = layers.count + 1
        layers.append(
          ModelAnalysis.Layer(
            number: layers.count + 1, stageIndex: index,
            kind: .conv(kernel: kernel, stride: stride, padding: padding),
            name: "conv\(layers.count + 1)", input: shape, output: output,
            isReadout: false, weightShape: [outChannels, shape.channels, kernel, kernel],
            biasShape: bias ? [outChannels] : nil, fanIn: shape.channels * kernel * kernel,
            fanOut: outChannels * kernel * kernel, macsPerStep: stageMacs))
      case .avgPool(let k), .maxPool(let k):
        if flattened {
          throw .invalid(
            field: field, value: "a pooling stage after flatten",
            expected: "conv and pooling stages before the first linear stage")
        }
        try checkDimension(k, field, "pool size")
        guard k <= shape.height, k <= shape.width else {
          throw .invalid(
            field: field, value: "input \(shape)",
            expected: "a pool window no larger than the input (\(k) > "
              + "\(min(shape.height, shape.width)))")
        }
        output = FeatureShape(
          channels: shape.channels, height: shape.height / k, width: shape.width / k)
      case .flatten:
        if flattened {
          throw .invalid(
            field: field, value: "a second flatten", expected: "exactly one flatten stage")
        }
        guard index + 1 < stages.count, case .linear = stages[index + 1] else {
          throw .invalid(
            field: field, value: "flatten not followed by a linear stage",
            expected: "flatten directly before the first linear stage")
        }
        flattened = true
        output = .flat(shape.elementCount)
      case .linear(let outFeatures):
        guard flattened else {
          throw .invalid(
            field: field, value: "a linear stage on the unflattened input \(shape)",
            expected: "a flatten stage directly before the first linear stage")
        }
        try checkDimension(outFeatures, field, "output features")
        let inFeatures = shape.elementCount
        stageMacs = try checkedCount([outFeatures, inFeatures], field)
        output = .flat(outFeatures)
        layerNumber = layers.count + 1
        let isReadout = readout == .linear && index == stages.count - 1
        layers.append(
          ModelAnalysis.Layer(
            number: layers.count + 1, stageIndex: index, kind: .linear,
            name: "fc\(layers.count + 1)", input: shape, output: output, isReadout: isReadout,
            weightShape: [outFeatures, inFeatures], biasShape: bias ? [outFeatures] : nil,
            fanIn: inFeatures, fanOut: outFeatures, macsPerStep: stageMacs))
      }
      if let n = layerNumber, layers[n - 1].isSpiking { neurons += output.elementCount }
      infos.append(
        ModelAnalysis.StageInfo(
          index: index, stage: stage, input: shape, output: output, layerNumber: layerNumber,
          macsPerStep: stageMacs))
      macs += stageMacs
      shape = output
    }

    var feedbackInfos: [ModelAnalysis.FeedbackInfo] = []
    for (i, feedback) in feedbacks.enumerated() {
      let info = try analyzeFeedback(feedback, number: i + 1, layers: layers)
      macs += info.macsPerStep
      feedbackInfos.append(info)
    }
    return ModelAnalysis(
      stages: infos, layers: layers, feedbacks: feedbackInfos, output: shape,
      endsWithLinear: endsWithLinear, macsPerStep: macs, spikingNeuronCount: neurons)
  }

  /// Throws unless the spec is valid (see ``analyze()``).
  public func validate() throws(ConfigurationError) { _ = try analyze() }

  private func analyzeFeedback(
    _ feedback: Feedback, number: Int, layers: [ModelAnalysis.Layer]
  ) throws(ConfigurationError) -> ModelAnalysis.FeedbackInfo {
    let field = "model feedback \(number) (\(feedbackNotation(feedback)))"
    guard (1...layers.count).contains(feedback.from), (1...layers.count).contains(feedback.to)
    else {
      throw .invalid(
        field: field, value: "layers \(feedback.from) to \(feedback.to)",
        expected: "layer numbers in 1...\(layers.count)")
    }
    guard feedback.to <= feedback.from else {
      throw .invalid(
        field: field, value: "from layer \(feedback.from) to layer \(feedback.to)",
        expected: "a connection back to the same or an earlier layer (to ≤ from)")
    }
    let source = layers[feedback.from - 1]
    let target = layers[feedback.to - 1]
    guard source.isSpiking else {
      throw .invalid(
        field: field, value: "from the readout layer \(source.number)",
        expected: "a spiking source layer (the linear readout does not spike)")
    }
    let s = source.output
    let t = target.output
    switch feedback.kind {
    case .dense:
      let weights = try checkedCount([t.elementCount, s.elementCount], field)
      return ModelAnalysis.FeedbackInfo(
        number: number, feedback: feedback, name: "feedback\(number)", source: s, target: t,
        weightShape: [t.elementCount, s.elementCount], fanIn: s.elementCount,
        fanOut: t.elementCount, macsPerStep: weights)
    case .conv(let kernel, let stride, let padding):
      try checkDimension(kernel, field, "kernel size")
      try checkDimension(stride, field, "stride")
      guard padding >= 0, padding < kernel, kernel <= s.height + 2 * padding,
        kernel <= s.width + 2 * padding
      else {
        throw .invalid(
          field: field, value: "kernel \(kernel), padding \(padding) on \(s)",
          expected:
            "a padding smaller than the kernel and a kernel no larger than the padded source")
      }
      let height = (s.height + 2 * padding - kernel) / stride + 1
      let width = (s.width + 2 * padding - kernel) / stride + 1
      guard height == t.height, width == t.width else {
        throw .invalid(
          field: field, value: "output \(t.channels)×\(height)×\(width) from source \(s)",
          expected: "the target layer's shape \(t)")
      }
      let weights = try checkedCount([t.channels, s.channels, kernel, kernel], field)
      return ModelAnalysis.FeedbackInfo(
        number: number, feedback: feedback, name: "feedback\(number)", source: s, target: t,
        weightShape: [t.channels, s.channels, kernel, kernel], fanIn: s.channels * kernel * kernel,
        fanOut: t.channels * kernel * kernel,
        macsPerStep: try checkedProduct([weights, t.height, t.width], field))
    case .convTranspose(let kernel, let stride, let padding, let outputPadding):
      try checkDimension(kernel, field, "kernel size")
      try checkDimension(stride, field, "stride")
      guard padding >= 0, padding < kernel, outputPadding >= 0, outputPadding < max(stride, 1)
      else {
        throw .invalid(
          field: field, value: "padding \(padding), output padding \(outputPadding)",
          expected: "padding in 0..<kernel and output padding in 0..<stride")
      }
      let height = (s.height - 1) * stride - 2 * padding + kernel + outputPadding
      let width = (s.width - 1) * stride - 2 * padding + kernel + outputPadding
      guard height == t.height, width == t.width else {
        throw .invalid(
          field: field, value: "output \(t.channels)×\(height)×\(width) from source \(s)",
          expected: "the target layer's shape \(t)")
      }
      let weights = try checkedCount([s.channels, t.channels, kernel, kernel], field)
      return ModelAnalysis.FeedbackInfo(
        number: number, feedback: feedback, name: "feedback\(number)", source: s, target: t,
        weightShape: [s.channels, t.channels, kernel, kernel], fanIn: t.channels * kernel * kernel,
        fanOut: s.channels * kernel * kernel,
        macsPerStep: try checkedProduct([weights, s.height, s.width], field))
    }
  }

  func stageField(_ index: Int) -> String {
    "model stage \(index + 1) (\(stageNotation(stages[index])))"
  }

  private func stageKindName(_ stage: Stage) -> String {
    switch stage {
    case .conv: return "conv"
    case .avgPool: return "average-pooling"
    case .maxPool: return "max-pooling"
    case .flatten: return "flatten"
    case .linear: return "linear"
    }
  }

  private func checkDimension(_ value: Int, _ field: String, _ what: String)
    throws(ConfigurationError)
  {
    guard value >= 1, value <= ModelSpec.maximumDimension else {
      throw .invalid(
        field: field, value: "\(what) \(value)",
        expected: "\(what) in 1...\(ModelSpec.maximumDimension)")
    }
  }

  private func checkedProduct(_ factors: [Int], _ field: String) throws(ConfigurationError) -> Int {
    var product = 1
    for f in factors {
      let (p, overflow) = product.multipliedReportingOverflow(by: f)
      guard !overflow else {
        throw .invalid(field: field, value: "a size that overflows", expected: "smaller sizes")
      }
      product = p
    }
    return product
  }

  private func checkedCount(_ factors: [Int], _ field: String) throws(ConfigurationError) -> Int {
    let count = try checkedProduct(factors, field)
    guard count <= ModelSpec.maximumElementCount else {
      throw .invalid(
        field: field,
        value: "\(count) elements (\(factors.map(String.init).joined(separator: "×")))",
        expected: "at most \(ModelSpec.maximumElementCount) elements")
    }
    return count
  }
}
