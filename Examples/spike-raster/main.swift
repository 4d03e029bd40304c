// Builds a small network in code, simulates it event by event and prints a spike raster.
//
//   swift run -c release spike-raster
//
// Ten Poisson sources drive 40 LIF neurons with exponential synaptic currents through
// random excitatory synapses on top of a constant drive; the neurons inhibit each other. Each row of the raster is a
// neuron, each column 5 ms; a '|' marks a spike.

import SNN

let neuron = LIF.Parameters(
  tauMem: 20, vRest: -65, vReset: -70, vThreshold: -50, tauRefractory: 2, iOffset: 9,
  channels: [.exponential(tau: 5), .exponential(tau: 10)])

var spec = NetworkSpec()
spec.populations = [
  PopulationSpec(name: "input", size: 10, model: .poisson(rateHz: 40)),
  PopulationSpec(name: "neurons", size: 40, model: .lif(neuron, initialPotential: .uniform(-70, -55))),
]
spec.projections = [
  ProjectionSpec(
    source: "input", target: "neurons", rule: .fixedProbability(0.5, allowAutapses: false),
    weight: .uniform(4, 9), delay: 1, channel: 0),
  ProjectionSpec(
    source: "neurons", target: "neurons", rule: .fixedProbability(0.2, allowAutapses: false),
    weight: .constant(-3), delay: 0.5, channel: 1),
]

let network = try spec.build(seed: 42)
let simulator = Simulator(network: network, recordSpikes: true)
let duration = 400.0
simulator.run(until: duration)

let columns = 80
let first = network.populationOffsets[1]
print("spike raster: \(network.spec.populations[1].size) LIF neurons, \(Int(duration)) ms, one column = \(Int(duration) / columns) ms")
for (row, train) in simulator.spikes.trains(for: first..<network.populationOffsets[2]).enumerated() {
  var line = [Character](repeating: "·", count: columns)
  for t in train { line[min(columns - 1, Int(t / duration * Double(columns)))] = "|" }
  let label = String(row)
  print(String(repeating: " ", count: 3 - label.count) + label + " " + String(line))
}
let spikes = simulator.spikeCounts[1]
let rate = SpikeStatistics.meanRate(spikeCount: spikes, neuronCount: 40, duration: duration)
print("\(spikes) spikes, mean rate \((rate * 10).rounded() / 10) Hz, \(simulator.counter.totalAccumulates) synaptic events")
