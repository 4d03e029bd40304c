import SNNBase

/// A time-stepped reference simulator for networks of ``LIF`` neurons and spike-train
/// sources: every neuron is updated at every step of width `dt`.
///
/// Between steps the state is propagated exactly (exponential integration of the linear
/// dynamics); thresholds are tested at the end of each step, so a spike is reported at the
/// end of the step in which it happened (an error of at most `dt`) and its inputs arrive
/// then. This is what clock-driven simulators do; swift-snn uses it to validate the exact
/// event-driven ``Simulator`` (their spike times agree to within the step) and to show
/// how the two scale: clock-driven cost grows with neurons × steps, event-driven cost with
/// events.
public struct ClockDrivenSimulator {
  public let network: Network
  public let dt: Double
  public private(set) var spikes = SpikeRecord()
  public private(set) var time: Double = 0

  struct Population {
    var parameters: LIF.Parameters?
    var v: [Double]
    var g: [SIMD4<Double>]
    var refractoryUntil: [Double]
    var trains: [[Double]]
    var nextSpike: [Int]
  }

  var populations: [Population] = []
  let outgoing: [[Int]]

  /// A reference simulation of `network` (LIF populations and spike-train sources only).
  public init(network: Network, dt: Double) {
    precondition(dt > 0, "dt must be positive")
    self.network = network
    self.dt = dt
    outgoing = network.outgoing
    precondition(network.projections.allSatisfy { $0.delay == 0 }, "the clock-driven reference supports zero delays only")
    for (q, population) in network.spec.populations.enumerated() {
      switch population.model {
      case .lif(let p, _):
        populations.append(
          Population(
            parameters: p, v: network.initialPotentials[q], g: Array(repeating: .zero, count: population.size),
            refractoryUntil: Array(repeating: -.infinity, count: population.size), trains: [], nextSpike: []))
      case .spikeTrains(let trains):
        populations.append(
          Population(parameters: nil, v: [], g: [], refractoryUntil: [], trains: trains, nextSpike: Array(repeating: 0, count: trains.count)))
      default:
        preconditionFailure("the clock-driven reference supports LIF neurons and spike-train sources only")
      }
    }
  }

  /// Runs whole steps until `end` (ms).
  public mutating func run(until end: Double) {
    let stepCount = Int(((end - time) / dt).rounded(.toNearestOrEven))
    for _ in 0..<stepCount { step() }
  }

  /// One step: propagate every neuron over dt, then fire and deliver.
  mutating func step() {
    let t1 = time + dt
    var fired: [(population: Int, neuron: Int)] = []
    for q in populations.indices {
      if let p = populations[q].parameters {
        let props = LIF.Propagators(p)
        let em = Math.portableExp(-dt * props.rateMem)
        let ec = Math.portableExp(-dt * props.channelRates)
        for j in 0..<populations[q].v.count {
          let g0 = populations[q].g[j]
          let g1 = g0 * ec
          if t1 <= populations[q].refractoryUntil[j] {
            populations[q].g[j] = g1
            continue
          }
          // A refractory period that ends inside the step: integrate from its end.
          var span = dt, gStart = g0
          if populations[q].refractoryUntil[j] > time {
            span = t1 - populations[q].refractoryUntil[j]
            gStart = g0 * Math.portableExp(-(populations[q].refractoryUntil[j] - time) * props.channelRates)
          }
          let emSpan = span == dt ? em : Math.portableExp(-span * props.rateMem)
          let ecSpan = span == dt ? ec : Math.portableExp(-span * props.channelRates)
          let v0 = populations[q].v[j]
          let synaptic = (props.channelGains * gStart * (ecSpan - SIMD4(repeating: emSpan)) * props.exponentialMask).sum()
          populations[q].v[j] = props.vInfinity + (v0 - props.vInfinity) * emSpan + synaptic
          populations[q].g[j] = g1
          if populations[q].v[j] >= p.vThreshold { fired.append((q, j)) }
        }
      } else {
        for j in 0..<populations[q].trains.count {
          while populations[q].nextSpike[j] < populations[q].trains[j].count
            && populations[q].trains[j][populations[q].nextSpike[j]] <= t1
          {
            populations[q].nextSpike[j] += 1
            fired.append((q, j))
          }
        }
      }
    }
    time = t1
    for (q, j) in fired {
      if let p = populations[q].parameters {
        populations[q].v[j] = p.vReset
        populations[q].refractoryUntil[j] = t1 + p.tauRefractory
      }
      spikes.append(time: t1, neuron: network.populationOffsets[q] + j)
    }
    for (q, j) in fired {
      for pIndex in outgoing[q] {
        let projection = network.projections[pIndex]
        let target = projection.target
        guard let tp = populations[target].parameters else { continue }
        let delta = LIF.Propagators(tp).isDelta[projection.channel]
        func add(_ k: Int, _ w: Float) {
          if delta {
            if t1 >= populations[target].refractoryUntil[k] { populations[target].v[k] += Double(w) }
          } else {
            populations[target].g[k][projection.channel] += Double(w)
          }
        }
        switch projection.connectivity {
        case .sparse(let g):
          for s in g.row(j) { add(Int(g.targets[s]), g.weights[s]) }
        case .dense(let d):
          for k in 0..<d.targetCount { add(k, d.weights[d.rowOffset(j) + k]) }
        case .convolution(let c):
          c.forEachRun(of: j) { first, offset, n in
            for i in 0..<n { add(first + i, c.kernel[offset + i]) }
          }
        }
      }
    }
  }
}
