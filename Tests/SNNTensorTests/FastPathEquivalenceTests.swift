import SNNBase
import Testing

@testable import SNNTensor

/// The two optimizations that keep the mathematics identical give the plain path's results
/// up to Float32 summation order: tolerances are 1e-5 relative to each tensor's scale
/// (sums of at most a few hundred terms of comparable size).
@Suite struct FastPathEquivalenceTests {
  func relativeDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.count == b.count)
    let scale = max(a.scalars.map(abs).max() ?? 0, 1e-30)
    var d: Float = 0
    for i in 0..<a.count { d = max(d, abs(a.scalars[i] - b.scalars[i])) }
    return d / scale
  }

  @Test func linearStaticInputEqualsRepeatedInput() {
    let steps = 6, batch = 5
    var g1 = Xoshiro256StarStar(seed: 1), g2 = Xoshiro256StarStar(seed: 1)
    let plain = Linear(inFeatures: 30, outFeatures: 20, using: &g1)
    let fast = Linear(inFeatures: 30, outFeatures: 20, using: &g2)
    let x = randomTensor([batch, 30], seed: 2)
    let gy = randomTensor([steps, batch, 20], seed: 3)
    let yPlain = plain.forward(x.repeatedOverTime(steps))
    let yFast = fast.forwardStatic(x, steps: steps)
    #expect(yFast.shape == yPlain.shape)
    #expect(relativeDifference(yFast, yPlain) < 1e-6)
    let gxPlain = plain.backward(gy)
    let gxFast = fast.backward(gy)
    #expect(gxFast.shape == [batch, 30])
    #expect(relativeDifference(gxFast, gxPlain.summedOverTime()) < 1e-5)
    #expect(relativeDifference(fast.weight.gradient, plain.weight.gradient) < 1e-5)
    #expect(relativeDifference(fast.bias!.gradient, plain.bias!.gradient) < 1e-5)
  }

  @Test func conv2dStaticInputEqualsRepeatedInput() {
    let steps = 4, batch = 3
    var g1 = Xoshiro256StarStar(seed: 4), g2 = Xoshiro256StarStar(seed: 4)
    let plain = Conv2d(inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1, using: &g1)
    let fast = Conv2d(inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1, using: &g2)
    let x = randomTensor([batch, 2, 8, 8], seed: 5)
    let gy = randomTensor([steps, batch, 4, 8, 8], seed: 6)
    let yPlain = plain.forward(x.repeatedOverTime(steps))
    let yFast = fast.forwardStatic(x, steps: steps)
    #expect(yFast.shape == yPlain.shape)
    #expect(relativeDifference(yFast, yPlain) < 1e-6)
    let gxPlain = plain.backward(gy)
    let gxFast = fast.backward(gy)
    #expect(relativeDifference(gxFast, gxPlain.summedOverTime()) < 1e-5)
    #expect(relativeDifference(fast.weight.gradient, plain.weight.gradient) < 1e-5)
    #expect(relativeDifference(fast.bias!.gradient, plain.bias!.gradient) < 1e-5)
  }

  func spikes(_ shape: [Int], density: Double, seed: UInt64) -> Tensor {
    var g = Xoshiro256StarStar(seed: seed)
    return Tensor(shape: shape, generating: { _ in g.nextUnitDouble() < density ? 1 : 0 })
  }

  @Test func linearSpikeKernelEqualsDenseKernel() {
    var g1 = Xoshiro256StarStar(seed: 7), g2 = Xoshiro256StarStar(seed: 7)
    let dense = Linear(inFeatures: 200, outFeatures: 30, using: &g1)
    dense.spikeInputPolicy = .dense
    let sparse = Linear(inFeatures: 200, outFeatures: 30, using: &g2)
    let x = spikes([4, 6, 200], density: 0.05, seed: 8)
    let gy = randomTensor([4, 6, 30], seed: 9)
    let yd = dense.forward(x), ys = sparse.forward(x)
    #expect(sparse.usedSpikeKernel && !dense.usedSpikeKernel)
    #expect(abs(sparse.lastInputDensity! - x.nonzeroFraction) < 1e-12)
    #expect(relativeDifference(ys, yd) < 1e-5)
    let gxd = dense.backward(gy), gxs = sparse.backward(gy)
    #expect(relativeDifference(gxs, gxd) < 1e-6)
    #expect(relativeDifference(sparse.weight.gradient, dense.weight.gradient) < 1e-5)
    #expect(relativeDifference(sparse.bias!.gradient, dense.bias!.gradient) < 1e-6)
  }

  @Test func spikeKernelIsChosenByDensityAndBinarity() {
    var g = Xoshiro256StarStar(seed: 10)
    let layer = Linear(inFeatures: 100, outFeatures: 10, using: &g)
    let crossover = SpikeGEMM.crossoverDensity
    _ = layer.forward(spikes([2, 4, 100], density: min(1, crossover * 3 + 0.05), seed: 11))
    #expect(!layer.usedSpikeKernel && layer.lastInputDensity != nil)
    _ = layer.forward(spikes([2, 4, 100], density: crossover / 4, seed: 12))
    #expect(layer.usedSpikeKernel)
    var analog = spikes([2, 4, 100], density: 0.01, seed: 13)
    analog[flat: 5] = 0.5  // one non-binary value rules the spike kernels out
    _ = layer.forward(analog)
    #expect(!layer.usedSpikeKernel && layer.lastInputDensity == nil)
  }

  @Test func lifFeedsSparseSpikesToTheNextLinear() {
    // End to end: LIF output is binary, so the next Linear measures and uses it.
    var g = Xoshiro256StarStar(seed: 14)
    let lif = LIF(charge: .leaky(lambda: 0.5), vThreshold: 1, reset: .soft)
    let fc = Linear(inFeatures: 50, outFeatures: 5, using: &g)
    let s = lif.forward(randomTensor([4, 8, 50], seed: 15, scale: 0.4, offset: 0.1))
    _ = fc.forward(s)
    #expect(fc.lastInputDensity != nil)
    #expect(abs(fc.lastInputDensity! - lif.spikeRate) < 1e-12)
  }
}

