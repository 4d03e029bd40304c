import Testing

@testable import SNNBase
@testable import SNNEngine

@Suite struct GridTests {
  @Test func stepsToThresholdMatchesIteration() {
    var rng = Xoshiro256StarStar(seed: 3)
    for _ in 0..<2000 {
      let leak = rng.nextUnitDouble() < 0.2 ? 1 : rng.nextUniform(0.05, 0.999)
      let drive = rng.nextUniform(-0.2, 0.6)
      let v = rng.nextUniform(-2, 0.99)
      var x = v, k = 0, found: Int? = nil
      while k < 5000 {
        k += 1
        x = leak * x + drive
        if x >= 1 {
          found = k
          break
        }
      }
      let predicted = GridLIF.stepsToThreshold(from: v, leak: leak, drive: drive, threshold: 1)
      if let found, found < 5000 { #expect(predicted == found, "λ \(leak) I \(drive) v \(v)") }
      if found == nil, let predicted { #expect(predicted >= 5000) }
    }
  }

  /// The same network stepped densely: every neuron, every step.
  func denseReference(_ net: GridNetwork, steps: Int) -> [[Int]] {
    let offsets = net.populationOffsets
    var v: [[Double]] = net.populations.map {
      if case .lif(_, _, _, let v0) = $0 { return v0 }
      return []
    }
    var refractory = net.populations.map { Array(repeating: -1, count: $0.size) }
    var spikes = Array(repeating: [Int](), count: offsets.last!)
    var pending: [Int: [(Int, Int)]] = [:]  // step → (projection, source neuron) to deliver
    for t in 0..<steps {
      var input = net.populations.map { Array(repeating: 0.0, count: $0.size) }
      func deliver(_ q: Int, _ j: Int) {
        for p in net.projections where p.source == q && (p.delay == 0) {
          add(p, j, &input)
        }
      }
      for (p, j) in pending[t] ?? [] { add(net.projections[p], j, &input) }
      for (q, population) in net.populations.enumerated() {
        var fired: [Int] = []
        switch population {
        case .lif(_, let p, let drive, _):
          for i in 0..<population.size {
            if t <= refractory[q][i] {
              v[q][i] = p.vReset
              continue
            }
            var x = p.leak * v[q][i] + drive[i] + input[q][i]
            if x >= p.vThreshold {
              fired.append(i)
              x = p.reset == .hard ? p.vReset : x - (p.vThreshold - p.vReset)
              if p.refractorySteps > 0 { refractory[q][i] = t + p.refractorySteps }
            }
            v[q][i] = x
          }
        case .spikeSteps(_, let trains):
          for i in trains.indices where trains[i].contains(t) { fired.append(i) }
        }
        for i in fired {
          spikes[offsets[q] + i].append(t)
          deliver(q, i)
          for (k, p) in net.projections.enumerated() where p.source == q && p.delay > 0 {
            pending[t + p.delay, default: []].append((k, i))
          }
        }
      }
    }
    return spikes
  }

  func add(_ p: GridNetwork.Projection, _ j: Int, _ input: inout [[Double]]) {
    switch p.connectivity {
    case .sparse(let g): for s in g.row(j) { input[p.target][Int(g.targets[s])] += Double(g.weights[s]) }
    case .dense(let d): for i in 0..<d.targetCount { input[p.target][i] += Double(d.weights[d.rowOffset(j) + i]) }
    case .convolution(let c): c.forEachRun(of: j) { first, off, n in for i in 0..<n { input[p.target][first + i] += Double(c.kernel[off + i]) } }
    }
  }

  @Test(arguments: [1, 2, 3, 4])
  func eventDrivenGridMatchesDenseStepping(seed: UInt64) throws {
    var rng = Xoshiro256StarStar(seed: seed)
    let steps = 40
    // Input spikes on a 6×6×2 image → conv 3×3 (pad 1) to 6×6×3 LIF → dense to 10 LIF
    // (with a 2-step delay) → sparse back to the conv layer (3-step delay, recurrent).
    let input = GridNetwork.Population.spikeSteps(
      name: "in", trains: (0..<72).map { _ in (0..<steps).filter { _ in rng.nextUnitDouble() < 0.15 } })
    let lifA = GridLIF.Parameters(leak: 0.8, vThreshold: 1, vReset: 0, reset: .hard, refractorySteps: 1)
    let lifB = GridLIF.Parameters(leak: 0.5, vThreshold: 1, vReset: 0, reset: .subtract)
    let conv = GridNetwork.Population.lif(
      name: "conv", parameters: lifA, drive: (0..<108).map { _ in rng.nextUniform(-0.05, 0.15) },
      initialPotential: (0..<108).map { _ in rng.nextUniform(0, 0.5) })
    let fc = GridNetwork.Population.lif(
      name: "fc", parameters: lifB, drive: (0..<10).map { _ in rng.nextUniform(0, 0.3) }, initialPotential: Array(repeating: 0, count: 10))
    let kernel = (0..<(3 * 3 * 2 * 3)).map { _ in Float(rng.nextUniform(-0.3, 0.7)) }
    var back = SynapseGraph.Builder(sourceCount: 10, targetCount: 108)
    for s in 0..<10 { for t in 0..<108 where rng.nextUnitDouble() < 0.1 { back.append(source: s, target: t, weight: Float(rng.nextUniform(-0.5, 0.5))) } }
    let net = GridNetwork(
      populations: [input, conv, fc],
      projections: [
        .init(name: "in->conv", source: 0, target: 1, connectivity: .convolution(ConvConnectivity(inChannels: 2, height: 6, width: 6, outChannels: 3, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1, kernel: kernel))),
        .init(name: "conv->fc", source: 1, target: 2, connectivity: .dense(DenseConnectivity(sourceCount: 108, targetCount: 10, weights: (0..<1080).map { _ in Float(rng.nextUniform(-0.2, 0.4)) })), delay: 2),
        .init(name: "fc->conv", source: 2, target: 1, connectivity: .sparse(back.finalize()), delay: 3),
      ])
    let sim = try GridSimulator(network: net)
    sim.run(until: steps)
    let reference = denseReference(net, steps: steps)
    var eventTrains: [[Int]] = []
    for q in 0..<3 { eventTrains += sim.trains(population: q) }
    let mismatches = eventTrains.indices.filter { eventTrains[$0] != reference[$0] }
    #expect(mismatches.isEmpty, "neurons whose trains differ: \(mismatches)")
    #expect(sim.spikeCounts[1] > 20 && sim.spikeCounts[2] > 5)
  }

  @Test func zeroDelayBackwardProjectionIsRejected() {
    let lif = GridNetwork.Population.lif(name: "a", parameters: GridLIF.Parameters(), drive: [0], initialPotential: [0])
    let net = GridNetwork(
      populations: [lif, .lif(name: "b", parameters: GridLIF.Parameters(), drive: [0], initialPotential: [0])],
      projections: [.init(name: "b->a", source: 1, target: 0, connectivity: .dense(DenseConnectivity(sourceCount: 1, targetCount: 1, weights: [1])))])
    #expect(throws: ConfigurationError.self) { try GridSimulator(network: net) }
  }
}
