import SNNBase
import SNNTensor
import Testing

@testable import SNNTraining

/// Shared helpers of the rate and online method tests.
enum MethodTestSupport {
  /// A rate/ndot/ottt method made through the registry (options by name).
  static func make(
    _ method: String, model: String, input: FeatureShape, steps: Int, frames: Int = 1,
    classes: Int, options: [(name: String, value: JSONValue)] = [], seed: UInt64 = 4,
    optimizer: OptimizerSettings = OptimizerSettings(
      kind: .sgd, learningRate: 0.1, momentum: 0.9, weightDecay: 0)
  ) throws -> any TrainingMethod {
    let descriptor = try TrainingMethodRegistry.shared.lookup(method)
    let spec = try ModelSpec.parse(model, input: input)
    let configuration = RunConfiguration(
      method: method, model: spec, dataset: "synthetic", timeSteps: steps, epochs: 1,
      batchSize: 8, seed: seed, optimizer: optimizer,
      methodOptions: try descriptor.resolveOptions(options))
    return try descriptor.makeMethod(
      MethodSetup(
        configuration: configuration, analysis: try spec.analyze(),
        sampleShape: SampleShape(frames: frames, feature: input), classCount: classes))
  }

  /// A batch of `count` samples with normal inputs (mean `offset`, std `std`).
  static func batch(
    count: Int, input: FeatureShape, frames: Int = 1, classes: Int, seed: UInt64,
    offset: Double = 0.3, std: Double = 1
  ) -> Batch {
    var g = Xoshiro256StarStar(seed: seed)
    let shape = SampleShape(frames: frames, feature: input)
    let inputs = (0..<(count * shape.elementCount)).map { _ in
      Float(offset + std * g.nextNormal())
    }
    let labels = (0..<count).map { _ in g.nextIndex(below: classes) }
    return Batch(sampleShape: shape, indices: Array(0..<count), inputs: inputs, labels: labels)
  }

  /// max |a − b| over all gradients, relative to the largest |b| of each parameter.
  static func gradientDifference(_ a: ParameterStore, _ b: ParameterStore) -> [(
    name: String, error: Double, scale: Double
  )] {
    zip(a.parameters, b.parameters).map { p, q in
      let scale = Double(q.gradients.map { abs($0) }.max() ?? 0)
      let error = Double(zip(p.gradients, q.gradients).map { abs($0 - $1) }.max() ?? 0)
      return (p.name, error, scale)
    }
  }

  /// The cosine of the angle between the gradients of `name` in two stores.
  static func cosine(_ a: ParameterStore, _ b: ParameterStore, _ name: String) -> Double {
    let x = a[name].gradients, y = b[name].gradients
    var dot = 0.0, nx = 0.0, ny = 0.0
    for (u, v) in zip(x, y) {
      dot += Double(u) * Double(v)
      nx += Double(u) * Double(u)
      ny += Double(v) * Double(v)
    }
    return dot / max((nx * ny).squareRoot(), 1e-30)
  }
}

/// Exactness tests of rate-based backprop (method spec §5.4).
@Suite struct RateMethodTests {
  /// BPTT on a DenseModel with the rate method's neuron and normalization, on the same
  /// parameters; returns the store with BPTT's gradients.
  func bpttGradients(
    _ method: RateBackpropagationMethod, _ batch: Batch
  ) throws -> ParameterStore {
    let reference = try DenseModel(
      spec: method.model.spec, parameters: method.model.parameters,
      configuration: method.model.configuration)
    let logits = reference.forward(batch)
    let loss = SoftmaxCrossEntropy(logits: logits, labels: batch.labels)
    reference.parameters.zeroGradients()
    reference.backward(loss.gradient)
    return reference.parameters
  }

  func rateGradients(_ method: RateBackpropagationMethod, _ batch: Batch) -> ParameterStore {
    method.model.parameters.zeroGradients()
    _ = method.computeGradients(batch)
    return method.model.parameters
  }

