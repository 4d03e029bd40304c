import SNNBase
import SNNTensor
import Testing

@testable import SNNTraining

/// Exactness tests of OTTT and NDOT (method spec §5.5) and of their parts.
@Suite struct OnlineMethodTests {
  static let input = FeatureShape(channels: 1, height: 8, width: 8)
  static let conv = "4C3-AP2-6C3-10-4"

  /// An online method built directly (any trace rule, including the test-only `.fixed`).
  func make(
    _ name: String, trace: PresynapticTraceRule, model: String = OnlineMethodTests.conv,
    input: FeatureShape = OnlineMethodTests.input, steps: Int,
    options: [(name: String, value: JSONValue)] = []
  ) throws -> OnlineTrainingMethod {
    let descriptor = try TrainingMethodRegistry.shared.lookup("ndot")
    let spec = try ModelSpec.parse(model, input: input)
    let values = try descriptor.resolveOptions(options)
    let configuration = RunConfiguration(
      method: name, model: spec, dataset: "synthetic", timeSteps: steps, epochs: 1,
      batchSize: 8, seed: 6,
      optimizer: OptimizerSettings(kind: .sgd, learningRate: 0.1, momentum: 0.9),
      methodOptions: values)
    let setup = MethodSetup(
      configuration: configuration, analysis: try spec.analyze(),
      sampleShape: SampleShape(feature: input), classCount: 4)
    return try OnlineTrainingMethod(
      name: name, setup: setup, settings: OnlineMethods.settings(values, trace: trace),
      neuron: OnlineMethods.neuron(values))
  }

  func context(_ step: Int, lr: Double = 0.1) -> StepContext {
    StepContext(
      epoch: 0, epochs: 1, batchIndex: step, batchesPerEpoch: 3, globalStep: step,
      learningRate: lr, random: Xoshiro256StarStar(seed: 1))
  }

  /// §5.5(a): NDOT's machinery with the factor fixed at λ is bit-identical to OTTT (three
  /// batches, both schedules: parameters, optimizer state and metrics); the data-dependent
  /// factors do differ from OTTT.
  @Test(arguments: ["accumulate", "online"])
  func fixedFactorIsBitIdenticalToOTTT(schedule: String) throws {
    let options: [(name: String, value: JSONValue)] = [("update-schedule", JSONValue(schedule))]
    let ottt = try make("ottt", trace: .constant, steps: 5, options: options)
    let fixed = try make("ndot", trace: .fixed, steps: 5, options: options)
    let paper = try make("ndot", trace: .paper, steps: 5, options: options)
    let reference = try make("ndot", trace: .reference, steps: 5, options: options)
    #expect(ottt.exportState().isBitIdentical(to: fixed.exportState()))
    for k in 0..<3 {
      let batch = MethodTestSupport.batch(
        count: 12, input: Self.input, classes: 4, seed: 20 + UInt64(k), offset: 0.4)
      let a = try ottt.trainBatch(batch, context: context(k))
      let b = try fixed.trainBatch(batch, context: context(k))
      _ = try paper.trainBatch(batch, context: context(k))
      _ = try reference.trainBatch(batch, context: context(k))
      #expect(a.lossSum == b.lossSum && a.correctCount == b.correctCount)
      #expect(a.operations == b.operations)
    }
    #expect(ottt.exportState().isBitIdentical(to: fixed.exportState()))
    #expect(ottt.optimizer.stepCount == (schedule == "online" ? 15 : 3))
    #expect(!ottt.exportState().isBitIdentical(to: paper.exportState()))
    #expect(!ottt.exportState().isBitIdentical(to: reference.exportState()))
    #expect(!paper.exportState().isBitIdentical(to: reference.exportState()))
  }

