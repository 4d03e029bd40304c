import SNNBase

/// A network whose synapses and initial values have been drawn: what a ``Simulator`` runs.
public struct Network: Sendable {
  public let spec: NetworkSpec
  /// The global ID of each population's first neuron; the last entry is the total count.
  public let populationOffsets: [Int]
  public let projections: [Projection]
  /// Initial membrane potentials per population (empty for sources).
  public let initialPotentials: [[Double]]
  public let seed: UInt64

  public var neuronCount: Int { populationOffsets.last ?? 0 }
  public var synapseCount: Int { projections.reduce(0) { $0 + $1.connectivity.synapseCount } }

  /// The projections leaving each population.
  public var outgoing: [[Int]] {
    var out = Array(repeating: [Int](), count: spec.populations.count)
    for (p, projection) in projections.enumerated() { out[projection.source].append(p) }
    return out
  }
}

/// Resolved synapses between two populations.
public struct Projection: Sendable {
  public let name: String
  public let source: Int
  public let target: Int
  public let connectivity: Connectivity
  public let channel: Int
  /// The delay of every synapse (ms).
  public let delay: Double
}

extension NetworkSpec {
  /// Checks the whole description; the error names the offending field by its path
  /// (e.g. `populations[1].parameters.tauMem`).
  public func validate() throws(ConfigurationError) {
    var names = Set<String>()
    for (i, population) in populations.enumerated() {
      let field = "populations[\(i)]"
      guard !population.name.isEmpty else { throw .missing(field: field + ".name", expected: "a non-empty name") }
      guard names.insert(population.name).inserted else {
        throw .invalid(field: field + ".name", value: population.name, expected: "a name not used by another population")
      }
      guard population.size >= 1 else {
        throw .invalid(field: field + ".size", value: "\(population.size)", expected: "an integer ≥ 1")
      }
      switch population.model {
      case .lif(let p, let v0):
        try p.validate(prefix: field + ".parameters.")
        try v0.validate(field + ".initial.v")
      case .integrateAndFire(let p, let v0):
        try p.validate(prefix: field + ".parameters.")
        try v0.validate(field + ".initial.v")
      case .poisson(let rate):
        try ConfigurationError.requireNonNegative(rate, field + ".rateHz", unit: "Hz")
      case .spikeTrains(let trains):
        guard trains.count == population.size else {
          throw .invalid(field: field + ".spikeTimes", value: "\(trains.count) trains", expected: "one train per neuron (\(population.size))")
        }
        for (n, train) in trains.enumerated() {
          for (k, t) in train.enumerated() {
            try ConfigurationError.requireNonNegative(t, field + ".spikeTimes[\(n)][\(k)]", unit: "ms")
            if k > 0 && t < train[k - 1] {
              throw .invalid(field: field + ".spikeTimes[\(n)][\(k)]", value: "\(t)", expected: "times in ascending order")
            }
          }
        }
      }
    }
    for (i, projection) in projections.enumerated() {
      let field = "projections[\(i)]"
      guard let s = populationIndex(projection.source) else {
        throw .unknown(field: field + ".source", value: projection.source, allowed: populations.map(\.name))
      }
      guard let t = populationIndex(projection.target) else {
        throw .unknown(field: field + ".target", value: projection.target, allowed: populations.map(\.name))
      }
      let target = populations[t]
      guard !target.model.isSource else {
        throw .invalid(field: field + ".target", value: projection.target, expected: "a neuron population (spike sources take no input)")
      }
      guard projection.channel >= 0 && projection.channel < target.model.channelCount else {
        throw .invalid(field: field + ".channel", value: "\(projection.channel)", expected: "a channel of '\(target.name)' in 0..<\(target.model.channelCount)")
      }
      try ConfigurationError.requireNonNegative(projection.delay, field + ".delay", unit: "ms")
      try projection.weight.validate(field + ".weight")
      let (ns, nt) = (populations[s].size, target.size)
      switch projection.rule {
      case .allToAll: break
      case .oneToOne:
        guard ns == nt else {
          throw .invalid(field: field + ".rule", value: "one_to_one from \(ns) to \(nt) neurons", expected: "populations of equal size")
        }
      case .fixedProbability(let p, _):
        try ConfigurationError.require(p, in: 0...1, field + ".rule.probability")
      case .fixedFanIn(let k):
        guard k >= 0 else { throw .invalid(field: field + ".rule.fanIn", value: "\(k)", expected: "an integer ≥ 0") }
      case .explicit(let pairs):
        for (k, pair) in pairs.enumerated() where !(0..<ns).contains(pair.source) || !(0..<nt).contains(pair.target) {
          throw .invalid(field: field + ".rule.pairs[\(k)]", value: "(\(pair.source), \(pair.target))", expected: "source in 0..<\(ns) and target in 0..<\(nt)")
        }
      case .convolution(let h, let w, let cin, let cout, let k, let stride, let pad):
        for (name, v, low) in [("height", h, 1), ("width", w, 1), ("inChannels", cin, 1), ("outChannels", cout, 1), ("kernel", k, 1), ("stride", stride, 1), ("padding", pad, 0)] where v < low {
          throw .invalid(field: field + ".rule.\(name)", value: "\(v)", expected: "an integer ≥ \(low)")
        }
        guard h * w * cin == ns else {
          throw .invalid(field: field + ".rule", value: "\(h)×\(w)×\(cin) input", expected: "the size of '\(projection.source)' (\(ns))")
        }
        guard h + 2 * pad >= k && w + 2 * pad >= k else {
          throw .invalid(field: field + ".rule.kernel", value: "\(k)", expected: "at most the padded input size")
        }
        let oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1
        guard oh * ow * cout == nt else {
          throw .invalid(field: field + ".rule", value: "\(oh)×\(ow)×\(cout) output", expected: "the size of '\(projection.target)' (\(nt))")
        }
      }
    }
  }

