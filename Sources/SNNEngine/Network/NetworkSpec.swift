import SNNBase

/// A network description: populations, projections between them, and how to initialize
/// them. It is a value that can be validated, written as JSON (``NetworkSpec/json``) and
/// read back (``NetworkSpec/init(json:)``); ``build(seed:)`` materializes its synapses.
public struct NetworkSpec: Sendable {
  public var populations: [PopulationSpec]
  public var projections: [ProjectionSpec]

  public init(populations: [PopulationSpec] = [], projections: [ProjectionSpec] = []) {
    self.populations = populations
    self.projections = projections
  }

  /// The index of the population named `name`.
  public func populationIndex(_ name: String) -> Int? { populations.firstIndex { $0.name == name } }
}

/// A group of neurons (or spike sources) sharing one model and its parameters.
public struct PopulationSpec: Sendable {
  public var name: String
  public var size: Int
  public var model: NeuronModel

  public init(name: String, size: Int, model: NeuronModel) {
    self.name = name
    self.size = size
    self.model = model
  }
}

/// A scalar drawn per neuron or per synapse.
public enum Distribution: Hashable, Sendable {
  case constant(Double)
  /// Uniform in [low, high).
  case uniform(Double, Double)
  /// Normal with mean and standard deviation.
  case normal(mean: Double, sd: Double)

  public func sample(using generator: inout some RandomNumberGenerator) -> Double {
    switch self {
    case .constant(let v): return v
    case .uniform(let lo, let hi): return generator.nextUniform(lo, hi)
    case .normal(let mean, let sd): return mean + sd * generator.nextNormal()
    }
  }

  func validate(_ field: String) throws(ConfigurationError) {
    switch self {
    case .constant(let v): try ConfigurationError.requireFinite(v, field)
    case .uniform(let lo, let hi):
      try ConfigurationError.requireFinite(lo, field + ".uniform[0]")
      try ConfigurationError.requireFinite(hi, field + ".uniform[1]")
      guard lo <= hi else { throw .invalid(field: field + ".uniform", value: "[\(lo), \(hi)]", expected: "low ≤ high") }
    case .normal(let mean, let sd):
      try ConfigurationError.requireFinite(mean, field + ".mean")
      try ConfigurationError.requireNonNegative(sd, field + ".sd")
    }
  }
}

/// What the neurons of a population are.
public enum NeuronModel: Sendable {
  /// Exact continuous-time leaky integrate-and-fire; `initialPotential` in mV.
  case lif(LIF.Parameters, initialPotential: Distribution)
  /// Exact continuous-time (non-leaky) integrate-and-fire with delta synapses.
  case integrateAndFire(IF.Parameters, initialPotential: Distribution)
  /// Independent Poisson spike sources with this rate (Hz).
  case poisson(rateHz: Double)
  /// Given spike times (ms) per neuron, ascending.
  case spikeTrains([[Double]])

  public var name: String {
    switch self {
    case .lif: return "lif"
    case .integrateAndFire: return "if"
    case .poisson: return "poisson"
    case .spikeTrains: return "spike_trains"
    }
  }

  public var isSource: Bool {
    switch self {
    case .poisson, .spikeTrains: return true
    default: return false
    }
  }

  /// The number of synaptic channels a projection onto this population may name.
  public var channelCount: Int {
    switch self {
    case .lif(let p, _): return p.channels.count
    case .integrateAndFire: return 1
    case .poisson, .spikeTrains: return 0
    }
  }
}

/// Synapses from one population to another.
public struct ProjectionSpec: Sendable {
  public var name: String
  public var source: String
  public var target: String
  public var rule: ConnectionRule
  /// The weight of each synapse (mV), drawn per synapse.
  public var weight: Distribution
  /// The delay of every synapse (ms), ≥ 0.
  public var delay: Double
  /// Which synaptic channel of the target neuron the synapses drive.
  public var channel: Int

  public init(
    name: String = "", source: String, target: String, rule: ConnectionRule, weight: Distribution,
    delay: Double = 0, channel: Int = 0
  ) {
    self.name = name.isEmpty ? "\(source)->\(target)" : name
    self.source = source
    self.target = target
    self.rule = rule
    self.weight = weight
    self.delay = delay
    self.channel = channel
  }
}

/// How the synapses of a projection are chosen.
public enum ConnectionRule: Sendable {
  /// Every source to every target (dense connectivity).
  case allToAll
  /// Source i to target i (equal sizes).
  case oneToOne
  /// Each pair independently with probability p.
  case fixedProbability(Double, allowAutapses: Bool)
  /// Each target receives exactly `k` synapses from sources drawn uniformly (with
  /// replacement).
  case fixedFanIn(Int)
  /// Explicit (source, target) pairs.
  case explicit([(source: Int, target: Int)])
  /// A convolution: the source population is a `[height, width, inChannels]` image
  /// (channels-last), the target `[outHeight, outWidth, outChannels]`; one kernel shared by
  /// all positions, drawn from the projection's weight distribution.
  case convolution(height: Int, width: Int, inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int)

  public var name: String {
    switch self {
    case .allToAll: return "all_to_all"
    case .oneToOne: return "one_to_one"
    case .fixedProbability: return "fixed_probability"
    case .fixedFanIn: return "fixed_fan_in"
    case .explicit: return "explicit"
    case .convolution: return "convolution"
    }
  }
}
