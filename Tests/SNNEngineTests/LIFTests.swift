import Testing

@testable import SNNBase
@testable import SNNEngine

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Analytic solutions of single neurons.
@Suite struct LIFTests {
  func singleNeuron(_ p: LIF.Parameters, v0: Double) throws -> Simulator {
    let spec = NetworkSpec(populations: [PopulationSpec(name: "n", size: 1, model: .lif(p, initialPotential: .constant(v0)))])
    return Simulator(network: try spec.build(seed: 1), recordSpikes: true)
  }

  @Test func constantCurrentMatchesClosedFormSpikeTimes() throws {
    // V relaxes to V∞ = −70 + 25 = −45 > V_th = −50; from V_r the crossing takes
    // τ_m·ln((V∞ − V_r)/(V∞ − V_th)), then 2 ms refractory.
    let p = LIF.Parameters(
      tauMem: 10, vRest: -70, vReset: -65, vThreshold: -50, tauRefractory: 2, iOffset: 25, channels: [])
    let sim = try singleNeuron(p, v0: -65)
    sim.run(until: 1000)
    let period = 2 + 10 * log((-45.0 + 65) / (-45.0 + 50))
    let first = 10 * log((-45.0 + 65) / (-45.0 + 50))
    #expect(sim.spikes.count == Int(((1000 - first) / period).rounded(.down)) + 1)
    var worst = 0.0
    for (k, t) in sim.spikes.times.enumerated() {
      worst = max(worst, abs(t - (first + Double(k) * period)))
    }
    #expect(worst < 1e-9, "largest deviation \(worst) ms")
  }

  @Test func noRefractoryAndSubthresholdDrive() throws {
    // Without refractoriness the interval is the crossing time alone.
    let p = LIF.Parameters(tauMem: 20, vRest: 0, vReset: 0, vThreshold: 1, tauRefractory: 0, iOffset: 1.5, channels: [])
    let sim = try singleNeuron(p, v0: 0)
    sim.run(until: 500)
    let period = 20 * log(1.5 / 0.5)
    for (k, t) in sim.spikes.times.enumerated() { #expect(abs(t - Double(k + 1) * period) < 1e-9) }
    // V∞ below threshold: never fires.
    let quiet = try singleNeuron(LIF.Parameters(tauMem: 20, vRest: 0, vReset: 0, vThreshold: 1, tauRefractory: 0, iOffset: 0.999, channels: []), v0: 0)
    quiet.run(until: 10_000)
    #expect(quiet.spikes.count == 0)
  }

  @Test func exponentialSynapseTrajectoryMatchesClosedForm() throws {
    // One input of weight w at t = 5 ms on a channel with τ_s = 4 ms into a neuron at rest:
    // V(t) = V_rest + w·τ_s/(τ_s − τ_m)·(e^{−(t−5)/τ_s} − e^{−(t−5)/τ_m}).
    let p = LIF.Parameters(tauMem: 10, vRest: -70, vReset: -70, vThreshold: 0, tauRefractory: 0, channels: [.exponential(tau: 4)])
    var spec = NetworkSpec()
    spec.populations = [
      PopulationSpec(name: "in", size: 1, model: .spikeTrains([[5]])),
      PopulationSpec(name: "n", size: 1, model: .lif(p, initialPotential: .constant(-70))),
    ]
    spec.projections = [ProjectionSpec(source: "in", target: "n", rule: .allToAll, weight: .constant(3), channel: 0)]
    let sim = Simulator(network: try spec.build(seed: 1), recordSpikes: true, probeNeurons: [1], probeInterval: 0.25)
    sim.run(until: 60)
    var worst = 0.0
    for (k, t) in sim.probe.times.enumerated() {
      let expected = t <= 5 ? -70 : -70 + 3 * 4 / (4 - 10) * (exp(-(t - 5) / 4) - exp(-(t - 5) / 10))
      worst = max(worst, abs(sim.probe.values[k][0] - expected))
    }
    #expect(worst < 1e-12, "largest deviation \(worst) mV")
    #expect(sim.counter.totalAccumulates == 1)
  }

  @Test func deltaSynapseFiresAtTheInputTime() throws {
    // A delta input that lifts V over threshold makes the neuron fire at that instant.
    let p = LIF.Parameters(tauMem: 10, vRest: 0, vReset: 0, vThreshold: 1, tauRefractory: 1, channels: [.delta])
    var spec = NetworkSpec()
    spec.populations = [
      PopulationSpec(name: "in", size: 1, model: .spikeTrains([[2, 2.5, 30]])),
      PopulationSpec(name: "n", size: 1, model: .lif(p, initialPotential: .constant(0))),
    ]
    spec.projections = [ProjectionSpec(source: "in", target: "n", rule: .allToAll, weight: .constant(0.6), channel: 0)]
    let sim = Simulator(network: try spec.build(seed: 1), recordSpikes: true)
    sim.run(until: 50)
    // 0.6 at 2 ms decays to 0.6·e^{−0.05} = 0.5707 by 2.5 ms; + 0.6 ≥ 1: fires at 2.5.
    let lif = sim.spikes.trains(for: 1..<2)[0]
    #expect(lif == [2.5])
  }

  @Test func thresholdCrossingFindsTheFirstRootOfRandomTrajectories() {
    var rng = Xoshiro256StarStar(seed: 99)
    var checked = 0
    let step = 0.01
    for _ in 0..<2000 {
      let f = ThresholdCrossing(
        constant: rng.nextUniform(-3, 1), membrane: rng.nextUniform(-10, 5), rateMem: 1 / rng.nextUniform(5, 30),
        channels: SIMD4(rng.nextUniform(-6, 6), rng.nextUniform(-6, 6), 0, 0),
        channelRates: SIMD4(1 / rng.nextUniform(1, 8), 1 / rng.nextUniform(2, 12), 0, 0))
      guard f.value(0) < 0 else { continue }
      // Brute force on a fine grid: the first sample at or above zero.
      var firstSample: Double? = nil
      var t = 0.0
      while t < 150 {
        if f.value(t) >= 0 {
          firstSample = t
          break
        }
        t += step
      }
      switch f.firstCrossing(from: 0) {
      case .crossing(let root):
        // The root is a zero, and no sample before it is at or above zero.
        #expect(abs(f.value(root)) < 1e-9)
        if let s = firstSample {
          #expect(root <= s + 1e-9 && root > s - step - 1e-9)
        } else {
          #expect(root >= 150 - step)
        }
        checked += 1
      case .never, .noneBefore:
        #expect(firstSample == nil)
      }
    }
    #expect(checked > 300)
  }

  @Test func invalidParametersNameTheField() {
    func field(_ p: LIF.Parameters) -> String? {
      do {
        try p.validate(prefix: "p.")
        return nil
      } catch {
        switch error {
        case .invalid(let f, _, _), .missing(let f, _), .unknown(let f, _, _): return f
        }
      }
    }
    #expect(field(LIF.Parameters()) == nil)
    #expect(field(LIF.Parameters(tauMem: -1)) == "p.tauMem")
    #expect(field(LIF.Parameters(tauMem: 0)) == "p.tauMem")
    #expect(field(LIF.Parameters(vReset: -40, vThreshold: -50)) == "p.vReset")
    #expect(field(LIF.Parameters(tauRefractory: -1)) == "p.tauRefractory")
    #expect(field(LIF.Parameters(tauMem: 5, channels: [.exponential(tau: 5)])) == "p.channels[0].tau")
    #expect(field(LIF.Parameters(channels: [.delta, .exponential(tau: -2)])) == "p.channels[1].tau")
  }
}
