import Testing

@testable import SNNBase
@testable import SNNDatasets
@testable import SNNEngine
@testable import SNNTraining

#if canImport(Glibc)
  import Glibc
#endif

/// Real N-MNIST recordings fed into the event engine, continuous and grid mode.
enum NMNISTSubset {
  static var root: String? {
    guard let p = getenv("SNN_DATA") else { return nil }
    let root = String(cString: p)
    return FileIO.isDirectory(root + "/nmnist-small") ? root : nil
  }
}

@Suite(.enabled(if: NMNISTSubset.root != nil, "needs SNN_DATA with nmnist-small/"))
struct EventStreamTests {
  func sample() throws -> EventSample {
    try NMNIST.readSample(path: NMNISTSubset.root! + "/nmnist-small/Train/0/00002.bin", label: 0)
  }

  @Test func continuousModeDeliversEveryEventAtItsMicrosecond() throws {
    let s = try sample()
    let trains = EventStreams.spikeTrains(s)
    #expect(trains.count == 34 * 34 * 2)
    #expect(trains.reduce(0) { $0 + $1.count } == s.count)
    // A 2×34×34 input through a 5×5 convolution (stride 2) to 8 LIF channels.
    let lif = LIF.Parameters(tauMem: 20, vRest: 0, vReset: 0, vThreshold: 1, tauRefractory: 1, channels: [.exponential(tau: 5)])
    var spec = NetworkSpec()
    spec.populations = [
      PopulationSpec(name: "retina", size: trains.count, model: .spikeTrains(trains)),
      PopulationSpec(name: "conv", size: 15 * 15 * 8, model: .lif(lif, initialPotential: .constant(0))),
    ]
    spec.projections = [
      ProjectionSpec(
        source: "retina", target: "conv",
        rule: .convolution(height: 34, width: 34, inChannels: 2, outChannels: 8, kernel: 5, stride: 2, padding: 0),
        weight: .uniform(0, 0.3))
    ]
    let network = try spec.build(seed: 1)
    let sim = Simulator(network: network, recordSpikes: true)
    sim.run(until: Double(s.duration) / 1000 + 1)
    #expect(sim.spikeCounts[0] == s.count)
    guard case .convolution(let conv) = network.projections[0].connectivity else { return }
    // Each source spike reaches its exact fan-out (border pixels fewer).
    var expected = 0
    for (n, train) in trains.enumerated() { expected += train.count * conv.fanOut(n) }
    #expect(sim.counter.totalAccumulates == UInt64(expected))
    // The recorded retina spikes are the events, time-ordered, to the microsecond.
    let first = Double(s.timestamp[0])
    let times = sim.spikes.trains(for: 0..<trains.count).flatMap { $0 }.sorted()
    #expect(times == s.timestamp.map { (Double($0) - first) / 1000 }.sorted())
    #expect(sim.spikeCounts[1] > 0)
  }

  @Test func gridModeMatchesTheFramedTensor() throws {
    let s = try sample()
    let framing = EventFraming(frameCount: 10, split: .equalCount, value: .count, polarityChannels: true, downsample: 1)
    let steps = EventStreams.spikeSteps(s, framing: framing)
    let frames = framing.frames(s)  // [T, C, H, W]
    // Per step and neuron, the number of spikes equals the frame's count value.
    var fromSteps = [Float](repeating: 0, count: frames.count)
    for (n, train) in steps.enumerated() {
      let c = n % 2, pixel = n / 2
      let y = pixel / 34, x = pixel % 34
      for t in train { fromSteps[((t * 2 + c) * 34 + y) * 34 + x] += 1 }
    }
    #expect(fromSteps == frames)
    // And a grid network replays them: every event becomes one source spike.
    let net = GridNetwork(populations: [.spikeSteps(name: "retina", trains: steps)], projections: [])
    let sim = try GridSimulator(network: net)
    sim.run(until: 10)
    #expect(sim.spikeCounts[0] == s.count)
  }
}
