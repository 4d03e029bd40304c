import SNNBase
import SNNEngine
import Testing

@testable import SNNTraining

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Bars: class k lights row band k of a 1×12×12 image (plus noise), three classes.
func makeBars(count: Int, seed: UInt64) throws -> InMemoryDataset {
  var g = Xoshiro256StarStar(seed: seed)
  var inputs: [Float] = []
  var labels: [Int] = []
  for i in 0..<count {
    let k = i % 3
    for y in 0..<12 {
      for _ in 0..<12 {
        let on = y / 4 == k
        inputs.append((on ? 1.5 : -0.3) + Float(0.4 * g.nextNormal()))
      }
    }
    labels.append(k)
  }
  return try InMemoryDataset(
    name: "bars",
    sampleShape: SampleShape(feature: FeatureShape(channels: 1, height: 12, width: 12)),
    classCount: 3, inputs: inputs, labels: labels)
}

func edbpConfiguration(
  epochs: Int = 2, batchSize: Int = 20, options: [(name: String, value: JSONValue)] = []
)
  throws -> RunConfiguration
{
  var model = try ModelSpec.parse(
    "6C3-AP2-16-3", input: FeatureShape(channels: 1, height: 12, width: 12))
  model.readout = .spiking
  return RunConfiguration(
    method: "edbp", model: model, dataset: "bars", timeSteps: 5, epochs: epochs,
    batchSize: batchSize, seed: 3,
    optimizer: OptimizerSettings(kind: .adamw, learningRate: 5e-3, weightDecay: 5e-4),
    methodOptions: try EDBPMethod.descriptor.resolveOptions(options))
}

func makeEDBP(_ configuration: RunConfiguration, _ dataset: any LabelledDataset) throws
  -> EDBPMethod
{
  try EDBPMethod(
    setup: MethodSetup(
      configuration: configuration, analysis: try configuration.model.analyze(),
      sampleShape: dataset.sampleShape, classCount: dataset.classCount))
}

@Suite struct EDBPMethodTests {
  @Test func standardizationBackwardMatchesFiniteDifferences() {
    var g = Xoshiro256StarStar(seed: 4)
    let out = 3, fanIn = 7
    let w = (0..<(out * fanIn)).map { _ in Float(g.nextNormal()) }
    let gain = (0..<out).map { _ in Float(0.5 + g.nextUnitDouble()) }
    let bias = (0..<out).map { _ in Float(0.2 * g.nextNormal()) }
    let upstream = (0..<(out * fanIn)).map { _ in g.nextNormal() }
    var ws = WeightStandardization(outChannels: out, fanIn: fanIn)
    /// L = Σ G·w' in Double from a Double re-implementation of the forward.
    func loss(_ w: [Double], _ gain: [Double], _ bias: [Double]) -> Double {
      var total = 0.0
      for c in 0..<out {
        let row = Array(w[(c * fanIn)..<((c + 1) * fanIn)])
        let mean = row.reduce(0, +) / Double(fanIn)
        let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(fanIn - 1)
        let s = (variance + 1e-5).squareRoot()
        for i in 0..<fanIn {
          total += upstream[c * fanIn + i] * (gain[c] * (row[i] - mean) / s + bias[c])
        }
      }
      return total
    }
    var output = [Float](repeating: 0, count: w.count)
    ws.forward(weights: w, gain: gain, bias: bias, into: &output)
    var gw = [Float](repeating: 0, count: w.count), gg = [Float](repeating: 0, count: out), gb = gg
    var diagonal = gw
    upstream.withUnsafeBufferPointer { u in
      gw.withUnsafeMutableBufferPointer { a in
        gg.withUnsafeMutableBufferPointer { b in
          gb.withUnsafeMutableBufferPointer { c in
            ws.backward(u, gain: gain, kind: .exact, weights: a, gain: b, bias: c)
          }
        }
      }
      var scratch = [Float](repeating: 0, count: out), scratch2 = scratch
      diagonal.withUnsafeMutableBufferPointer { a in
        scratch.withUnsafeMutableBufferPointer { b in
          scratch2.withUnsafeMutableBufferPointer { c in
            ws.backward(u, gain: gain, kind: .diagonal, weights: a, gain: b, bias: c)
          }
        }
      }
    }
    let wd = w.map(Double.init), gd = gain.map(Double.init), bd = bias.map(Double.init)
    let h = 1e-6
    var diagonalError = 0.0
    for i in w.indices {
      var plus = wd, minus = wd
      plus[i] += h
      minus[i] -= h
      let numeric = (loss(plus, gd, bd) - loss(minus, gd, bd)) / (2 * h)
      #expect(abs(Double(gw[i]) - numeric) <= 1e-4 * max(1, abs(numeric)))
      diagonalError = max(diagonalError, abs(Double(diagonal[i]) - numeric))
    }
    // The reference's diagonal-only backward is not the derivative.
    #expect(diagonalError > 1e-2)
    for c in 0..<out {
      var plus = gd, minus = gd
      plus[c] += h
      minus[c] -= h
      #expect(abs(Double(gg[c]) - (loss(wd, plus, bd) - loss(wd, minus, bd)) / (2 * h)) <= 1e-4)
      var bp = bd, bm = bd
      bp[c] += h
      bm[c] -= h
      #expect(abs(Double(gb[c]) - (loss(wd, gd, bp) - loss(wd, gd, bm)) / (2 * h)) <= 1e-4)
    }
  }

