import SNNBase
import Testing

@testable import SNNTensor

/// `Linear` with the output-major weight (`[out, in]`, as `ModelSpec` and PyTorch store it)
/// computes what the input-major layer computes with the transposed weight, on the dense
/// path and on the spike-kernel path.
@Suite struct LinearLayoutTests {
  @Test(arguments: [false, true])
  func outputMajorMatchesInputMajor(spikes: Bool) {
    let (rows, nIn, nOut) = (24, 40, 70)
    var g = SplitMix64(seed: 1)
    let a = Linear(name: "a", inFeatures: nIn, outFeatures: nOut, using: &g)
    let b = Linear(
      name: "b", inFeatures: nIn, outFeatures: nOut, weightLayout: .outputMajor, using: &g)
    #expect(b.weight.value.shape == [nOut, nIn])
    // b's weight is a's transposed; same bias.
    for i in 0..<nIn { for o in 0..<nOut { b.weight.value[o, i] = a.weight.value[i, o] } }
    b.bias!.value = a.bias!.value
    var r = Xoshiro256StarStar(seed: 2)
    let x: Tensor
    if spikes {
      x = Tensor(shape: [2, rows / 2, nIn], generating: { _ in r.nextUnitDouble() < 0.05 ? 1 : 0 })
    } else {
      x = randomTensor([2, rows / 2, nIn], seed: 3)
    }
    let ya = a.forward(x), yb = b.forward(x)
    #expect(a.usedSpikeKernel == spikes && b.usedSpikeKernel == spikes)
    #expect(ya.maxAbsoluteDifference(yb) < 1e-5)
    let gy = randomTensor(ya.shape, seed: 4)
    // Accumulate onto a nonzero gradient to check that backward adds.
    a.weight.gradient.fill(0.5)
    b.weight.gradient.fill(0.5)
    let gxa = a.backward(gy), gxb = b.backward(gy)
    #expect(gxa.maxAbsoluteDifference(gxb) < 1e-5)
    var worst: Float = 0
    for i in 0..<nIn {
      for o in 0..<nOut {
        worst = max(worst, abs(a.weight.gradient[i, o] - b.weight.gradient[o, i]))
      }
    }
    #expect(worst < 1e-4)
    #expect(a.bias!.gradient.maxAbsoluteDifference(b.bias!.gradient) < 1e-5)
  }

  @Test func swapScalarsExchangesBuffersWithoutCopying() {
    var t = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
    var other: [Float] = [5, 6, 7, 8]
    let address = other.withUnsafeBufferPointer { $0.baseAddress }
    t.swapScalars(with: &other)
    #expect(t.scalars == [5, 6, 7, 8] && other == [1, 2, 3, 4] && t.shape == [2, 2])
    #expect(t.withUnsafeBufferPointer { $0.baseAddress } == address)
  }
}

/// The eight-lane `Float` LIF loops against the scalar recurrence written out here: the same
/// operations in the same order, so H, S, V and the backward outputs agree bit for bit.
@Suite struct LIFFloatSIMDTests {
  @Test(arguments: [true, false], [false, true])
  func simdLoopsEqualTheScalarRecurrence(hard: Bool, staticInput: Bool) {
    let steps = 4, n = 203  // not a multiple of 8: the scalar tail runs too
    let kernel = LIFKernel<Float>(
      decay: 0.5, inputScale: 0.5, vThreshold: 1, vReset: 0.1, hardReset: hard,
      detachReset: false, detachMembrane: false, surrogate: Surrogate.sigmoid(alpha: 4).kernel())
    var g = Xoshiro256StarStar(seed: 31)
    let x = (0..<((staticInput ? 1 : steps) * n)).map { _ in Float(2 * g.nextNormal() + 1) }
    let gy = (0..<(steps * n)).map { _ in Float(g.nextNormal()) }
    var v = [Float](repeating: 0.1, count: n)
    var h = [Float](repeating: 0, count: steps * n), s = h
    _ = kernel.forward(
      steps: steps, stride: n, range: 0..<n, input: x, membrane: &v, potential: &h, spikes: &s,
      countWindow: false, inputIsStatic: staticInput)
    // Scalar reference.
    var rv = [Float](repeating: 0.1, count: n)
    var rh = h, rs = s
    for t in 0..<steps {
      for i in 0..<n {
        let hv = 0.5 * rv[i] + 0.5 * x[(staticInput ? 0 : t) * n + i]
        let fired = hv >= 1
        rh[t * n + i] = hv
        rs[t * n + i] = fired ? 1 : 0
        rv[i] = fired ? (hard ? 0.1 : hv - 1) : hv
      }
    }
    #expect(h == rh && s == rs && v == rv)
    #expect(s.contains(1) && s.contains(0))
    var gv = [Float](repeating: 0, count: n)
    var gi = [Float](repeating: 0, count: (staticInput ? 1 : steps) * n)
    let v0 = [Float](repeating: 0.1, count: n)
    _ = kernel.backward(
      steps: steps, stride: n, range: 0..<n, gradSpikes: gy, potential: h, spikes: s,
      initialMembrane: v0, gradMembrane: &gv, gradInput: &gi, leakGradient: false,
      inputIsStatic: staticInput)
    var rgv = [Float](repeating: 0, count: n)
    var rgi = [Float](repeating: 0, count: (staticInput ? 1 : steps) * n)
    for t in stride(from: steps - 1, through: 0, by: -1) {
      for i in 0..<n {
        let hv = rh[t * n + i], sv = rs[t * n + i], gV = rgv[i]
        let sg = SurrogateKernel<Float>.sigmoidDerivative(hv - 1, 4)
        let gS = hard ? gy[t * n + i] + gV * (0.1 - hv) : gy[t * n + i] - gV * 1
        let gH = hard ? gS * sg + gV * (1 - sv) : gS * sg + gV
        if staticInput {
          rgi[i] = t == steps - 1 ? 0.5 * gH : rgi[i] + 0.5 * gH
        } else {
          rgi[t * n + i] = 0.5 * gH
        }
        rgv[i] = 0.5 * gH
      }
    }
    #expect(gi == rgi && gv == rgv)
  }
}
