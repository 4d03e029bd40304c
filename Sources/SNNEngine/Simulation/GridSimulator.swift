import SNNBase

/// A network on the integer step grid: populations of ``GridLIF`` neurons (with a drive
/// per neuron) or spike sources given by step, and projections with integer delays.
public struct GridNetwork: Sendable {
  public enum Population: Sendable {
    /// Discrete-time LIF neurons; `drive[i]` is neuron i's constant input per step and
    /// `initialPotential[i]` its V[−1].
    case lif(name: String, parameters: GridLIF.Parameters, drive: [Double], initialPotential: [Double])
    /// Spike sources: the steps at which each neuron fires, ascending.
    case spikeSteps(name: String, trains: [[Int]])

    public var name: String {
      switch self {
      case .lif(let name, _, _, _), .spikeSteps(let name, _): return name
      }
    }

    public var size: Int {
      switch self {
      case .lif(_, _, let drive, _): return drive.count
      case .spikeSteps(_, let trains): return trains.count
      }
    }
  }

  public struct Projection: Sendable {
    public var name: String
    public var source: Int
    public var target: Int
    public var connectivity: Connectivity
    /// Delay in steps, ≥ 0. Zero-delay projections must go forward in population order.
    public var delay: Int

    public init(name: String, source: Int, target: Int, connectivity: Connectivity, delay: Int = 0) {
      self.name = name
      self.source = source
      self.target = target
      self.connectivity = connectivity
      self.delay = delay
    }
  }

  public var populations: [Population]
  public var projections: [Projection]

  public init(populations: [Population], projections: [Projection]) {
    self.populations = populations
    self.projections = projections
  }

  public var populationOffsets: [Int] {
    var offsets = [0]
    for p in populations { offsets.append(offsets.last! + p.size) }
    return offsets
  }

  /// Checks sizes, parameters and the order of zero-delay projections.
  public func validate() throws(ConfigurationError) {
    for (i, p) in populations.enumerated() {
      if case .lif(_, let parameters, let drive, let v0) = p {
        try parameters.validate(prefix: "populations[\(i)].parameters.")
        guard v0.count == drive.count else {
          throw .invalid(field: "populations[\(i)].initialPotential", value: "\(v0.count) values", expected: "\(drive.count) (one per neuron)")
        }
      }
    }
    for (k, projection) in projections.enumerated() {
      let field = "projections[\(k)]"
      guard populations.indices.contains(projection.source), populations.indices.contains(projection.target) else {
        throw .invalid(field: field, value: "\(projection.source) → \(projection.target)", expected: "population indices in 0..<\(populations.count)")
      }
      if case .spikeSteps = populations[projection.target] {
        throw .invalid(field: field + ".target", value: populations[projection.target].name, expected: "a neuron population")
      }
      guard projection.connectivity.sourceCount == populations[projection.source].size,
        projection.connectivity.targetCount == populations[projection.target].size
      else {
        throw .invalid(
          field: field + ".connectivity", value: "\(projection.connectivity.sourceCount) → \(projection.connectivity.targetCount)",
          expected: "\(populations[projection.source].size) → \(populations[projection.target].size)")
      }
      guard projection.delay >= 0 else { throw .invalid(field: field + ".delay", value: "\(projection.delay)", expected: "an integer ≥ 0") }
      guard projection.delay > 0 || projection.source < projection.target else {
        throw .invalid(
          field: field + ".delay", value: "0 from '\(populations[projection.source].name)' to '\(populations[projection.target].name)'",
          expected: "≥ 1, or a target later in population order (zero-delay projections feed forward)")
      }
    }
  }
}

