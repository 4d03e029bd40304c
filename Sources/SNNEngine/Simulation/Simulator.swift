import SNNBase

/// Runs a ``Network`` event by event in continuous time.
///
/// Every population keeps the next event of each of its neurons (a predicted threshold
/// crossing, a check, the end of a refractory period, a source's next spike) in an indexed
/// heap; synaptic deliveries with a delay wait in a ``HeapEventQueue``. The simulator
/// repeatedly takes the earliest event under the total order (time, phase, sequence):
/// deliveries precede threshold events at equal times, and equal threshold times are
/// taken by population and neuron index. A spike is delivered to all targets at once
/// (zero delay) or scheduled (delay > 0); only neurons that receive an input or have an
/// event of their own are ever touched. Results are bit-identical for a network and seed.
public final class Simulator {
  public let network: Network
  /// The current simulated time (ms): everything before it has happened.
  public private(set) var time: Double = 0
  /// Spikes of the recorded populations.
  public private(set) var spikes = SpikeRecord()
  /// Synaptic events delivered, per projection (``SynOpCounter`` accumulates); spikes per
  /// population are in ``spikeCounts``.
  public private(set) var counter: SynOpCounter
  /// Whether delivered synaptic events are counted into ``counter`` (default true; false
  /// only to measure what counting costs, `snn bench counting`).
  public var countsOperations = true
  public private(set) var spikeCounts: [Int]
  /// Membrane samples of the probed neurons.
  public private(set) var probe: StateProbeRecord

  enum Kind { case lif(Int), integrateAndFire(Int), poisson(Int), spikeTrains(Int) }

  struct Delivery { var projection: Int32; var source: Int32 }

  var kinds: [Kind] = []
  var lif: [LIFPopulation] = []
  var integrateAndFire: [IFPopulationState] = []
  var poisson: [PoissonPopulationState] = []
  var trains: [SpikeTrainPopulationState] = []
  var queue = HeapEventQueue<Double, Delivery>()
  let outgoing: [[Int]]
  /// Projections whose weights are all ≤ 0.
  let inhibitoryOnly: [Bool]
  var recorded: [Bool]
  let probeInterval: Double
  var nextProbe: Double
  var started = false

  /// Prepares a simulation. Monitors are off by default: `recordSpikes` keeps the spikes of
  /// every population (``setRecording(_:population:)`` selects populations);
  /// `probeNeurons` (global IDs) are sampled every `probeInterval` ms. Spike counts per
  /// population and synaptic-event counts per projection are always kept.
  public convenience init(
    network: Network, seed: UInt64? = nil, recordSpikes: Bool = false, probeNeurons: [Int] = [],
    probeInterval: Double = 0.1
  ) {
    self.init(
      network: network, seed: seed, recordSpikes: recordSpikes, probeNeurons: probeNeurons,
      probeInterval: probeInterval, refineFraction: 0.25, allowanceFactor: 1.5)
  }

  /// `refineFraction` tunes when a check solves for the exact crossing and
  /// `allowanceFactor` how much later excitation a check leaves room for, in mean positive
  /// weights (tests use them to show that spike times do not depend on either).
  init(
    network: Network, seed: UInt64?, recordSpikes: Bool, probeNeurons: [Int], probeInterval: Double,
    refineFraction: Double, allowanceFactor: Double = 1.5
  ) {
    self.network = network
    outgoing = network.outgoing
    inhibitoryOnly = network.projections.map { projection in
      switch projection.connectivity {
      case .sparse(let g): return g.weights.allSatisfy { $0 <= 0 }
      case .dense(let d): return d.weights.allSatisfy { $0 <= 0 }
      case .convolution(let c): return c.kernel.allSatisfy { $0 <= 0 }
      }
    }
    counter = SynOpCounter(layerNames: network.projections.map(\.name))
    // Allowance of each LIF population's checks: 1.5 mean positive weights arriving on its
    // exponential channels (see `LIFPopulation.allowance`).
    var positiveSum = [Double](repeating: 0, count: network.spec.populations.count)
    var positiveCount = [Int](repeating: 0, count: network.spec.populations.count)
    for projection in network.projections {
      guard case .lif(let p, _) = network.spec.populations[projection.target].model,
        case .exponential = p.channels[projection.channel]
      else { continue }
      let weights: [Float]
      switch projection.connectivity {
      case .sparse(let g): weights = g.weights
      case .dense(let d): weights = d.weights
      case .convolution(let c): weights = c.kernel
      }
      for w in weights where w > 0 {
        positiveSum[projection.target] += Double(w)
        positiveCount[projection.target] += 1
      }
    }
    spikeCounts = Array(repeating: 0, count: network.spec.populations.count)
    recorded = Array(repeating: recordSpikes, count: network.spec.populations.count)
    probe = StateProbeRecord(neurons: probeNeurons)
    self.probeInterval = probeInterval
    nextProbe = probeNeurons.isEmpty ? .infinity : 0
    let runSeed = seed ?? network.seed
    for (q, population) in network.spec.populations.enumerated() {
      switch population.model {
      case .lif(let p, _):
        kinds.append(.lif(lif.count))
        let population = LIFPopulation(
          parameters: p, initialPotentials: network.initialPotentials[q],
          refineFraction: refineFraction)
        if positiveCount[q] > 0 {
          population.allowance = allowanceFactor * positiveSum[q] / Double(positiveCount[q])
        }
        lif.append(population)
      case .integrateAndFire(let p, _):
        kinds.append(.integrateAndFire(integrateAndFire.count))
        integrateAndFire.append(IFPopulationState(parameters: p, initialPotentials: network.initialPotentials[q]))
      case .poisson(let rate):
        kinds.append(.poisson(poisson.count))
        // Simulation randomness uses streams far from the build streams of the seed.
        var rng = Xoshiro256StarStar(seed: runSeed)
        rng.longJump()
        for _ in 0..<q { rng.jump() }
        poisson.append(PoissonPopulationState(count: population.size, rateHz: rate, generator: rng))
      case .spikeTrains(let t):
        kinds.append(.spikeTrains(trains.count))
        trains.append(SpikeTrainPopulationState(trains: t))
      }
    }
  }

