import SNNBase
import Testing

@testable import SNNTraining

@Suite struct ParameterStoreTests {
  let mnist = FeatureShape(channels: 1, height: 28, width: 28)

  @Test func layoutFollowsTheModel() throws {
    let store = try ParameterStore(model: ModelSpec.parse("conv", input: mnist), seed: 1)
    #expect(
      store.names == [
        "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc3.weight", "fc3.bias",
        "fc4.weight", "fc4.bias",
      ])
    #expect(store["conv2.weight"].shape == [40, 15, 5, 5])
    #expect(store["conv2.weight"].group == .weight && store["conv2.bias"].group == .bias)
    #expect(store["fc3.bias"].values.allSatisfy { $0 == 0 })
    #expect(store.parameters.allSatisfy { $0.gradients.count == $0.values.count })
    var noBias = try ModelSpec.parse("784-800-10", input: mnist)
    noBias.bias = false
    #expect(try ParameterStore(model: noBias, seed: 1).names == ["fc1.weight", "fc2.weight"])
  }

  @Test func initializationIsSeededPerParameter() throws {
    let spec = try ModelSpec.parse("conv", input: mnist)
    let a = try ParameterStore(model: spec, seed: 42)
    let b = try ParameterStore(model: spec, seed: 42)
    let c = try ParameterStore(model: spec, seed: 43)
    #expect(a.isBitIdentical(to: b))
    #expect(a["conv1.weight"].values != c["conv1.weight"].values)
    // Adding a parameter in front does not change any other parameter's values.
    var d = ParameterStore()
    d.add(
      ParameterDescriptor(
        name: "lif1.b", shape: [1], group: .neuron, initializer: .constant(-1.3863)), seed: 42)
    for p in try spec.analyze().parameterLayout { d.add(p, seed: 42) }
    for p in a.parameters { #expect(d[p.name].values == p.values) }
    #expect(d["lif1.b"].values == [-1.3863])
  }

  @Test func kaimingNormalHasTheRightSpread() throws {
    let store = try ParameterStore(model: ModelSpec.parse("conv", input: mnist), seed: 3)
    let w = store["fc3.weight"].values  // 192,000 values, fan-in 640
    let mean = w.reduce(0.0) { $0 + Double($1) } / Double(w.count)
    let variance =
      w.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(w.count)
    let expected = (2.0 / 640).squareRoot()
    #expect(abs(mean) < 0.01 * expected * 10)
    #expect(abs(variance.squareRoot() / expected - 1) < 0.01)

    var values = [Float](repeating: 0, count: 100_000)
    var g = Xoshiro256StarStar(seed: 5)
    ParameterInitializer.kaimingUniform(gain: (1.0 / 3).squareRoot(), mode: .fanIn).fill(
      &values, fanIn: 100, fanOut: 1, using: &g)
    #expect(values.allSatisfy { abs($0) <= 0.1 })  // bound 1/√fanIn
    #expect(values.max()! > 0.099 && values.min()! < -0.099)
  }

  @Test func blobsRoundTripAndStrictLoading() throws {
    let spec = try ModelSpec.parse("784-30-10", input: mnist)
    let source = try ParameterStore(model: spec, seed: 1)
    var target = try ParameterStore(model: spec, seed: 2)
    #expect(!target.isBitIdentical(to: source))
    try target.load(source.blobs())
    #expect(target.isBitIdentical(to: source))

    let before = try ParameterStore(model: spec, seed: 2)
    var store = before
    var blobs = source.blobs()
    let removed = blobs.remove(at: 2)
    #expect(throws: CheckpointError.self) { try store.load(blobs) }
    do {
      try store.load(blobs)
    } catch {
      #expect(error.kind == .missingBlob && error.field == "blob '\(removed.name)'")
    }
    #expect(store == before)  // nothing half-loaded

    blobs = source.blobs()
    blobs[1] = TensorBlob(
      name: blobs[1].name, shape: [3, 10], values: [Float](repeating: 0, count: 30))
    do {
      try store.load(blobs)
      Issue.record("expected an error")
    } catch {
      #expect(error.kind == .incompatible && error.expected == "shape [30]")
    }
    blobs = source.blobs() + [TensorBlob(name: "param/fc9.weight", shape: [1], values: [0])]
    do {
      try store.load(blobs)
      Issue.record("expected an error")
    } catch {
      #expect(error.kind == .unexpectedBlob && error.field == "blob 'param/fc9.weight'")
    }
    #expect(store == before)
  }

  @Test func gradientNormAndScaling() {
    var store = ParameterStore()
    store.add(
      ParameterDescriptor(name: "a", shape: [2], group: .weight, initializer: .zeros),
      values: [0, 0])
    store.add(
      ParameterDescriptor(name: "b", shape: [1], group: .bias, initializer: .zeros), values: [0])
    store[0].gradients = [3, 0]
    store[1].gradients = [4]
    #expect(store.gradientNorm() == 5)
    store.scaleGradients(by: 0.5)
    #expect(store[0].gradients == [1.5, 0] && store[1].gradients == [2])
    store.zeroGradients()
    #expect(store.gradientNorm() == 0)
  }
}