/// Runs a ``GridNetwork`` step by step, touching only neurons that receive input or whose
/// drive brings them to threshold.
///
/// Within step t: the deliveries due at t (from earlier steps' spikes with delays) are
/// applied; then the populations are processed in order, each evaluating only its
/// candidates — neurons that received input at t and neurons whose predicted threshold
/// crossing falls on t. A neuron not touched for k steps is advanced in closed form
/// (``GridLIF/advance(_:steps:leak:drive:)``). A spike is delivered at once over zero-delay
/// projections (to later populations, which have not been processed yet at this step) and
/// through a ``BucketEventQueue`` over delayed ones. Steps without any event are skipped.
public final class GridSimulator {
  public let network: GridNetwork
  public private(set) var step = 0
  /// Spikes as (step, global neuron ID), in processing order.
  public private(set) var spikeSteps: [Int32] = []
  public private(set) var spikeNeurons: [Int32] = []
  public private(set) var counter: SynOpCounter
  public private(set) var spikeCounts: [Int]
  /// Neuron state evaluations (each advances a neuron over all the steps since its last
  /// one: the event-driven count that replaces neurons × steps).
  public private(set) var neuronUpdates = 0
  /// ``neuronUpdates`` per population.
  public private(set) var neuronUpdatesByPopulation: [Int]

  struct LIFState {
    let parameters: GridLIF.Parameters
    let drive: [Double]
    /// V after the last processed step `last[i]` (post-reset).
    var v: [Double]
    var last: [Int]
    var input: [Double]
    var inputStep: [Int]
    var refractoryUntil: [Int]
    /// Neurons with input at the current step, in arrival order.
    var touched: [Int32] = []
    var predicted: BucketEventQueue<Int32>
    var predictedStep: [Int]
  }

  var lif: [LIFState?] = []
  var trains: [[[Int]]?] = []
  var trainIndex: [[Int]] = []
  var deliveries = BucketEventQueue<(projection: Int32, source: Int32)>(horizon: 64)
  let outgoing: [[Int]]
  let offsets: [Int]

  public init(network: GridNetwork) throws(ConfigurationError) {
    try network.validate()
    self.network = network
    offsets = network.populationOffsets
    var out = Array(repeating: [Int](), count: network.populations.count)
    for (p, projection) in network.projections.enumerated() { out[projection.source].append(p) }
    outgoing = out
    counter = SynOpCounter(layerNames: network.projections.map(\.name))
    spikeCounts = Array(repeating: 0, count: network.populations.count)
    neuronUpdatesByPopulation = Array(repeating: 0, count: network.populations.count)
    for population in network.populations {
      switch population {
      case .lif(_, let p, let drive, let v0):
        let n = drive.count
        var state = LIFState(
          parameters: p, drive: drive, v: v0, last: Array(repeating: -1, count: n), input: Array(repeating: 0, count: n),
          inputStep: Array(repeating: -1, count: n), refractoryUntil: Array(repeating: -1, count: n),
          predicted: BucketEventQueue(horizon: 64), predictedStep: Array(repeating: -1, count: n))
        for i in 0..<n { Self.predict(&state, i, after: -1) }
        lif.append(state)
        trains.append(nil)
        trainIndex.append([])
      case .spikeSteps(_, let t):
        lif.append(nil)
        trains.append(t)
        trainIndex.append(Array(repeating: 0, count: t.count))
      }
    }
  }

  /// Schedules neuron i's drive-only threshold crossing after step `s` (its state is at s).
  static func predict(_ state: inout LIFState, _ i: Int, after s: Int) {
    let p = state.parameters
    let start = max(s, state.refractoryUntil[i])
    let v = start == s ? state.v[i] : p.vReset
    if let k = GridLIF.stepsToThreshold(from: v, leak: p.leak, drive: state.drive[i], threshold: p.vThreshold) {
      state.predictedStep[i] = start + k
      state.predicted.push(time: start + k, phase: .threshold, Int32(i))
    } else {
      state.predictedStep[i] = -1
    }
  }

  /// The next step with any event at or after `from`, or nil.
  func nextEventStep(from: Int) -> Int? {
    var best = deliveries.minimumKey?.time
    for q in lif.indices {
      if let t = lif[q]?.predicted.minimumKey?.time { best = min(best ?? t, t) }
      if let train = trains[q] {
        for (i, list) in train.enumerated() where trainIndex[q][i] < list.count {
          best = min(best ?? list[trainIndex[q][i]], list[trainIndex[q][i]])
        }
      }
    }
    return best.map { max($0, from) }
  }

  /// Runs steps `step ..< end`.
  public func run(until end: Int) {
    while let t = nextEventStep(from: step), t < end {
      process(step: t)
      step = t + 1
    }
    step = max(step, end)
  }

