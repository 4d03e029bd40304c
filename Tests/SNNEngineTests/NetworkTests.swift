import Testing

@testable import SNNBase
@testable import SNNEngine

@Suite struct NetworkTests {
  /// A small recurrent network driven by constant currents of different strengths.
  static func smallRandomNetwork(size: Int = 40) -> NetworkSpec {
    var spec = NetworkSpec()
    let p = LIF.Parameters(
      tauMem: 20, vRest: -60, vReset: -65, vThreshold: -50, tauRefractory: 2, iOffset: 12,
      channels: [.exponential(tau: 5), .exponential(tau: 10)])
    spec.populations = [
      PopulationSpec(name: "e", size: size, model: .lif(p, initialPotential: .uniform(-65, -50))),
      PopulationSpec(name: "i", size: size / 4, model: .lif(p, initialPotential: .uniform(-65, -50))),
    ]
    for (s, t) in [("e", "e"), ("e", "i"), ("i", "e"), ("i", "i")] {
      spec.projections.append(
        ProjectionSpec(
          source: s, target: t, rule: .fixedProbability(0.2, allowAutapses: false),
          weight: s == "e" ? .uniform(0.5, 2) : .uniform(-4, -1), channel: s == "e" ? 0 : 1))
    }
    return spec
  }

  /// The largest spike-time difference between the exact simulation and a clock-driven
  /// one with step `dt` (same spike counts required).
  func largestDifference(_ network: Network, exact: Simulator, dt: Double, until end: Double) -> Double {
    var reference = ClockDrivenSimulator(network: network, dt: dt)
    reference.run(until: end)
    let a = exact.spikes.trains(for: 0..<network.neuronCount)
    let b = reference.spikes.trains(for: 0..<network.neuronCount)
    var worst = 0.0
    for n in a.indices {
      #expect(a[n].count == b[n].count, "neuron \(n) at dt = \(dt)")
      guard a[n].count == b[n].count else { return .infinity }
      for k in a[n].indices { worst = max(worst, abs(a[n][k] - b[n][k])) }
    }
    return worst
  }

  @Test func exactAndFineGridClockDrivenAgree() throws {
    let network = try Self.smallRandomNetwork().build(seed: 3)
    let exact = Simulator(network: network, recordSpikes: true)
    exact.run(until: 60)
    #expect(exact.spikes.count > 50)
    // The reference reports each spike at the end of its step and delivers it then, so its
    // times trail the exact ones by less than a step, plus the lag its late inputs pass on
    // through the recurrent connections. Both shrink in proportion to the step: the
    // difference is a few steps and falls about fourfold when the step does.
    let coarse = largestDifference(network, exact: exact, dt: 0.001, until: 60)
    let fine = largestDifference(network, exact: exact, dt: 0.00025, until: 60)
    #expect(coarse <= 5 * 0.001, "\(coarse) ms at dt = 0.001 ms")
    #expect(fine <= 5 * 0.00025, "\(fine) ms at dt = 0.00025 ms")
    #expect(coarse / fine > 2.5, "first-order convergence: \(coarse) → \(fine)")
  }

  @Test func cubaFiresAtItsKnownRateAndIsReproducible() throws {
    let network = try CUBA.spec(neurons: 4000).build(seed: 1)
    #expect(network.neuronCount == 4000)
    // p = 0.02 of 4000² pairs.
    #expect(abs(Double(network.synapseCount) - 320_000) < 5 * (320_000.0).squareRoot())
    let a = Simulator(network: network, recordSpikes: true)
    a.run(until: 1000)
    let rate = Double(a.spikes.count) / 4000
    // Brian2 gives 5.5–5.9 Hz for this model; within 10% of 5.7 Hz.
    #expect(abs(rate - 5.7) < 0.57, "rate \(rate) Hz")
    // Bit-identical rerun, including a run split in pieces.
    let b = Simulator(network: try CUBA.spec(neurons: 4000).build(seed: 1), recordSpikes: true)
    b.run(until: 250)
    b.run(until: 1000)
    #expect(a.spikes == b.spikes)
    // Golden checksum of the spike train for seed 1 (times and IDs, bit for bit).
    #expect(a.spikes.checksum == Self.cubaGoldenChecksum, "checksum \(String(a.spikes.checksum, radix: 16))")
    // Another seed gives another network and another train.
    let c = Simulator(network: try CUBA.spec(neurons: 4000).build(seed: 2), recordSpikes: true)
    c.run(until: 200)
    #expect(c.spikes.times.prefix(100) != a.spikes.times.prefix(100))
  }

  @Test func spikeTimesDoNotDependOnHowChecksAreScheduled() throws {
    // Exact crossings are solved from each trajectory's last input, so solving earlier or
    // later (more or fewer checks, with more or less room left for later excitation) must
    // give the same spike times, bit for bit.
    let network = try CUBA.spec(neurons: 2000).build(seed: 5)
    var trains: [SpikeRecord] = []
    var solves: [Int] = []
    var checks: [Int] = []
    for (fraction, allowance) in [(0.05, 1.5), (0.25, 1.5), (1.0, 1.5), (0.25, 0.0), (0.25, 4.0)] {
      let sim = Simulator(
        network: network, seed: nil, recordSpikes: true, probeNeurons: [], probeInterval: 1,
        refineFraction: fraction, allowanceFactor: allowance)
      sim.run(until: 500)
      trains.append(sim.spikes)
      solves.append(sim.exactSolves)
      checks.append(sim.thresholdChecks + sim.earlierChecks)
    }
    #expect(trains.allSatisfy { $0 == trains[0] })
    #expect(trains[0].count > 1000)
    #expect(Set(solves.prefix(3)).count == 3, "the settings scheduled differently: \(solves)")
    #expect(Set(checks).count == 5, "the settings really scheduled differently: \(checks)")
  }