@Suite struct StaticCurrentTests {
  @Test(arguments: [LIF.Reset.soft, .hard], [false, true])
  func lifStaticCurrentEqualsRepeatedCurrent(reset: LIF.Reset, learnable: Bool) {
    let steps = 5, batch = 3, n = 3000  // several blocks and thread chunks
    let current = randomTensor([batch, n], seed: 61, scale: 0.5, offset: 0.4)
    let gy = randomTensor([steps, batch, n], seed: 62)
    func make() -> LIF {
      LIF(
        charge: learnable ? .learnableLeak(initialBeta: 0.3) : .leaky(lambda: 0.6), vThreshold: 1,
        reset: reset, surrogate: .sigmoid(alpha: 4), threads: 2)
    }
    let plain = make(), fast = make()
    let sPlain = plain.forward(current.repeatedOverTime(steps))
    let sFast = fast.forward(staticCurrent: current, steps: steps)
    #expect(sFast == sPlain)
    #expect(fast.potential == plain.potential)
    let gPlain = plain.backward(gy), gFast = fast.backward(gy)
    #expect(gFast.shape == [batch, n])
    let summed = gPlain.summedOverTime()
    let scale = summed.scalars.map(abs).max()!
    #expect(gFast.maxAbsoluteDifference(summed) <= 1e-6 * scale)
    if learnable {
      let a = plain.leakLogit!.gradient[0], b = fast.leakLogit!.gradient[0]
      #expect(abs(a - b) <= 1e-5 * abs(a), "\(a) vs \(b)")
    }
  }

  @Test func staticConvNetworkEqualsPlainNetwork() {
    // conv (static image, computed once) → LIF(static current) → backward into the conv,
    // against the plain time-major path.
    let steps = 4, batch = 2
    var g1 = Xoshiro256StarStar(seed: 63), g2 = Xoshiro256StarStar(seed: 63)
    let convA = Conv2d(
      inChannels: 1, outChannels: 3, kernelSize: 3, initializer: .kaimingNormal(), using: &g1)
    let convB = Conv2d(
      inChannels: 1, outChannels: 3, kernelSize: 3, initializer: .kaimingNormal(), using: &g2)
    let lifA = LIF(charge: .leaky(lambda: 0.5), reset: .soft),
      lifB = LIF(charge: .leaky(lambda: 0.5), reset: .soft)
    let image = randomTensor([batch, 1, 8, 8], seed: 64, scale: 1, offset: 0.5)
    let sA = lifA.forward(convA.forward(image.repeatedOverTime(steps)))
    let sB = lifB.forward(staticCurrent: convB.forward(image), steps: steps)
    #expect(sA == sB)
    #expect(sA.nonzeroFraction > 0.05)
    let gy = randomTensor(sA.shape, seed: 65)
    _ = convA.backward(lifA.backward(gy))
    _ = convB.backward(lifB.backward(gy))
    let scale = convA.weight.gradient.scalars.map(abs).max()!
    #expect(convA.weight.gradient.maxAbsoluteDifference(convB.weight.gradient) <= 1e-5 * scale)
  }

  /// A gradient that is the same at every step (a readout averaged over time) given once
  /// gives exactly what T copies give, for each surrogate, reset and a learnable leak.
  @Test(arguments: [LIF.Reset.soft, .hard], [false, true])
  func lifTimeConstantGradientEqualsRepeatedGradient(reset: LIF.Reset, learnable: Bool) {
    let steps = 5, batch = 3, n = 700
    func make() -> LIF {
      LIF(
        charge: learnable ? .learnableLeak(initialBeta: 0.3) : .decayInput(tau: 2),
        vThreshold: 0.6, reset: reset, surrogate: learnable ? .learnableWidth : .sigmoid(alpha: 4))
    }
    let a = make(), b = make()
    let x = randomTensor([steps, batch, n], seed: 66, scale: 1, offset: 0.4)
    #expect(a.forward(x) == b.forward(x))
    let g = randomTensor([batch, n], seed: 67)
    let ga = a.backward(g.repeatedOverTime(steps))
    let gb = b.backward(timeConstantGradient: g)
    #expect(ga == gb)
    if learnable { #expect(a.leakLogit!.gradient == b.leakLogit!.gradient) }
  }
}