  func process(step t: Int) {
    // Deliveries due now.
    while let key = deliveries.minimumKey, key.time == t {
      let (_, d) = deliveries.pop()!
      deliver(projection: Int(d.projection), source: Int(d.source), step: t)
    }
    for q in network.populations.indices {
      if var state = lif[q] {
        lif[q] = nil  // move out while processing (no copy-on-write)
        var candidates = state.touched
        state.touched.removeAll(keepingCapacity: true)
        while let key = state.predicted.minimumKey, key.time == t {
          let (_, i) = state.predicted.pop()!
          if state.predictedStep[Int(i)] == t { candidates.append(i) }
        }
        var fired: [Int] = []
        for i32 in candidates {
          let i = Int(i32)
          if state.last[i] == t { continue }  // touched and predicted: once
          let p = state.parameters
          if t <= state.refractoryUntil[i] {
            state.v[i] = p.vReset
          } else {
            let from = max(state.last[i], state.refractoryUntil[i])
            let base = from == state.last[i] ? state.v[i] : p.vReset
            var v = GridLIF.advance(base, steps: t - from, leak: p.leak, drive: state.drive[i])
            if state.inputStep[i] == t { v += state.input[i] }
            neuronUpdates += 1
            neuronUpdatesByPopulation[q] += 1
            if v >= p.vThreshold {
              fired.append(i)
              v = p.reset == .hard ? p.vReset : v - (p.vThreshold - p.vReset)
              if p.refractorySteps > 0 { state.refractoryUntil[i] = t + p.refractorySteps }
            }
            state.v[i] = v
          }
          state.last[i] = t
          Self.predict(&state, i, after: t)
        }
        lif[q] = state
        for i in fired { emit(population: q, neuron: i, step: t) }
      } else if let train = trains[q] {
        for i in train.indices {
          while trainIndex[q][i] < train[i].count && train[i][trainIndex[q][i]] == t {
            trainIndex[q][i] += 1
            emit(population: q, neuron: i, step: t)
          }
        }
      }
    }
  }

  func emit(population q: Int, neuron i: Int, step t: Int) {
    spikeCounts[q] += 1
    spikeSteps.append(Int32(t))
    spikeNeurons.append(Int32(offsets[q] + i))
    for p in outgoing[q] {
      let delay = network.projections[p].delay
      if delay == 0 {
        deliver(projection: p, source: i, step: t)
      } else {
        deliveries.push(time: t + delay, phase: .deliver, (Int32(p), Int32(i)))
      }
    }
  }

  func deliver(projection p: Int, source j: Int, step t: Int) {
    let projection = network.projections[p]
    let q = projection.target
    guard var state = lif[q] else { return }
    lif[q] = nil
    func add(_ i: Int, _ w: Float) {
      if state.inputStep[i] != t {
        state.inputStep[i] = t
        state.input[i] = 0
        state.touched.append(Int32(i))
      }
      state.input[i] += Double(w)
    }
    switch projection.connectivity {
    case .sparse(let g):
      counter.addAccumulates(g.rowStart[j + 1] - g.rowStart[j], layer: p)
      for s in g.row(j) { add(Int(g.targets[s]), g.weights[s]) }
    case .dense(let d):
      counter.addAccumulates(d.targetCount, layer: p)
      let row = d.rowOffset(j)
      for i in 0..<d.targetCount { add(i, d.weights[row + i]) }
    case .convolution(let c):
      c.forEachRun(of: j) { first, offset, n in
        counter.addAccumulates(n, layer: p)
        for i in 0..<n { add(first + i, c.kernel[offset + i]) }
      }
    }
    lif[q] = state
  }

  /// Spike steps of each neuron of population `q`.
  public func trains(population q: Int) -> [[Int]] {
    var out = Array(repeating: [Int](), count: network.populations[q].size)
    for k in spikeSteps.indices {
      let n = Int(spikeNeurons[k]) - offsets[q]
      if n >= 0 && n < out.count { out[n].append(Int(spikeSteps[k])) }
    }
    return out
  }
}