  /// Selects whether the spikes of population `index` are recorded.
  public func setRecording(_ on: Bool, population index: Int) { recorded[index] = on }

  /// Work counters: threshold checks that did not fire and exact crossing solves.
  public var thresholdChecks: Int { lif.reduce(0) { $0 + $1.checkEvents } }
  public var exactSolves: Int { lif.reduce(0) { $0 + $1.exactSolves } }
  public var earlierChecks: Int { lif.reduce(0) { $0 + $1.earlierChecks } }

  /// The membrane potential of a neuron (global ID) now; nil for sources.
  public func potential(of neuron: Int) -> Double? {
    guard let q = network.populationOffsets.lastIndex(where: { $0 <= neuron }), q < kinds.count else { return nil }
    let j = neuron - network.populationOffsets[q]
    switch kinds[q] {
    case .lif(let i): return lif[i].potential(j, at: time)
    case .integrateAndFire(let i): return integrateAndFire[i].potential(j, at: time)
    default: return nil
    }
  }

  func start() {
    started = true
    for population in lif { population.start() }
    for i in integrateAndFire.indices { integrateAndFire[i].start() }
    for i in poisson.indices { poisson[i].start(at: 0) }
    for i in trains.indices { trains[i].start() }
  }

  /// The earliest pending event of population `q`.
  @inline(__always)
  func populationMinimum(_ q: Int) -> (time: Double, item: Int)? {
    // (Mutating for LIF populations: stale schedule entries are dropped on the way.)
    switch kinds[q] {
    case .lif(let i): return lif[i].nextEvent()
    case .integrateAndFire(let i): return integrateAndFire[i].schedule.minimum
    case .poisson(let i): return poisson[i].schedule.minimum
    case .spikeTrains(let i): return trains[i].schedule.minimum
    }
  }

  /// Simulates until `end` (ms): every event with time ≤ `end` is processed.
  public func run(until end: Double) {
    precondition(end >= time, "cannot run backwards")
    if !started { start() }
    let populationCount = kinds.count
    while true {
      // The earliest population event (ties: lower population index first).
      var bestTime = Double.infinity, bestPopulation = -1, bestItem = 0
      for q in 0..<populationCount {
        if let m = populationMinimum(q), m.time < bestTime {
          bestTime = m.time
          bestPopulation = q
          bestItem = m.item
        }
      }
      // Deliveries at the same time come first (phase order).
      if let k = queue.minimumKey, k.time <= bestTime {
        if k.time > end { break }
        if k.time >= nextProbe { sampleProbes(upTo: k.time) }
        let (key, delivery) = queue.pop()!
        time = key.time
        deliver(projection: Int(delivery.projection), source: Int(delivery.source), at: key.time)
        continue
      }
      if bestPopulation < 0 || bestTime > end { break }
      if bestTime >= nextProbe { sampleProbes(upTo: bestTime) }
      time = bestTime
      handle(population: bestPopulation, neuron: bestItem, at: bestTime)
    }
    if end >= nextProbe { sampleProbes(upTo: end + probeInterval * 1e-9) }
    time = end
  }