@Suite struct OptimizerTests {
  /// One scalar weight in group `weight` (value 1) and one in group `bias` (value 1).
  func store(gradient: Float = 0.5) -> ParameterStore {
    var s = ParameterStore()
    s.add(
      ParameterDescriptor(name: "w", shape: [1], group: .weight, initializer: .zeros), values: [1])
    s.add(
      ParameterDescriptor(name: "b", shape: [1], group: .bias, initializer: .zeros), values: [1])
    s[0].gradients = [gradient]
    s[1].gradients = [gradient]
    return s
  }

  @Test func sgdWithMomentumAndWeightDecay() {
    var s = store()
    var o = ParameterOptimizer(
      settings: OptimizerSettings(kind: .sgd, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01),
      parameters: s)
    o.step(&s, learningRate: 0.1)
    // d = 0.5 + 0.01·1 = 0.51; b = 0.51; w = 1 − 0.051.
    #expect(abs(s[0].values[0] - 0.949) < 1e-6)
    #expect(abs(s[1].values[0] - 0.95) < 1e-6)  // bias: no decay
    o.step(&s, learningRate: 0.1)
    // d = 0.5 + 0.00949; b = 0.9·0.51 + 0.50949 = 0.96849; w = 0.949 − 0.096849.
    #expect(abs(s[0].values[0] - 0.852151) < 1e-6)
    #expect(o.stepCount == 2)

    var n = store()
    var nesterov = ParameterOptimizer(
      settings: OptimizerSettings(
        kind: .sgd, learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01),
      parameters: n)
    nesterov.step(&n, learningRate: 0.1)
    // b = 0.51; d = 0.51 + 0.9·0.51 = 0.969.
    #expect(abs(n[0].values[0] - 0.9031) < 1e-6)

    var plain = store()
    var p = ParameterOptimizer(
      settings: OptimizerSettings(kind: .sgd, learningRate: 0.1, momentum: 0), parameters: plain)
    p.step(&plain, learningRate: 0.2)
    #expect(abs(plain[0].values[0] - 0.9) < 1e-6)
    #expect(p.stateBlobs.isEmpty)
  }

  @Test func adamAndAdamW() {
    var s = store()
    var adam = ParameterOptimizer(
      settings: OptimizerSettings(kind: .adam, learningRate: 0.001, weightDecay: 0.01),
      parameters: s)
    adam.step(&s, learningRate: 0.001)
    // First bias-corrected step moves by lr·d/(|d| + ε) ≈ lr.
    #expect(abs(s[0].values[0] - 0.999) < 1e-6)
    var w = store()
    var adamw = ParameterOptimizer(
      settings: OptimizerSettings(kind: .adamw, learningRate: 0.001, weightDecay: 0.01),
      parameters: w)
    adamw.step(&w, learningRate: 0.001)
    let decayed: Float = 1 - 0.001 * 0.01 - 0.001
    #expect(abs(w[0].values[0] - decayed) < 1e-6)
    #expect(abs(w[1].values[0] - 0.999) < 1e-6)
    // Second step with a reversed gradient: m = 0.9·0.05·... checked against the formula.
    w[0].gradients = [-0.5]
    let before = w[0].values[0]
    adamw.step(&w, learningRate: 0.001)
    let m = 0.9 * (0.1 * 0.5) + 0.1 * -0.5
    let v = 0.999 * (0.001 * 0.25) + 0.001 * 0.25
    let expected =
      Double(before) * (1 - 0.001 * 0.01)
      - (0.001 / (1 - 0.81)) * m / ((v).squareRoot() / (1 - 0.998001).squareRoot() + 1e-8)
    #expect(abs(Double(w[0].values[0]) - expected) < 1e-6)
  }

