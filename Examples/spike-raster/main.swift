import SNN

let sizes = CommandLine.arguments.dropFirst().compactMap { Int($0) }
for n in sizes.isEmpty ? [4000] : sizes {
  let t0 = Stopwatch()
  let net = try CUBA.spec(neurons: n).build(seed: 1)
  let tb = t0.elapsedSeconds
  let sim = Simulator(network: net, recordSpikes: true)
  let t1 = Stopwatch()
  let c1 = CPUTime.threadSeconds()
  sim.run(until: 1000)
  let ts = t1.elapsedSeconds
  let cpu = CPUTime.threadSeconds() - c1
  let spikes = sim.spikeCounts.reduce(0, +)
  print(n, "syn", net.synapseCount, "spikes", spikes, "rate", Double(spikes) / Double(n), "events", sim.counter.totalAccumulates, "build", tb, "sim", ts, "cpu", cpu, "checks", sim.thresholdChecks, "solves", sim.exactSolves, "earlier", sim.earlierChecks, "rss", ResourceUsage.peakResidentBytes() / 1_000_000)
}