  /// Processes a population's own event; a spike is recorded and sent on.
  @inline(__always)
  func handle(population q: Int, neuron j: Int, at t: Double) {
    let spiked: Bool
    switch kinds[q] {
    case .lif(let i):
      if j < 0 {
        // A bucket of threshold checks; a neuron fires here only when rounding put a check
        // exactly at its crossing.
        for n in lif[i].runChecks(at: t) { emit(population: q, neuron: Int(n), at: t) }
        return
      }
      spiked = lif[i].handleScheduledEvent(j, time: t)
    case .integrateAndFire(let i): spiked = integrateAndFire[i].handle(j, time: t)
    case .poisson(let i):
      poisson[i].handle(j, time: t)
      spiked = true
    case .spikeTrains(let i):
      trains[i].handle(j, time: t)
      spiked = true
    }
    guard spiked else { return }
    emit(population: q, neuron: j, at: t)
  }

  /// Records neuron `j`'s spike and sends it on.
  @inline(__always)
  func emit(population q: Int, neuron j: Int, at t: Double) {
    spikeCounts[q] += 1
    if recorded[q] { spikes.append(time: t, neuron: network.populationOffsets[q] + j) }
    for p in outgoing[q] {
      let delay = network.projections[p].delay
      if delay == 0 {
        deliver(projection: p, source: j, at: t)
      } else {
        queue.push(time: t + delay, phase: .deliver, Delivery(projection: Int32(p), source: Int32(j)))
      }
    }
  }

  /// Delivers source neuron `j`'s spike over projection `p` at time `t`.
  func deliver(projection p: Int, source j: Int, at t: Double) {
    @inline(__always) func count(_ n: Int, layer p: Int) {
      if countsOperations { counter.addAccumulates(n, layer: p) }
    }
    let projection = network.projections[p]
    let channel = projection.channel
    switch kinds[projection.target] {
    case .lif(let i):
      let population = lif[i]
      let inhibitory = inhibitoryOnly[p]
      let d = population.beginDelivery(at: t, channel: channel)
      switch projection.connectivity {
      case .sparse(let g):
        let start = g.rowStart[j], n = g.rowStart[j + 1] - start
        count(n, layer: p)
        g.targets.withUnsafeBufferPointer { targets in
          g.weights.withUnsafeBufferPointer { weights in
            population.receive(
              d, targets: targets.baseAddress! + start, weights: weights.baseAddress! + start, count: n,
              inhibitoryOnly: inhibitory)
          }
        }
      case .dense(let dense):
        count(dense.targetCount, layer: p)
        dense.weights.withUnsafeBufferPointer { weights in
          population.receive(
            d, first: 0, weights: weights.baseAddress! + dense.rowOffset(j), count: dense.targetCount,
            inhibitoryOnly: inhibitory)
        }
      case .convolution(let conv):
        conv.kernel.withUnsafeBufferPointer { kernel in
          conv.forEachRun(of: j) { first, offset, n in
            count(n, layer: p)
            population.receive(d, first: first, weights: kernel.baseAddress! + offset, count: n, inhibitoryOnly: inhibitory)
          }
        }
      }
    case .integrateAndFire(let i):
      switch projection.connectivity {
      case .sparse(let g):
        let start = g.rowStart[j], n = g.rowStart[j + 1] - start
        count(n, layer: p)
        integrateAndFire[i].receive(count: n, time: t, target: { Int(g.targets[start + $0]) }, weight: { g.weights[start + $0] })
      case .dense(let dense):
        count(dense.targetCount, layer: p)
        let row = dense.rowOffset(j)
        integrateAndFire[i].receive(count: dense.targetCount, time: t, target: { $0 }, weight: { dense.weights[row + $0] })
      case .convolution(let conv):
        conv.forEachRun(of: j) { first, offset, n in
          count(n, layer: p)
          integrateAndFire[i].receive(count: n, time: t, target: { first + $0 }, weight: { conv.kernel[offset + $0] })
        }
      }
    case .poisson, .spikeTrains:
      preconditionFailure("spike sources take no input (validated when the network is built)")
    }
  }

  /// Records the probed potentials at every sample time up to `limit` (exclusive).
  func sampleProbes(upTo limit: Double) {
    while nextProbe < limit {
      let saved = time
      time = nextProbe
      probe.times.append(nextProbe)
      probe.values.append(probe.neurons.map { potential(of: $0) ?? .nan })
      time = saved
      nextProbe += probeInterval
    }
  }
}
