import SNNBase
import Testing

@testable import SNNTensor

@Suite struct OptimizerTests {
  func parameter(_ value: Float, role: Parameter.Role = .weight) -> Parameter {
    Parameter(name: "p", role: role, value: Tensor(shape: [1], scalars: [value]))
  }

  func run(_ opt: some Optimizer, _ p: Parameter, gradients: [Float]) -> [Float] {
    var out: [Float] = []
    for g in gradients {
      p.gradient = Tensor(shape: [1], scalars: [g])
      opt.step()
      out.append(p.value.scalars[0])
    }
    return out
  }

  func near(_ a: [Float], _ b: [Double], _ tol: Double = 1e-6) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs(Double($0) - $1) <= tol }
  }

  @Test func sgdPlain() {
    let p = parameter(1)
    // w ← w − η(g + λw): 1 − 0.1·(0.5 + 0.01) = 0.949; 0.949 − 0.1·(0.5 + 0.00949) = 0.898051
    let w = run(
      SGD(parameters: [p], learningRate: 0.1, weightDecay: 0.01), p, gradients: [0.5, 0.5])
    #expect(near(w, [0.949, 0.898051]))
  }

  @Test func sgdMomentum() {
    let p = parameter(1)
    // b1 = 0.51, w = 0.949; d2 = 0.50949, b2 = 0.9·0.51 + 0.50949 = 0.96849, w = 0.852151
    let opt = SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
    #expect(near(run(opt, p, gradients: [0.5, 0.5]), [0.949, 0.852151]))
  }

  @Test func sgdNesterov() {
    let p = parameter(1)
    // u1 = 0.51 + 0.9·0.51 = 0.969 → 0.9031; d2 = 0.509031, b2 = 0.968031,
    // u2 = 0.509031 + 0.9·0.968031 = 1.3802589 → 0.76507411
    let opt = SGD(
      parameters: [p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true)
    #expect(near(run(opt, p, gradients: [0.5, 0.5]), [0.9031, 0.76507411]))
  }

  @Test func adam() {
    // Step 1 moves by η·sign(g); step 2: m = 0.07, v = 3.1225e-4, m̂ = 0.07/0.19,
    // v̂ = 3.1225e-4/0.001999 → w = 0.9 − 0.1·0.368421/0.395225 = 0.8067820.
    let p = parameter(1)
    let opt = Adam(groups: [ParameterGroup(parameters: [p])], learningRate: 0.1)
    #expect(near(run(opt, p, gradients: [0.5, 0.25]), [0.9, 0.8067820]))
  }

  @Test func adamCoupledWeightDecay() {
    // g' = g + 0.1·w: 0.6 then 0.34 → 0.9, 0.8050098.
    let p = parameter(1)
    let opt = Adam(groups: [ParameterGroup(parameters: [p], weightDecay: 0.1)], learningRate: 0.1)
    #expect(near(run(opt, p, gradients: [0.5, 0.25]), [0.9, 0.8050098]))
  }

  @Test func adamWDecoupledWeightDecay() {
    // w·(1 − 0.01) before each Adam step: 0.99 − 0.1 = 0.89; 0.8811 − 0.0932180 = 0.7878820.
    let p = parameter(1)
    let opt = Adam.adamW(
      groups: [ParameterGroup(parameters: [p], weightDecay: 0.1)], learningRate: 0.1)
    #expect(near(run(opt, p, gradients: [0.5, 0.25]), [0.89, 0.7878820]))
  }

  @Test func groupsApplyTheirOwnOptions() {
    let w = parameter(1), bn = parameter(1, role: .normalization), b = parameter(1, role: .neuron)
    let groups = ParameterGroup.split([w, bn, b], weightDecay: 0.5)
    #expect(groups[0].parameters.count == 1 && groups[1].parameters.count == 2)
    var gs = groups
    gs[1].learningRateScale = 2
    let opt = SGD(groups: gs, learningRate: 0.1)
    for p in [w, bn, b] { p.gradient = Tensor(shape: [1], scalars: [1]) }
    opt.step()
    #expect(abs(w.value[0] - (1 - 0.1 * 1.5)) < 1e-7)  // decayed
    #expect(abs(bn.value[0] - (1 - 0.2)) < 1e-7)  // no decay, doubled rate
    #expect(abs(b.value[0] - (1 - 0.2)) < 1e-7)
  }

  func makeParameters(seed: UInt64) -> [Parameter] {
    [
      Parameter(name: "a", role: .weight, value: randomTensor([3, 4], seed: seed)),
      Parameter(name: "b", role: .bias, value: randomTensor([4], seed: seed + 1)),
    ]
  }

  func train(_ opt: some Optimizer, _ params: [Parameter], steps: Range<Int>) {
    for s in steps {
      for (i, p) in params.enumerated() {
        p.gradient = randomTensor(p.value.shape, seed: UInt64(1000 + 10 * s + i))
      }
      opt.step()
    }
  }

  @Test(arguments: ["sgd", "adam", "adamw"])
  func exportImportResumesBitForBit(kind: String) throws {
    func make(_ ps: [Parameter]) -> any Optimizer {
      let groups = ParameterGroup.split(ps, weightDecay: 0.01)
      switch kind {
      case "sgd": return SGD(groups: groups, learningRate: 0.05, momentum: 0.9, nesterov: true)
      case "adam": return Adam(groups: groups, learningRate: 0.01)
      default: return Adam.adamW(groups: groups, learningRate: 0.01)
      }
    }
    let pa = makeParameters(seed: 1)
    let a = make(pa)
    train(a, pa, steps: 0..<3)
    let state = a.exportState()
    let values = pa.map(\.value)
    train(a, pa, steps: 3..<6)
    // Resume in a fresh optimizer from the checkpointed values and state.
    let pb = makeParameters(seed: 1)
    for (p, v) in zip(pb, values) { p.value = v }
    let b = make(pb)
    try b.importState(state)
    #expect(b.stepCount == 3)
    train(b, pb, steps: 3..<6)
    for (x, y) in zip(pa, pb) { #expect(x.value == y.value) }
    #expect(a.exportState() == b.exportState())
  }

  @Test func importRejectsMismatchedState() {
    let ps = makeParameters(seed: 2)
    let sgd = SGD(parameters: ps, learningRate: 0.1, momentum: 0.9)
    let adam = Adam(groups: [ParameterGroup(parameters: ps)])
    #expect(throws: OptimizerStateError.kindMismatch(expected: "sgd", found: "adam")) {
      try sgd.importState(adam.exportState())
    }
    var state = sgd.exportState()
    state.buffers[1].removeLast()
    #expect(throws: OptimizerStateError.bufferSize(index: 1, expected: 4, found: 3)) {
      try sgd.importState(state)
    }
    state.buffers.removeLast()
    #expect(throws: OptimizerStateError.bufferCount(expected: 2, found: 1)) {
      try sgd.importState(state)
    }
  }

  @Test func clippingScalesToTheMaximumNorm() {
    let a = parameter(0), b = parameter(0)
    a.gradient = Tensor(shape: [1], scalars: [3])
    b.gradient = Tensor(shape: [1], scalars: [4])
    #expect(GradientClipping.globalNorm([a, b]) == 5)
    let before = GradientClipping.clipGlobalNorm([a, b], maxNorm: 1)
    #expect(before == 5)
    #expect(abs(a.gradient[0] - 0.6) < 1e-6 && abs(b.gradient[0] - 0.8) < 1e-6)
    // Below the maximum nothing changes.
    GradientClipping.clipGlobalNorm([a, b], maxNorm: 10)
    #expect(abs(a.gradient[0] - 0.6) < 1e-6)
  }

  @Test func schedules() {
    let step = LearningRateSchedule.step(base: 0.1, milestones: [2, 4], gamma: 0.1)
    let s = (0..<6).map { Double(step.learningRate(at: $0)) }
    #expect(zip(s, [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]).allSatisfy { abs($0 - $1) < 1e-8 })

    let cosine = LearningRateSchedule.cosine(base: 1, periods: 4)
    let c = (0..<6).map { Double(cosine.learningRate(at: $0)) }
    #expect(zip(c, [1, 0.8535534, 0.5, 0.1464466, 0, 0]).allSatisfy { abs($0 - $1) < 1e-6 })
    #expect(
      abs(LearningRateSchedule.cosine(base: 1, periods: 4, floor: 0.1).learningRate(at: 2) - 0.55)
        < 1e-6)

    let warm = LearningRateSchedule.warmup(steps: 2, startFactor: 0.1, then: cosine)
    let w = (0..<5).map { Double(warm.learningRate(at: $0)) }
    #expect(zip(w, [0.1, 0.55, 1, 0.8535534, 0.5]).allSatisfy { abs($0 - $1) < 1e-6 })
    #expect(LearningRateSchedule.constant(0.3).learningRate(at: 99) == 0.3)
  }
}