  /// §5.5(c): the factor stays in [−λ, λ] and is never NaN or infinite, including zero
  /// denominators (V[t−1] − V_th·S[t−1] = 0), for both NDOT forms.
  @Test func factorIsBoundedAndFinite() throws {
    let lambda: Float = 0.5
    typealias Rule = PresynapticTraceRule
    #expect(Rule.factor(Float(0), Float(0), lambda: lambda) == lambda)
    #expect(Rule.factor(Float(1), Float(0), lambda: lambda) == lambda)
    #expect(Rule.factor(Float(-1), Float(-0.0), lambda: lambda) == lambda)
    #expect(Rule.factor(Float(3e38), Float(1e-30), lambda: lambda) == lambda)  // overflow
    #expect(Rule.factor(Float.nan, Float(1), lambda: lambda) == lambda)
    #expect(Rule.factor(Float(-2), Float(1), lambda: lambda) == -lambda)
    #expect(Rule.factor(Float(0.3), Float(1), lambda: lambda) == 0.3)
    #expect(Rule.factor(Float(-1), Float(1e-30), lambda: lambda) == -lambda)
    // Through the kernel: inputs that hit the threshold exactly (V = 0 after a spike with
    // I = V_th) or stay at rest (I = 0) make the denominators zero.
    var g = Xoshiro256StarStar(seed: 3)
    let steps = 40, n = 64
    var currents: [[Float]] = []
    for _ in 0..<steps {
      currents.append(
        (0..<n).map { j in
          switch j % 4 {
          case 0: return 0
          case 1: return 1
          case 2: return Float(g.nextNormal())
          default: return g.nextUnitDouble() < 0.5 ? 1 : 0.5
          }
        })
    }
    for rule in [Rule.paper, .reference] {
      let kernel = OnlineNeuronKernel<Float>(
        leak: lambda, vThreshold: 1, hardReset: false, rule: rule)
      var v = [Float](repeating: 0, count: n), h = v, s = v, a = v, q1 = v, q2 = v
      var zeroDenominators = 0
      for t in 0..<steps {
        let before = a
        if rule == .reference {
          zeroDenominators += q1.filter { $0 == 0 }.count
        } else {
          zeroDenominators += q2.filter { $0 == 0 }.count
        }
        kernel.step(
          range: 0..<n, current: currents[t], membrane: &v, potential: &h, spikes: &s,
          trace: &a, previous: &q1, previous2: &q2)
        for j in 0..<n {
          #expect(a[j].isFinite, "\(rule) t=\(t) j=\(j)")
          // a[t] = P·a[t−1] + S[t] with |P| ≤ λ.
          #expect(abs(a[j] - s[j]) <= lambda * abs(before[j]) * (1 + 1e-6) + 1e-7)
        }
      }
      #expect(zeroDenominators > steps, "\(rule): the sequence must hit zero denominators")
    }
  }