  /// Two-step reference values worked out by hand from PyTorch's update rules (moved here
  /// from the former SNNTensor optimizer tests when the optimizers were unified).
  @Test func twoStepReferenceValues() {
    func run(_ settings: OptimizerSettings, _ gradients: [Float]) -> [Float] {
      var s = ParameterStore()
      s.add(
        ParameterDescriptor(name: "w", shape: [1], group: .weight, initializer: .zeros),
        values: [1])
      var o = ParameterOptimizer(settings: settings, parameters: s)
      var out: [Float] = []
      for g in gradients {
        s[0].gradients = [g]
        o.step(&s, learningRate: settings.learningRate)
        out.append(s[0].values[0])
      }
      return out
    }
    func near(_ a: [Float], _ b: [Double]) -> Bool {
      a.count == b.count && zip(a, b).allSatisfy { abs(Double($0) - $1) <= 1e-6 }
    }
    // Nesterov: u1 = 0.51 + 0.9·0.51 = 0.969 → 0.9031; d2 = 0.509031, b2 = 0.968031,
    // u2 = 0.509031 + 0.9·0.968031 = 1.3802589 → 0.76507411.
    #expect(
      near(
        run(
          OptimizerSettings(
            kind: .sgd, learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01),
          [0.5, 0.5]), [0.9031, 0.76507411]))
    // Adam: step 1 moves by η·sign(g); step 2: m = 0.07, v = 3.1225e-4, m̂ = 0.07/0.19,
    // v̂ = 3.1225e-4/0.001999 → w = 0.9 − 0.1·0.368421/0.395225 = 0.8067820.
    #expect(
      near(run(OptimizerSettings(kind: .adam, learningRate: 0.1), [0.5, 0.25]), [0.9, 0.8067820]))
    // Adam with coupled L2: g' = g + 0.1·w: 0.6 then 0.34 → 0.9, 0.8050098.
    #expect(
      near(
        run(OptimizerSettings(kind: .adam, learningRate: 0.1, weightDecay: 0.1), [0.5, 0.25]),
        [0.9, 0.8050098]))
    // AdamW: w·(1 − 0.01) before each Adam step: 0.99 − 0.1 = 0.89; 0.8811 − 0.0932180.
    #expect(
      near(
        run(OptimizerSettings(kind: .adamw, learningRate: 0.1, weightDecay: 0.1), [0.5, 0.25]),
        [0.89, 0.7878820]))
  }

  @Test func gradientClipping() {
    var s = ParameterStore()
    s.add(
      ParameterDescriptor(name: "w", shape: [2], group: .bias, initializer: .zeros), values: [0, 0])
    s[0].gradients = [3, 4]
    var o = ParameterOptimizer(
      settings: OptimizerSettings(kind: .sgd, learningRate: 1, momentum: 0, gradientClipNorm: 1),
      parameters: s)
    let norm = o.step(&s, learningRate: 1)
    #expect(norm == 5)
    #expect(abs(s[0].values[0] + 0.6) < 1e-5 && abs(s[0].values[1] + 0.8) < 1e-5)
  }

  @Test func stateRoundTripContinuesBitForBit() throws {
    for kind in OptimizerSettings.Kind.allCases {
      let settings = OptimizerSettings(kind: kind, learningRate: 0.01, weightDecay: 0.1)
      var a = store()
      var oa = ParameterOptimizer(settings: settings, parameters: a)
      for i in 0..<3 {
        a[0].gradients = [Float(i) - 0.7]
        oa.step(&a, learningRate: 0.01)
      }
      var b = a
      var ob = ParameterOptimizer(settings: settings, parameters: b)
      try ob.restore(blobs: oa.stateBlobs, json: oa.stateJSON, field: "optimizer")
      for i in 0..<2 {
        a[0].gradients = [0.3 * Float(i)]
        b[0].gradients = [0.3 * Float(i)]
        oa.step(&a, learningRate: 0.01)
        ob.step(&b, learningRate: 0.01)
      }
      #expect(a.isBitIdentical(to: b), "\(kind)")
      // Without the restored state the continuation differs (the check can fail).
      var c = a
      var oc = ParameterOptimizer(settings: settings, parameters: c)
      c[0].gradients = [0.3]
      a[0].gradients = [0.3]
      oc.step(&c, learningRate: 0.01)
      oa.step(&a, learningRate: 0.01)
      #expect(!a.isBitIdentical(to: c), "\(kind)")
    }
  }

  @Test func restoreRejectsMismatchedState() {
    let s = store()
    let adam = ParameterOptimizer(settings: OptimizerSettings(kind: .adam), parameters: s)
    var sgd = ParameterOptimizer(settings: OptimizerSettings(kind: .sgd), parameters: s)
    do {
      try sgd.restore(blobs: adam.stateBlobs, json: adam.stateJSON, field: "opt")
      Issue.record("expected an error")
    } catch {
      #expect(error.kind == .incompatible && error.field == "opt.kind")
    }
    let other = ParameterOptimizer(settings: OptimizerSettings(kind: .sgd), parameters: s)
    var blobs = other.stateBlobs
    blobs.removeLast()
    do {
      try sgd.restore(blobs: blobs, json: other.stateJSON, field: "opt")
      Issue.record("expected an error")
    } catch {
      #expect(error.kind == .missingBlob && error.field == "blob 'optimizer/b.momentum'")
    }
    do {
      try sgd.restore(
        blobs: other.stateBlobs + adam.stateBlobs, json: other.stateJSON, field: "opt")
      Issue.record("expected an error")
    } catch {
      #expect(error.kind == .unexpectedBlob)
    }
  }

  @Test func schedules() {
    let cosine = OptimizerSettings(learningRate: 0.1, schedule: .cosine(minimum: 0))
    #expect(cosine.learningRate(epoch: 0, of: 10, step: 500) == 0.1)
    #expect(abs(cosine.learningRate(epoch: 5, of: 10, step: 500) - 0.05) < 1e-15)
    #expect(cosine.learningRate(epoch: 9, of: 10, step: 500) < 0.003)
    let step = OptimizerSettings(
      learningRate: 0.1, schedule: .step(milestones: [20, 40], gamma: 0.1))
    #expect(step.learningRate(epoch: 19, of: 60, step: 0) == 0.1)
    #expect(abs(step.learningRate(epoch: 20, of: 60, step: 0) - 0.01) < 1e-15)
    #expect(abs(step.learningRate(epoch: 59, of: 60, step: 0) - 0.001) < 1e-15)
    let warm = OptimizerSettings(learningRate: 0.4, schedule: .constant, warmupSteps: 4)
    #expect(warm.learningRate(epoch: 0, of: 1, step: 0) == 0.1)
    #expect(warm.learningRate(epoch: 0, of: 1, step: 3) == 0.4)
    #expect(warm.learningRate(epoch: 0, of: 1, step: 100) == 0.4)
  }

  @Test func settingsValidateAndRoundTrip() throws {
    let settings = OptimizerSettings(
      kind: .adamw, learningRate: 5e-4, weightDecay: 5e-4,
      schedule: .step(milestones: [3, 6], gamma: 0.5),
      warmupSteps: 10, gradientClipNorm: 1, weightDecayGroups: [.weight, .normalization])
    try settings.validate(epochs: 10)
    #expect(
      try OptimizerSettings(json: JSONValue.parse(settings.json.description), field: "o")
        == settings)
    #expect(throws: ConfigurationError.self) {
      try OptimizerSettings(learningRate: 0).validate(epochs: 1)
    }
    #expect(throws: ConfigurationError.self) {
      try OptimizerSettings(momentum: 1).validate(epochs: 1)
    }
    #expect(throws: ConfigurationError.self) {
      try OptimizerSettings(schedule: .step(milestones: [5, 3], gamma: 0.1)).validate(epochs: 10)
    }
    #expect(throws: ConfigurationError.self) {
      try OptimizerSettings(schedule: .step(milestones: [], gamma: 0.1)).validate(epochs: 10)
    }
    #expect(throws: ConfigurationError.self) {
      try OptimizerSettings(kind: .adam, nesterov: true).validate(epochs: 1)
    }
  }
}