  /// Recorded from this implementation (swift-snn, portable exp/log, seed 1, 1 s).
  static let cubaGoldenChecksum: UInt64 = 16_886_267_987_015_981_355

  @Test func validationNamesTheOffendingField() {
    func field(_ spec: NetworkSpec) -> String? {
      do {
        try spec.validate()
        return nil
      } catch {
        switch error {
        case .invalid(let f, _, _), .missing(let f, _), .unknown(let f, _, _): return f
        }
      }
    }
    var spec = Self.smallRandomNetwork()
    #expect(field(spec) == nil)
    spec.populations[1].size = 0
    #expect(field(spec) == "populations[1].size")
    spec = Self.smallRandomNetwork()
    spec.projections[2].target = "nowhere"
    #expect(field(spec) == "projections[2].target")
    spec = Self.smallRandomNetwork()
    spec.projections[0].channel = 2
    #expect(field(spec) == "projections[0].channel")
    spec = Self.smallRandomNetwork()
    spec.projections[1].delay = -1
    #expect(field(spec) == "projections[1].delay")
    spec = Self.smallRandomNetwork()
    spec.projections[3].rule = .fixedProbability(1.5, allowAutapses: true)
    #expect(field(spec) == "projections[3].rule.probability")
    spec = Self.smallRandomNetwork()
    spec.populations[1].name = "e"
    #expect(field(spec) == "populations[1].name")
    spec = Self.smallRandomNetwork()
    if case .lif(var p, let v0) = spec.populations[0].model {
      p.tauMem = -20
      spec.populations[0].model = .lif(p, initialPotential: v0)
    }
    #expect(field(spec) == "populations[0].parameters.tauMem")
  }

  @Test func delaysShiftDeliveries() throws {
    let p = LIF.Parameters(tauMem: 10, vRest: 0, vReset: 0, vThreshold: 1, tauRefractory: 0, channels: [.delta])
    var spec = NetworkSpec()
    spec.populations = [
      PopulationSpec(name: "in", size: 1, model: .spikeTrains([[1, 4]])),
      PopulationSpec(name: "n", size: 2, model: .lif(p, initialPotential: .constant(0))),
    ]
    spec.projections = [ProjectionSpec(source: "in", target: "n", rule: .allToAll, weight: .constant(1.5), delay: 2.5, channel: 0)]
    let sim = Simulator(network: try spec.build(seed: 1), recordSpikes: true)
    sim.run(until: 20)
    let trains = sim.spikes.trains(for: 1..<3)
    #expect(trains[0] == [3.5, 6.5] && trains[1] == [3.5, 6.5])
    #expect(sim.counter.totalAccumulates == 4)
  }

  @Test func poissonSourcesFireAtTheirRate() throws {
    let spec = NetworkSpec(populations: [PopulationSpec(name: "p", size: 200, model: .poisson(rateHz: 20))])
    let sim = Simulator(network: try spec.build(seed: 4), recordSpikes: true)
    sim.run(until: 5000)
    // 200 × 20 Hz × 5 s = 20,000 expected; Poisson sd ≈ 141.
    #expect(abs(Double(sim.spikes.count) - 20_000) < 5 * 141.5)
    // Inter-spike intervals of one source are exponential: CV ≈ 1.
    let isi = sim.spikes.trains(for: 0..<200).flatMap { train in zip(train.dropFirst(), train).map { $0 - $1 } }
    let mean = isi.reduce(0, +) / Double(isi.count)
    let sd = (isi.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(isi.count)).squareRoot()
    #expect(abs(sd / mean - 1) < 0.05)
  }

  @Test func integrateAndFireWithDriveAndInputs() throws {
    let p = IF.Parameters(vThreshold: 1, vReset: 0, drive: 0.1, tauRefractory: 0)
    var spec = NetworkSpec()
    spec.populations = [
      PopulationSpec(name: "in", size: 1, model: .spikeTrains([[3]])),
      PopulationSpec(name: "n", size: 1, model: .integrateAndFire(p, initialPotential: .constant(0))),
    ]
    spec.projections = [ProjectionSpec(source: "in", target: "n", rule: .allToAll, weight: .constant(0.5), channel: 0)]
    let sim = Simulator(network: try spec.build(seed: 1), recordSpikes: true)
    sim.run(until: 25)
    // 0.3 at 3 ms, +0.5 → 0.8; reaches 1 at 5 ms; then every 10 ms.
    let train = sim.spikes.trains(for: 1..<2)[0]
    #expect(train.count == 3)
    for (t, e) in zip(train, [5.0, 15.0, 25.0]) { #expect(abs(t - e) < 1e-12) }
  }
}

