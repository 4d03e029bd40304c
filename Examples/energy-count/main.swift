// Counts the synaptic operations of one sample through a spiking conv net on both backends
// (the dense time-stepped backend and the event engine), shows that they agree, and prices
// them with the Horowitz 45 nm tables.
//
//   swift run -c release energy-count            # the `conv` preset, T = 5, random weights
//   swift run -c release energy-count 8C5-AP2-32-10 4

import SNN

func padded(_ s: String, _ width: Int) -> String {
  s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}

let arguments = Array(CommandLine.arguments.dropFirst())
let input = FeatureShape(channels: 1, height: 28, width: 28)
let notation = ModelSpec.presetNotation(arguments.first ?? "conv", input: input) ?? arguments[0]
let steps = arguments.count > 1 ? Int(arguments[1]) ?? 5 : 5

do {
  let spec = try ModelSpec.parse(notation, input: input)
  let dense = try DenseModel(
    spec: spec, configuration: DenseModel.Configuration(timeSteps: steps, normalization: .none), seed: 3)
  // Kaiming-initialized weights scaled up a little so that every layer fires.
  for i in 0..<dense.parameters.count where dense.parameters[i].name.hasSuffix(".weight") {
    dense.parameters.withValues(i) { v in for k in v.indices { v[k] *= 2.5 } }
  }
  dense.isTraining = false
  // A synthetic "digit": a bright ring on a dark background (analog pixels in [0, 1]).
  var image = [Float](repeating: 0, count: input.elementCount)
  for y in 0..<28 {
    for x in 0..<28 {
      let r = ((Double(y) - 13.5) * (Double(y) - 13.5) + (Double(x) - 13.5) * (Double(x) - 13.5)).squareRoot()
      image[y * 28 + x] = Float(max(0, 1 - abs(r - 8) / 3))
    }
  }
  let shape = SampleShape(frames: 1, feature: input)
  _ = dense.forward(inputs: image, sampleShape: shape, batchSize: 1)
  let denseCounts = dense.operations!
  let event = try EventModel(dense: dense).run(input: image)
  let analysis = try spec.analyze()

  print("\(spec.notation), T = \(steps), one synthetic sample")
  print("layer     ACs (dense / event)      MACs (dense / event)     spikes (dense / event)")
  for (l, layer) in analysis.layers.enumerated() {
    func pair(_ a: [UInt64], _ b: [UInt64]) -> String {
      padded("\(a[l]) / \(b[l])", 25)
    }
    print(
      padded(layer.name, 10)
        + pair(denseCounts.accumulates, event.counter.accumulates)
        + pair(denseCounts.multiplyAccumulates, event.counter.multiplyAccumulates)
        + pair(denseCounts.spikes, event.counter.spikes))
  }
  let same =
    denseCounts.accumulates == event.counter.accumulates
    && denseCounts.multiplyAccumulates == event.counter.multiplyAccumulates
    && denseCounts.spikes == event.counter.spikes
  print(same ? "identical counts on both backends" : "MISMATCH between the backends")
  print("event engine: \(event.neuronEvaluations) neuron evaluations (a dense simulation: "
    + "\(analysis.layers.filter { !$0.isReadout }.reduce(0) { $0 + $1.output.elementCount } * steps))")
  print("")
  for table in EnergyModel.CostTable.builtIn {
    let report = EnergyReport(
      counter: denseCounts, samples: 1, analysis: analysis, timeSteps: steps, model: EnergyModel(table: table))
    func rounded(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
    print(
      "\(table.name): \(rounded(report.energyPicojoulesPerSample / 1e6)) µJ per sample "
        + "(ANN \(rounded(report.annEnergyPicojoulesPerSample / 1e6)) µJ, ratio \(rounded(report.energyRatio)))")
    print("  " + report.model.formula)
  }
} catch {
  print("error: \(error)")
}