  // `snn train --resume` feeds the stored options back through resolveOptions: the unset
  // per-dataset options (null) must pass, and a null for a set option must not.
  @Test func storedOptionsResolveAgain() throws {
    let configuration = try edbpConfiguration(options: [("du-clip", 3.0)])
    let stored = try RunConfiguration(json: configuration.json, field: "checkpoint")
    let again = try EDBPMethod.descriptor.resolveOptions(stored.methodOptions.entries)
    #expect(again.json == configuration.methodOptions.json)
    #expect(again.entries.contains { $0.name == "desired-count" && $0.value == .null })
    #expect(throws: ConfigurationError.self) {
      _ = try EDBPMethod.descriptor.resolveOptions([("du-clip", .null)])
    }
  }

  @Test func countLossFollowsTheSpec() {
    // Label 1 with desired 5, others 1: n = [3, 2, 0, 1], T = 5.
    let (loss, gradients) = EDBPMethod.countLoss(
      counts: [3, 2, 0, 1], label: 1, timeSteps: 5, desired: 5, undesired: 1)
    // δ = [(3−1)/5, (2−5)/5, 0 (fires too little: zeroed), 0].
    #expect(gradients == [-0.4, 0.6, 0, 0])
    #expect(abs(loss - 0.5 * 5 * (0.16 + 0.36)) < 1e-12)
    // The label neuron firing more than desired is not penalised.
    #expect(
      EDBPMethod.countLoss(counts: [7, 0], label: 0, timeSteps: 5, desired: 5, undesired: 1).loss
        == 0)
  }

  // Spec A8.7.
  @Test func scaleSearchLandsOnItsTarget() throws {
    let data = try makeBars(count: 40, seed: 1)
    let configuration = try edbpConfiguration(batchSize: 40)
    let method = try makeEDBP(configuration, data)
    let batch = try Batch.load(Array(0..<40)[...], from: data)
    method.scaleSearch(batch)
    #expect(method.scaleSearchResults.count == 3)
    for (l, r) in method.scaleSearchResults.enumerated() {
      #expect(r.high / r.low < 1.01 && r.low <= r.multiplier && r.multiplier <= r.high)
      #expect(abs(r.target - 1.2 * 0.5 * 2 / 5) < 1e-12)
      // The output layer has 3 × 40 neurons: counts come in steps of 1/120.
      let tolerance = l == 2 ? 1.0 / 120 + 0.02 * r.target : 0.05 * r.target
      #expect(abs(r.count - r.target) <= tolerance, "layer \(l): \(r.count) vs \(r.target)")
    }
  }

  @Test func resultsDoNotDependOnTheThreadCount() throws {
    let data = try makeBars(count: 60, seed: 2)
    let configuration = try edbpConfiguration(batchSize: 30)
    var states: [MethodState] = []
    for threads in [1, 2] {
      let method = try makeEDBP(configuration, data)
      method.threadCount = threads
      for step in 0..<4 {
        let batch = try Batch.load(Array((step % 2 * 30)..<(step % 2 * 30 + 30))[...], from: data)
        _ = try method.trainBatch(
          batch,
          context: StepContext(
            epoch: 0, epochs: 1, batchIndex: step, batchesPerEpoch: 4, globalStep: step,
            learningRate: 5e-3, random: Xoshiro256StarStar(seed: UInt64(step))))
      }
      states.append(method.exportState())
    }
    #expect(states[0].isBitIdentical(to: states[1]))
  }

  @Test func learnsTheBarsAndResumesBitIdentically() throws {
    let train = try makeBars(count: 120, seed: 5), test = try makeBars(count: 60, seed: 6)
    let configuration = try edbpConfiguration(epochs: 3)
    let dir = temporaryDirectory("edbp-resume")
    defer { rmdir(dir) }
    func run(_ path: String?, stopAfter batches: Int? = nil, resume: String? = nil) throws -> (
      Trainer, RunSummary
    ) {
      let trainer = try Trainer(
        configuration: configuration, method: try makeEDBP(configuration, train), trainSet: train,
        testSet: test, options: Trainer.Options(checkpointPath: path))
      if let resume { try trainer.restore(from: TrainingCheckpoint.read(resume), path: resume) }
      var count = 0
      if let batches {
        trainer.shouldStop = {
          count += 1
          return count == batches
        }
      }
      return (trainer, try trainer.run())
    }
    let full = try run(nil)
    // It learns: well above chance (1/3) on held-out samples.
    #expect(full.1.finalTest!.accuracy > 0.8, "test accuracy \(full.1.finalTest!.accuracy)")
    #expect(full.1.history.last!.train.loss < full.1.history.first!.train.loss)
    let extra = Dictionary(uniqueKeysWithValues: full.1.extra.map { ($0.key, $0.value) })
    #expect((extra["forward_synaptic_events_per_sample"]?.doubleValue ?? 0) > 0)
    #expect((extra["backward_events_per_sample"]?.doubleValue ?? 0) > 0)
    // Stopped in the middle of epoch 2 and resumed: bit-identical.
    let stopped = try run(dir + "/part.ckpt", stopAfter: 8)
    #expect(!stopped.1.completed)
    let resumed = try run(dir + "/part.ckpt", resume: dir + "/part.ckpt")
    #expect(full.0.method.exportState().isBitIdentical(to: resumed.0.method.exportState()))
    for (a, b) in zip(full.1.history, resumed.1.history) { #expect(a.isBitIdentical(to: b)) }
    unlink(dir + "/part.ckpt")
  }
}