  func expectClose(
    _ a: ParameterStore, _ b: ParameterStore, tolerance: Double, _ label: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    // A bias followed by BN has a gradient of exactly 0 in theory (≈ 1e-8 in Float): the
    // bound has a floor of 10⁻⁶ of the largest gradient of the model (Float rounding).
    let differences = MethodTestSupport.gradientDifference(a, b)
    let largest = differences.map(\.scale).max() ?? 0
    #expect(largest > 0, "\(label): zero gradients", sourceLocation: sourceLocation)
    for (name, error, scale) in differences {
      #expect(
        error <= tolerance * scale + 1e-6 * largest, "\(label) \(name): \(error) of \(scale)",
        sourceLocation: sourceLocation)
    }
  }

  /// §5.4(a): at T = 1, with BN, rate-BP's gradients are BPTT's (both variants; the 1/T
  /// scale is 1).
  @Test(arguments: ["M", "S"])
  func equalsBPTTAtOneStep(variant: String) throws {
    let input = FeatureShape(channels: 1, height: 8, width: 8)
    let method = try MethodTestSupport.make(
      "rate", model: "4C3-AP2-6C3-10-4", input: input, steps: 1, classes: 4,
      options: [("variant", JSONValue(variant))]) as! RateBackpropagationMethod
    #expect(method.model.configuration.normalization == .batchNorm)
    let batch = MethodTestSupport.batch(count: 16, input: input, classes: 4, seed: 11)
    let reference = try bpttGradients(method, batch)
    let rate = rateGradients(method, batch)
    expectClose(rate, reference, tolerance: 2e-5, "T=1 \(variant)")
    // The BN running statistics moved the same way in both passes' first batch.
    #expect(rate.names.contains("conv1.norm.gamma"))
  }

  /// §5.4(b): one hidden layer, static input, soft detached reset, time-averaged readout,
  /// no BN, no 1/T scale: rate-BP equals BPTT for any T.
  @Test(arguments: [("M", 2), ("S", 5), ("M", 8)])
  func equalsBPTTForOneHiddenLayer(variant: String, steps: Int) throws {
    let input = FeatureShape(channels: 1, height: 4, width: 5)
    let method = try MethodTestSupport.make(
      "rate", model: "20-32-4", input: input, steps: steps, classes: 4,
      options: [
        ("variant", JSONValue(variant)), ("norm", "none"), ("loss-scale", "none"),
      ]) as! RateBackpropagationMethod
    let batch = MethodTestSupport.batch(
      count: 16, input: input, classes: 4, seed: 12, offset: 0.2, std: 0.8)
    let reference = try bpttGradients(method, batch)
    let rate = rateGradients(method, batch)
    expectClose(rate, reference, tolerance: 1e-5, "\(variant) T=\(steps)")
    // With the 1/T scale on, the gradient is exactly 1/T of it.
    let scaled = try MethodTestSupport.make(
      "rate", model: "20-32-4", input: input, steps: steps, classes: 4,
      options: [("variant", JSONValue(variant)), ("norm", "none")])
      as! RateBackpropagationMethod
    let s = rateGradients(scaled, batch)
    for (p, q) in zip(s.parameters, rate.parameters) {
      let error = zip(p.gradients, q.gradients).map { abs($0 * Float(steps) - $1) }.max()!
      #expect(Double(error) <= 1e-6 * Double(q.gradients.map { abs($0) }.max()!), "\(p.name)")
    }
  }

  /// With BN and T > 1 (or deeper networks) the two differ: the comparison above can fail.
  @Test func differsFromBPTTWithBNAtSeveralSteps() throws {
    let input = FeatureShape(channels: 1, height: 8, width: 8)
    let method = try MethodTestSupport.make(
      "rate", model: "4C3-AP2-6C3-10-4", input: input, steps: 4, classes: 4,
      options: [("loss-scale", "none")]) as! RateBackpropagationMethod
    let batch = MethodTestSupport.batch(count: 16, input: input, classes: 4, seed: 11)
    let reference = try bpttGradients(method, batch)
    let rate = rateGradients(method, batch)
    let worst = MethodTestSupport.gradientDifference(rate, reference).map { $0.error / $0.scale }
      .max()!
    #expect(worst > 1e-3)
    // §5.4(e): the gradients stay aligned with BPTT's (cosine similarity per weight).
    for name in ["conv1.weight", "conv2.weight", "fc3.weight", "fc4.weight"] {
      let c = MethodTestSupport.cosine(rate, reference, name)
      #expect(c >= 0.8, "\(name): cosine \(c)")
    }
  }

  /// §5.4(c): κ equals a single neuron's dr/dĪ under a constant input (BPTT through the
  /// LIF kernel, in Float64) for the three ρ variants of the spec, at several inputs.
  @Test(arguments: [("soft", true), ("soft", false), ("hard", false), ("hard", true)])
  func kappaIsTheRateDerivative(reset: String, detached: Bool) throws {
    let steps = 9
    let lambda = 0.2
    let hard = reset == "hard"
    let surrogate = SurrogateKernel<Double>(kind: .sigmoid, parameter: 4)
    let rate = RateNeuronKernel<Double>(
      leak: lambda, vThreshold: 1, hardReset: hard, detachReset: detached, surrogate: surrogate)
    let lif = LIFKernel<Double>(
      decay: lambda, inputScale: 1, vThreshold: 1, vReset: 0, hardReset: hard,
      detachReset: detached, detachMembrane: false, surrogate: surrogate)
    for current in [0.15, 0.5, 0.83, 0.95, 1.2, 1.7, 2.6, -0.4] {
      // Rate kernel: r and κ.
      var v = [rate.restingMembrane], e = [1.0], r = [0.0], k = [0.0], s = [0.0]
      let input = [current]
      for _ in 0..<steps {
        rate.step(
          range: 0..<1, current: input, membrane: &v, spikes: &s, spikeSum: &r, factor: &e,
          kappaSum: &k)
      }
      let kappa = k[0] / Double(steps)
      // BPTT of r = (1/T)·Σ S[t] with respect to a static input.
      var membrane = [0.0]
      var potential = [Double](repeating: 0, count: steps)
      var spikes = [Double](repeating: 0, count: steps)
      _ = lif.forward(
        steps: steps, stride: 1, range: 0..<1, input: input, membrane: &membrane,
        potential: &potential, spikes: &spikes, countWindow: false, inputIsStatic: true)
      let grad = [Double](repeating: 1 / Double(steps), count: steps)
      var gradMembrane = [0.0], gradInput = [0.0]
      _ = lif.backward(
        steps: steps, stride: 1, range: 0..<1, gradSpikes: grad, potential: potential,
        spikes: spikes, initialMembrane: [0.0], gradMembrane: &gradMembrane,
        gradInput: &gradInput, leakGradient: false, inputIsStatic: true)
      #expect(r[0] == spikes.reduce(0, +), "I = \(current): spike counts")
      #expect(
        abs(kappa - gradInput[0]) <= 1e-12 * max(1, abs(gradInput[0])),
        "\(reset) detached=\(detached) I = \(current): κ \(kappa) vs dr/dĪ \(gradInput[0])")
    }
  }

  /// The factor ρ matters: with the detached factor λ in place of the not-detached one,
  /// κ differs from dr/dĪ of the not-detached neuron (the check above can fail).
  @Test func kappaDependsOnTheResetVariant() throws {
    let surrogate = SurrogateKernel<Double>(kind: .sigmoid, parameter: 4)
    func kappa(_ detached: Bool) -> Double {
      let kernel = RateNeuronKernel<Double>(
        leak: 0.2, vThreshold: 1, hardReset: false, detachReset: detached, surrogate: surrogate)
      var v = [0.0], e = [1.0], r = [0.0], k = [0.0], s = [0.0]
      for _ in 0..<6 {
        kernel.step(
          range: 0..<1, current: [0.9], membrane: &v, spikes: &s, spikeSum: &r, factor: &e,
          kappaSum: &k)
      }
      return k[0]
    }
    #expect(abs(kappa(true) - kappa(false)) > 1e-3)
  }

  /// §5.4(d): without BN, on a static input, rate_M and rate_S compute the same r, κ and
  /// gradients (different code paths: one layer over all T vs one step through all
  /// layers).
  @Test func multiStepEqualsSingleStepWithoutBN() throws {
    let input = FeatureShape(channels: 1, height: 8, width: 8)
    func make(_ variant: String) throws -> RateBackpropagationMethod {
      try MethodTestSupport.make(
        "rate", model: "4C3-AP2-6C3-10-4", input: input, steps: 5, classes: 4,
        options: [("variant", JSONValue(variant)), ("norm", "none")])
        as! RateBackpropagationMethod
    }
    let m = try make("M"), s = try make("S")
    let batch = MethodTestSupport.batch(count: 16, input: input, classes: 4, seed: 13)
    let gm = rateGradients(m, batch), gs = rateGradients(s, batch)
    for (a, b) in zip(m.layers, s.layers) {
      #expect(a.rate == b.rate)
      #expect(a.kappa.maxAbsoluteDifference(b.kappa) <= 1e-6)
    }
    expectClose(gm, gs, tolerance: 1e-5, "M vs S")
  }

  /// With BN, rate_S's intended statistics (mean of per-step means, harmonic mean of the
  /// variances) and the reference code's last-step statistics differ, and both differ from
  /// rate_M's statistics over all T·B.
  @Test func singleStepStatisticsRules() throws {
    let input = FeatureShape(channels: 1, height: 8, width: 8)
    func make(_ variant: String, _ rule: String) throws -> RateBackpropagationMethod {
      try MethodTestSupport.make(
        "rate", model: "4C3-AP2-6C3-10-4", input: input, steps: 4, classes: 4,
        options: [("variant", JSONValue(variant)), ("bn-statistics", JSONValue(rule))])
        as! RateBackpropagationMethod
    }
    let batch = MethodTestSupport.batch(count: 16, input: input, classes: 4, seed: 14)
    let intended = try make("S", "intended"), last = try make("S", "last-step")
    _ = rateGradients(intended, batch)
    _ = rateGradients(last, batch)
    // conv2 (the second hidden layer) sees spikes that vary over time.
    let a = intended.layers[1], b = last.layers[1]
    #expect(a.observedSteps == 4 && b.observedSteps == 4)
    // Intended: the mean of the recorded per-step means.
    for c in 0..<a.channels {
      #expect(abs(Double(a.statisticsMean[c]) - a.meanSum[c] / 4) <= 1e-6)
      let harmonic = (a.inverseVarianceSum[c] / 4).squareRoot()
      #expect(abs(Double(a.statisticsInverseStd[c]) - harmonic) <= 1e-4 * harmonic)
    }
    #expect(a.statisticsMean != b.statisticsMean)
    // The last-step rule keeps the last step's statistics only.
    #expect(b.statisticsMean == b.stepMean)
  }

  /// The running statistics are updated in the spike pass only, and evaluation uses them.
  @Test func evaluationUsesRunningStatistics() throws {
    let input = FeatureShape(channels: 1, height: 8, width: 8)
    let method = try MethodTestSupport.make(
      "rate", model: "4C3-AP2-6C3-10-4", input: input, steps: 3, classes: 4)
      as! RateBackpropagationMethod
    let batch = MethodTestSupport.batch(count: 16, input: input, classes: 4, seed: 15)
    let before = method.exportState()
    let e1 = try method.evaluateBatch(
      batch, context: EvaluationContext(batchIndex: 0, random: Xoshiro256StarStar(seed: 1)))
    #expect(method.exportState().isBitIdentical(to: before))
    _ = method.computeGradients(batch)
    let norm = method.model.stages[0].norm!
    #expect(norm.runningMean.scalars != [Float](repeating: 0, count: 4))
    let e2 = try method.evaluateBatch(
      batch, context: EvaluationContext(batchIndex: 0, random: Xoshiro256StarStar(seed: 1)))
    #expect(e1.lossSum != e2.lossSum)
    // The evaluation readout is the time-averaged readout of DenseModel in evaluation mode.
    let reference = try DenseModel(
      spec: method.model.spec, parameters: method.model.parameters,
      configuration: method.model.configuration)
    try reference.loadState(method.model.stateBlobs())
    reference.isTraining = false
    let logits = reference.forward(batch)
    let loss = SoftmaxCrossEntropy(logits: logits, labels: batch.labels, computeGradient: false)
    #expect(abs(loss.lossSum - e2.lossSum) <= 1e-4 * abs(loss.lossSum))
    #expect(loss.correctCount == e2.correctCount)
  }
}
