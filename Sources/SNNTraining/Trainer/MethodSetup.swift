import SNNBase

/// What a method factory receives.
public struct MethodSetup: Sendable {
  public var configuration: RunConfiguration
  /// The validated model with every shape and parameter shape.
  public var analysis: ModelAnalysis
  /// The shape of the samples the method will see.
  public var sampleShape: SampleShape
  public var classCount: Int

  public init(
    configuration: RunConfiguration, analysis: ModelAnalysis, sampleShape: SampleShape,
    classCount: Int
  ) {
    self.configuration = configuration
    self.analysis = analysis
    self.sampleShape = sampleShape
    self.classCount = classCount
  }

  public var model: ModelSpec { configuration.model }
  public var options: MethodOptionValues { configuration.methodOptions }

  /// T, after checking that the samples have 1 frame (a static image, injected at every
  /// step) or T frames (event frames); the dense methods accept nothing else.
  public func timeStepsMatchingFrames() throws(ConfigurationError) -> Int {
    let steps = configuration.timeSteps
    let frames = sampleShape.frames
    guard frames == 1 || frames == steps else {
      throw .invalid(
        field: "--T", value: "\(steps)",
        expected:
          "\(frames), the number of frames per sample of the dataset (or a dataset of static images)"
      )
    }
    return steps
  }
}

/// Defaults a method prefers when the command line does not say otherwise.
public struct MethodDefaults: Sendable {
  public var timeSteps: Int?
  /// A notation or preset name for `--model`.
  public var model: String?
  /// The readout kind the method's models use (EDBP decodes output spikes: `.spiking`).
  public var readout: ModelSpec.Readout
  /// Neuron settings put into the spec.
  public var neuron: ModelSpec.NeuronSettings?
  public var optimizer: OptimizerSettings.Kind?
  public var learningRate: Double?
  public var weightDecay: Double?
  /// Dataset-specific defaults (by dataset name) that replace these for that dataset, e.g.
  /// EDBP's N-MNIST configuration (T = 30, its own model and weight decay).
  public var perDataset: [String: MethodDefaults]

  /// The defaults for `dataset`: its entry in ``perDataset``, else these.
  public func resolved(for dataset: String) -> MethodDefaults {
    perDataset[dataset] ?? self
  }

  public init(
    timeSteps: Int? = nil, model: String? = nil, readout: ModelSpec.Readout = .linear,
    neuron: ModelSpec.NeuronSettings? = nil, optimizer: OptimizerSettings.Kind? = nil,
    learningRate: Double? = nil, weightDecay: Double? = nil,
    perDataset: [String: MethodDefaults] = [:]
  ) {
    self.timeSteps = timeSteps
    self.model = model
    self.readout = readout
    self.neuron = neuron
    self.optimizer = optimizer
    self.learningRate = learningRate
    self.weightDecay = weightDecay
    self.perDataset = perDataset
  }
}