  /// Validates, then draws synapses, weights and initial values from `seed`.
  ///
  /// Each projection draws from its own stream of the seed (stream 1 + index), the initial
  /// values from stream 0, so adding a projection does not change the others.
  public func build(seed: UInt64) throws(ConfigurationError) -> Network {
    try validate()
    var offsets = [0]
    for p in populations { offsets.append(offsets.last! + p.size) }
    var initial: [[Double]] = []
    var initRNG = Xoshiro256StarStar(seed: seed, stream: 0)
    for p in populations {
      switch p.model {
      case .lif(_, let v0), .integrateAndFire(_, let v0):
        initial.append((0..<p.size).map { _ in v0.sample(using: &initRNG) })
      default:
        initial.append([])
      }
    }
    var projectionsOut: [Projection] = []
    var streamRNG = Xoshiro256StarStar(seed: seed, stream: 1)
    for spec in projections {
      var rng = streamRNG
      streamRNG.jump()
      let s = populationIndex(spec.source)!, t = populationIndex(spec.target)!
      let ns = populations[s].size, nt = populations[t].size
      let connectivity = Self.connect(spec, sourceCount: ns, targetCount: nt, samePopulation: s == t, using: &rng)
      projectionsOut.append(Projection(name: spec.name, source: s, target: t, connectivity: connectivity, channel: spec.channel, delay: spec.delay))
    }
    return Network(spec: self, populationOffsets: offsets, projections: projectionsOut, initialPotentials: initial, seed: seed)
  }

  static func connect(
    _ spec: ProjectionSpec, sourceCount ns: Int, targetCount nt: Int, samePopulation: Bool,
    using rng: inout Xoshiro256StarStar
  ) -> Connectivity {
    let delay = Float(spec.delay)
    func draw() -> Float { Float(spec.weight.sample(using: &rng)) }
    switch spec.rule {
    case .allToAll:
      return .dense(DenseConnectivity(sourceCount: ns, targetCount: nt, weights: (0..<(ns * nt)).map { _ in draw() }, delay: delay))
    case .convolution(let h, let w, let cin, let cout, let k, let stride, let pad):
      return .convolution(
        ConvConnectivity(
          inChannels: cin, height: h, width: w, outChannels: cout, kernelHeight: k, kernelWidth: k,
          stride: stride, padding: pad, kernel: (0..<(k * k * cin * cout)).map { _ in draw() }, delay: delay))
    case .fixedProbability(let p, let autapses):
      var graph = SynapseGraph.fixedProbability(
        sourceCount: ns, targetCount: nt, probability: p, weight: 0, delay: delay,
        excludeSelf: samePopulation && !autapses, using: &rng)
      graph = graph.withWeights { _ in draw() }
      return .sparse(graph)
    case .oneToOne:
      var b = SynapseGraph.Builder(sourceCount: ns, targetCount: nt)
      for i in 0..<ns { b.append(source: i, target: i, weight: draw(), delay: delay) }
      return .sparse(b.finalize())
    case .fixedFanIn(let k):
      var b = SynapseGraph.Builder(sourceCount: ns, targetCount: nt)
      b.reserveCapacity(k * nt)
      for t in 0..<nt {
        for _ in 0..<k { b.append(source: rng.nextIndex(below: ns), target: t, weight: draw(), delay: delay) }
      }
      return .sparse(b.finalize())
    case .explicit(let pairs):
      var b = SynapseGraph.Builder(sourceCount: ns, targetCount: nt)
      for pair in pairs { b.append(source: pair.source, target: pair.target, weight: draw(), delay: delay) }
      return .sparse(b.finalize())
    }
  }
}

extension SynapseGraph {
  /// The same graph with weights replaced, synapse by synapse in CSR order.
  public func withWeights(_ weight: (Int) -> Float) -> SynapseGraph {
    var w = weights
    for k in w.indices { w[k] = weight(k) }
    return SynapseGraph(
      sourceCount: sourceCount, targetCount: targetCount, rowStart: rowStart, targets: targets,
      weights: w, delays: delays, uniformDelay: uniformDelay)
  }
}