  /// §5.5(d): at T = 1, NDOT online = NDOT accumulate = OTTT (bit for bit, with weight
  /// standardization and the 2.74 scale), and without them all equal single-step
  /// backprop (BPTT of a DenseModel at T = 1 with the same neuron, α = 0).
  @Test func oneStepEqualsSingleStepBackprop() throws {
    let batch = MethodTestSupport.batch(count: 12, input: Self.input, classes: 4, seed: 30)
    var states: [MethodState] = []
    for (name, trace, schedule) in [
      ("ndot", PresynapticTraceRule.paper, "online"), ("ndot", .paper, "accumulate"),
      ("ndot", .reference, "online"), ("ottt", .constant, "accumulate"),
      ("ottt", .constant, "online"),
    ] {
      let m = try make(
        name, trace: trace, steps: 1, options: [("update-schedule", JSONValue(schedule))])
      _ = try m.trainBatch(batch, context: context(0))
      states.append(m.exportState())
    }
    for s in states.dropFirst() { #expect(s.isBitIdentical(to: states[0])) }

    let plain: [(name: String, value: JSONValue)] = [
      ("weight-standardization", "none"), ("spike-scale", 1.0), ("loss-alpha", 0.0),
    ]
    for (trace, schedule) in [(PresynapticTraceRule.paper, "online"), (.constant, "accumulate")] {
      let m = try make(
        "ndot", trace: trace, steps: 1, options: plain + [("update-schedule", JSONValue(schedule))]
      )
      let reference = try DenseModel(
        spec: m.model.spec, parameters: m.model.parameters,
        configuration: m.model.configuration)
      m.run(batch, training: true, learningRate: nil)
      let logits = reference.forward(batch)
      let loss = SoftmaxCrossEntropy(logits: logits, labels: batch.labels)
      reference.parameters.zeroGradients()
      reference.backward(loss.gradient)
      let differences = MethodTestSupport.gradientDifference(
        m.model.parameters, reference.parameters)
      let largest = differences.map(\.scale).max()!
      #expect(largest > 0)
      for (name, error, scale) in differences {
        #expect(error <= 1e-5 * max(scale, 1e-3 * largest), "\(name): \(error) of \(scale)")
      }
    }
  }

  /// §5.5(b): with the input traced, OTTT_A's gradient of the input → hidden weights
  /// equals BPTT's (detached soft reset, per-step loss Σ_t L[t]) for any T; the readout's
  /// does not (it sees the hidden trace instead of s[t]).
  @Test(arguments: [2, 5])
  func tracedInputLayerEqualsBPTT(steps: Int) throws {
    let input = FeatureShape(channels: 1, height: 4, width: 5)
    let hidden = 24, classes = 4, b = 10
    let m = try make(
      "ottt", trace: .constant, model: "20-\(hidden)-\(classes)", input: input, steps: steps,
      options: [("weight-standardization", "none"), ("trace-input", true)])
    let batch = MethodTestSupport.batch(
      count: b, input: input, classes: classes, seed: 31, offset: 0.3, std: 0.9)
    let metrics = m.run(batch, training: true, learningRate: nil)
    let store = m.model.parameters

    // BPTT over the unrolled steps with SNNTensor layers and the same weights.
    var g = SplitMix64(seed: 0)
    let fc1 = Linear(
      inFeatures: 20, outFeatures: hidden, initializer: .zeros, weightLayout: .outputMajor,
      using: &g)
    let fc2 = Linear(
      inFeatures: hidden, outFeatures: classes, initializer: .zeros, weightLayout: .outputMajor,
      using: &g)
    fc1.weight.value = Tensor(shape: [hidden, 20], scalars: store["fc1.weight"].values)
    fc1.bias!.value = Tensor(shape: [hidden], scalars: store["fc1.bias"].values)
    fc2.weight.value = Tensor(shape: [classes, hidden], scalars: store["fc2.weight"].values)
    fc2.bias!.value = Tensor(shape: [classes], scalars: store["fc2.bias"].values)
    let lif = LIF(
      charge: .leaky(lambda: 0.5), vThreshold: 1, reset: .soft, detachReset: true,
      detachMembrane: false, surrogate: .sigmoid(alpha: 4))
    let x = Tensor(shape: [b, 20], scalars: batch.inputs)
    let spikes = lif.forward(fc1.forwardStatic(x, steps: steps))
    let scale = m.settings.spikeScale
    let o = fc2.forward(spikes * scale)
    var gradO = Tensor(shape: o.shape)
    var lossSum = 0.0
    for t in 0..<steps {
      let loss = MixedStepLoss(
        logits: o.step(t), labels: batch.labels, alpha: m.settings.lossAlpha, steps: steps)
      lossSum += loss.lossSum
      gradO.withUnsafeMutableBufferPointer { dst in
        loss.gradient.withUnsafeBufferPointer { src in
          (dst.baseAddress! + t * b * classes).update(from: src.baseAddress!, count: b * classes)
        }
      }
    }
    let gy = fc2.backward(gradO)
    _ = fc1.backward(lif.backward(gy * scale))
    #expect(abs(metrics.lossSum - lossSum) <= 1e-9 * abs(lossSum))
    let w = store["fc1.weight"].gradients, ref = fc1.weight.gradient.scalars
    let top = Double(ref.map { abs($0) }.max()!)
    let error = Double(zip(w, ref).map { abs($0 - $1) }.max()!)
    #expect(top > 0 && error <= 1e-5 * top, "fc1.weight: \(error) of \(top)")
    if steps > 1 {
      let r = store["fc2.weight"].gradients, rr = fc2.weight.gradient.scalars
      let readoutError = Double(zip(r, rr).map { abs($0 - $1) }.max()!)
      #expect(readoutError > 1e-3 * Double(rr.map { abs($0) }.max()!))
    }
  }

  /// §5.5(f): Σ_t L[t] = (1/T)·Σ_t ℓ(o[t]) with ℓ = (1 − α)·CE + α·MSE, and the gradient is
  /// that of the batch mean.
  @Test func mixedLossValueAndGradient() throws {
    var g = Xoshiro256StarStar(seed: 5)
    let b = 6, k = 5, steps = 3, alpha = 0.3
    let labels = (0..<b).map { _ in g.nextIndex(below: k) }
    var total = 0.0, expected = 0.0
    for _ in 0..<steps {
      let z = (0..<(b * k)).map { _ in Float(2 * g.nextNormal()) }
      let logits = Tensor(shape: [b, k], scalars: z)
      let loss = MixedStepLoss(logits: logits, labels: labels, alpha: alpha, steps: steps)
      total += loss.lossSum
      let ce = SoftmaxCrossEntropy(logits: logits, labels: labels, computeGradient: true)
      var mse = 0.0
      for i in 0..<b {
        for j in 0..<k {
          let d = Double(z[i * k + j]) - (j == labels[i] ? 1 : 0)
          mse += d * d
        }
      }
      expected += ((1 - alpha) * ce.lossSum + alpha * mse / Double(k)) / Double(steps)
      // Gradient of the batch mean: (1 − α)·CE gradient + α·2(o − y)/(B·K), over T.
      for i in 0..<b {
        for j in 0..<k {
          let d = Double(z[i * k + j]) - (j == labels[i] ? 1 : 0)
          let want =
            ((1 - alpha) * Double(ce.gradient.scalars[i * k + j])
              + alpha * 2 * d / Double(b * k)) / Double(steps)
          #expect(abs(Double(loss.gradient.scalars[i * k + j]) - want) <= 1e-6)
        }
      }
    }
    #expect(abs(total - expected) <= 1e-9 * expected)
  }

  /// Scaled weight standardization: Ŵ against an independent Float64 formula, and the
  /// backward pass against central differences (ε = 1e-6, Float64).
  @Test func weightStandardizationMatchesFiniteDifferences() throws {
    let rows = 3, fanIn = 7
    var g = Xoshiro256StarStar(seed: 9)
    let w = (0..<(rows * fanIn)).map { _ in Float(0.3 * g.nextNormal() + 0.05) }
    let gain = (0..<rows).map { _ in Float(1 + 0.3 * g.nextNormal()) }
    let r = (0..<(rows * fanIn)).map { _ in g.nextNormal() }
    func standardized(_ w: [Double], _ gain: [Double]) -> [Double] {
      var out = [Double](repeating: 0, count: w.count)
      for i in 0..<rows {
        let row = w[(i * fanIn)..<((i + 1) * fanIn)]
        let mean = row.reduce(0, +) / Double(fanIn)
        let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(fanIn - 1)
        let s = (Double(fanIn) * variance + 1e-4).squareRoot()
        for j in 0..<fanIn { out[i * fanIn + j] = gain[i] * (w[i * fanIn + j] - mean) / s }
      }
      return out
    }
    func objective(_ w: [Double], _ gain: [Double]) -> Double {
      zip(standardized(w, gain), r).map { $0 * $1 }.reduce(0, +)
    }
    var ws = ScaledWeightStandardization(rows: rows, fanIn: fanIn)
    var out = [Float](repeating: 0, count: w.count)
    w.withUnsafeBufferPointer { wp in
      gain.withUnsafeBufferPointer { gp in
        out.withUnsafeMutableBufferPointer { ws.standardize(weights: wp, gain: gp, into: $0) }
      }
    }
    let exact = standardized(w.map(Double.init), gain.map(Double.init))
    for (a, e) in zip(out, exact) { #expect(abs(Double(a) - e) <= 1e-6 * max(1, abs(e))) }
    var gw = [Float](repeating: 0, count: w.count), gg = [Float](repeating: 0, count: rows)
    let upstream = r.map(Float.init)
    upstream.withUnsafeBufferPointer { up in
      gain.withUnsafeBufferPointer { gp in
        gw.withUnsafeMutableBufferPointer { a in
          gg.withUnsafeMutableBufferPointer { c in
            ws.backward(up, gain: gp, gradWeights: a, gradGain: c)
          }
        }
      }
    }
    let eps = 1e-6
    let wd = w.map(Double.init), gd = gain.map(Double.init)
    for i in 0..<wd.count {
      var p = wd, m = wd
      p[i] += eps
      m[i] -= eps
      let fd = (objective(p, gd) - objective(m, gd)) / (2 * eps)
      #expect(abs(Double(gw[i]) - fd) <= 1e-4 * max(1, abs(fd)), "W[\(i)]: \(gw[i]) vs \(fd)")
    }
    for i in 0..<rows {
      var p = gd, m = gd
      p[i] += eps
      m[i] -= eps
      let fd = (objective(wd, p) - objective(wd, m)) / (2 * eps)
      #expect(abs(Double(gg[i]) - fd) <= 1e-4 * max(1, abs(fd)), "g[\(i)]: \(gg[i]) vs \(fd)")
    }
  }

  /// Evaluation changes nothing and predicts with Σ_t o[t]; the online schedule takes T
  /// optimizer steps per batch.
  @Test func evaluationAndSchedules() throws {
    let m = try make("ndot", trace: .paper, steps: 3)
    let batch = MethodTestSupport.batch(count: 12, input: Self.input, classes: 4, seed: 33)
    let before = m.exportState()
    let e = try m.evaluateBatch(
      batch, context: EvaluationContext(batchIndex: 0, random: Xoshiro256StarStar(seed: 1)))
    #expect(m.exportState().isBitIdentical(to: before))
    #expect(e.sampleCount == 12 && e.lossSum > 0)
    let ops = e.operations!
    #expect(ops.neuronUpdates[0] == UInt64(12 * 3 * 4 * 36))
    // Spikes × 2.74 are counted as events: the static image costs MACs, every later layer
    // accumulates only, one per spike and target (fc3 → fc4: 4 targets).
    #expect(ops.multiplyAccumulates[0] > 0 && ops.spikes[2] > 0)
    #expect(ops.multiplyAccumulates[1...].allSatisfy { $0 == 0 })
    #expect(ops.accumulates[3] == ops.spikes[2] * 4)
    _ = try m.trainBatch(batch, context: context(0))
    #expect(m.optimizer.stepCount == 1)
    #expect(!m.exportState().isBitIdentical(to: before))
  }

  /// Evaluation uses Ŵ of the current W and g: after training (the last optimizer step
  /// included) and after a checkpoint restore into a fresh method, both schedules.
  @Test(arguments: ["accumulate", "online"])
  func evaluationAfterTrainingAndRestore(schedule: String) throws {
    let options: [(name: String, value: JSONValue)] = [("update-schedule", JSONValue(schedule))]
    let m = try make("ndot", trace: .paper, steps: 3, options: options)
    let batch = MethodTestSupport.batch(count: 12, input: Self.input, classes: 4, seed: 34)
    for k in 0..<2 { _ = try m.trainBatch(batch, context: context(k)) }
    let evaluation = EvaluationContext(batchIndex: 0, random: Xoshiro256StarStar(seed: 1))
    let trained = try m.evaluateBatch(batch, context: evaluation)
    let restored = try make("ndot", trace: .paper, steps: 3, options: options)
    try restored.restoreState(m.exportState())
    let again = try restored.evaluateBatch(batch, context: evaluation)
    #expect(again.lossSum == trained.lossSum && again.correctCount == trained.correctCount)
  }
}
