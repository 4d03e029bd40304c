import SNNBase
import Testing

@testable import SNNTensor

/// Finite-difference checks of every layer's hand-written backward, in Float32.
///
/// The loss is a fixed random projection L = Σ r ⊙ y accumulated in Double. For the layers
/// that are linear in the checked coordinate (Linear, Conv2d, pools, Flatten, Dropout with
/// its mask held), L is exactly linear, so central differences have no truncation error
/// at any step; a large step ε = 0.25 makes the Float32 rounding error of L (≈ √N·2⁻²⁴·|y|
/// per evaluation, N ≤ 2000 outputs) negligible after dividing by 2ε, and 1e-4 relative to
/// the gradient's scale is a tight bound. BatchNorm is nonlinear: see its test.
@Suite struct LayerGradientTests {
  func checkInput(
    _ layer: any DenseLayer, input: Tensor, epsilon: Float = 0.25, tolerance: Double = 1e-4,
    seed: UInt64 = 99, prepare: () -> Void = {}
  ) {
    var x = input
    prepare()
    let y = layer.forward(x)
    let proj = ProjectionLoss(count: y.count, seed: seed)
    for p in layer.parameters { p.zeroGradient() }
    let gx = layer.backward(proj.gradient(shape: y.shape))
    #expect(gx.shape == x.shape)
    let cmp = floatCentralDifferences(
      count: x.count, epsilon: epsilon, analytic: gx, get: { x.scalars[$0] },
      set: { x[flat: $0] = $1 },
      loss: {
        prepare(); return proj.value(layer.forward(x))
      })
    #expect(cmp.relativeError < tolerance, "\(layer.name) input: \(cmp)")
    #expect(cmp.scale > 1e-3, "\(layer.name) input: gradient too small (\(cmp))")
    // Parameters.
    prepare()
    _ = layer.forward(x)
    for p in layer.parameters { p.zeroGradient() }
    _ = layer.backward(proj.gradient(shape: y.shape))
    for p in layer.parameters {
      let analytic = p.gradient
      let c = floatCentralDifferences(
        count: p.value.count, epsilon: epsilon, analytic: analytic, get: { p.value.scalars[$0] },
        set: { p.value[flat: $0] = $1 },
        loss: {
          prepare(); return proj.value(layer.forward(x))
        })
      #expect(c.relativeError < tolerance, "\(p.name): \(c)")
      #expect(c.scale > 1e-3, "\(p.name): gradient too small (\(c))")
    }
  }

  @Test func linear() {
    var g = Xoshiro256StarStar(seed: 1)
    let layer = Linear(inFeatures: 7, outFeatures: 5, using: &g)
    checkInput(layer, input: randomTensor([3, 4, 7], seed: 2))
  }

  @Test func linearGradientsAccumulate() {
    var g = Xoshiro256StarStar(seed: 1)
    let layer = Linear(inFeatures: 4, outFeatures: 3, using: &g)
    let x = randomTensor([2, 2, 4], seed: 3), gy = randomTensor([2, 2, 3], seed: 4)
    _ = layer.forward(x)
    _ = layer.backward(gy)
    let once = layer.weight.gradient
    _ = layer.forward(x)
    _ = layer.backward(gy)
    #expect(layer.weight.gradient.maxAbsoluteDifference(once * 2) < 1e-6)
  }

  @Test(arguments: [(1, 0), (2, 1), (1, 2)])
  func conv2d(stride: Int, padding: Int) {
    var g = Xoshiro256StarStar(seed: 5)
    let layer = Conv2d(
      inChannels: 2, outChannels: 3, kernelSize: 3, stride: stride, padding: padding, threads: 2,
      using: &g)
    checkInput(layer, input: randomTensor([2, 2, 2, 6, 5], seed: 6))
  }

  @Test func conv2dMatchesDirectConvolution() {
    var g = Xoshiro256StarStar(seed: 7)
    let layer = Conv2d(
      inChannels: 2, outChannels: 3, kernelSize: 3, stride: 2, padding: 1, using: &g)
    let x = randomTensor([1, 2, 2, 7, 6], seed: 8)
    let y = layer.forward(x)
    let oh = (7 + 2 - 3) / 2 + 1, ow = (6 + 2 - 3) / 2 + 1
    #expect(y.shape == [1, 2, 3, oh, ow])
    var worst: Float = 0
    for b in 0..<2 {
      for co in 0..<3 {
        for oy in 0..<oh {
          for ox in 0..<ow {
            var s = layer.bias!.value[co]
            for ci in 0..<2 {
              for ky in 0..<3 {
                for kx in 0..<3 {
                  let iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx
                  guard iy >= 0 && iy < 7 && ix >= 0 && ix < 6 else { continue }
                  s += layer.weight.value[co, ci, ky, kx] * x[0, b, ci, iy, ix]
                }
              }
            }
            worst = max(worst, abs(s - y[0, b, co, oy, ox]))
          }
        }
      }
    }
    #expect(worst < 1e-5)
  }

  @Test func avgPool() {
    checkInput(AvgPool2d(kernelSize: 2), input: randomTensor([2, 2, 3, 4, 6], seed: 9))
    checkInput(AvgPool2d(kernelSize: 3, stride: 2), input: randomTensor([1, 2, 2, 7, 7], seed: 10))
    checkInput(AvgPool2d(kernelSize: 3), input: randomTensor([1, 2, 2, 6, 9], seed: 10))
    checkInput(AvgPool2d(kernelSize: 2), input: randomTensor([1, 2, 2, 5, 7], seed: 10))
    let pooled = AvgPool2d(kernelSize: 2).forward(
      Tensor(shape: [1, 1, 1, 2, 2], scalars: [1, 2, 3, 6]))
    #expect(pooled.scalars == [3])
  }

  @Test func maxPool() {
    // Distinct values 0.01 apart: no tie or argmax change within ±ε = 0.004.
    let n = 2 * 2 * 3 * 4 * 6
    var order = Array(0..<n)
    var g = Xoshiro256StarStar(seed: 11)
    order.seededShuffle(using: &g)
    let x = Tensor(shape: [2, 2, 3, 4, 6], scalars: order.map { Float($0) * 0.01 })
    checkInput(MaxPool2d(kernelSize: 2), input: x, epsilon: 0.004, tolerance: 1e-3)
    checkInput(MaxPool2d(kernelSize: 3, stride: 1), input: x, epsilon: 0.004, tolerance: 1e-3)
    // Binary spikes: the first active input of a window wins the tie.
    let layer = MaxPool2d(kernelSize: 2)
    _ = layer.forward(Tensor(shape: [1, 1, 1, 2, 2], scalars: [0, 1, 1, 1]))
    #expect(layer.backward(Tensor(shape: [1, 1, 1, 1, 1], scalars: [5])).scalars == [0, 5, 0, 0])
    let pooled = MaxPool2d(kernelSize: 2).forward(
      Tensor(shape: [1, 1, 1, 2, 2], scalars: [0, 3, 2, 1]))
    #expect(pooled.scalars == [3])
  }

  @Test func flatten() {
    let layer = Flatten()
    let x = randomTensor([2, 3, 2, 2, 2], seed: 12)
    let y = layer.forward(x)
    #expect(y.shape == [2, 3, 8] && y.scalars == x.scalars)
    #expect(layer.backward(y).shape == x.shape)
  }

  @Test(arguments: [false, true])
  func dropout(variational: Bool) {
    let layer = Dropout(probability: 0.3, variational: variational, seed: 13)
    let saved = layer.generator
    // Hold the mask fixed across the finite-difference evaluations.
    checkInput(
      layer, input: randomTensor([4, 3, 20], seed: 14), prepare: { layer.generator = saved })
    let x = Tensor(shape: [4, 3, 20], repeating: 1)
    let y = layer.forward(x)
    let kept = y.scalars.filter { $0 != 0 }
    #expect(kept.allSatisfy { abs($0 - 1 / 0.7) < 1e-6 })
    if variational {
      #expect(layer.lastMask.shape == [3, 20])
      for t in 1..<4 { #expect(y.step(t) == y.step(0)) }
    } else {
      #expect(layer.lastMask.shape == [4, 3, 20])
      #expect(y.step(1) != y.step(0))
    }
    layer.isTraining = false
    #expect(layer.forward(x) == x)
  }

  @Test func dropoutRateAndSeed() {
    let a = Dropout(probability: 0.25, seed: 3), b = Dropout(probability: 0.25, seed: 3)
    let x = Tensor(shape: [10, 10, 100], repeating: 1)
    let ya = a.forward(x), yb = b.forward(x)
    #expect(ya == yb)
    let dropped = 1 - ya.nonzeroFraction
    // 10⁴ Bernoulli(0.25) draws: standard error 0.0043; 4 s.e. tolerance.
    #expect(abs(dropped - 0.25) < 0.018)
  }

  /// BatchNorm is nonlinear in x (through μ and σ): ε = 1e-2 leaves a truncation error of
  /// order ε²·|L'''| ≈ 1e-4·|L'''| with |L'''| = O(1) for unit-variance data, and the
  /// Float32 rounding of L divided by 2ε is ≈ 1e-5; 2e-3 relative to the gradient's scale.
  @Test(arguments: BatchNorm.Statistics.allCases)
  func batchNorm(statistics: BatchNorm.Statistics) {
    let layer = BatchNorm(channelCount: 3, statistics: statistics, scale: 0.5)
    var g = Xoshiro256StarStar(seed: 15)
    layer.gamma.value = Tensor(shape: [3], generating: { _ in Float(1 + 0.3 * g.nextNormal()) })
    layer.beta.value = Tensor(shape: [3], generating: { _ in Float(0.3 * g.nextNormal()) })
    let saveMean = layer.runningMean, saveVar = layer.runningVariance
    checkInput(
      layer, input: randomTensor([3, 4, 3, 2, 2], seed: 16, scale: 1.5, offset: 0.7),
      epsilon: 1e-2, tolerance: 2e-3,
      prepare: {
        layer.runningMean = saveMean
        layer.runningVariance = saveVar
      })
  }

  @Test func batchNormStatistics() {
    // Across time: each channel of the output has mean β and standard deviation γ·k.
    let layer = BatchNorm.thresholdDependent(channelCount: 2, vThreshold: 0.5)
    #expect(layer.scale == 0.5)
    layer.beta.value = Tensor(shape: [2], scalars: [0.25, -1])
    let x = randomTensor([3, 8, 2, 3, 3], seed: 17, scale: 2, offset: 1)
    let y = layer.forward(x)
    for c in 0..<2 {
      var vals: [Double] = []
      for t in 0..<3 {
        for b in 0..<8 { for i in 0..<9 { vals.append(Double(y[t, b, c, i / 3, i % 3])) } }
      }
      let mean = vals.reduce(0, +) / Double(vals.count)
      let sd = (vals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(vals.count))
        .squareRoot()
      #expect(abs(mean - Double(layer.beta.value[c])) < 1e-5)
      #expect(abs(sd - 0.5) < 1e-3)  // γ = 1, k = η·V_th = 0.5 (ε = 1e-5 shrinks it by ~1e-5)
    }
    // Running statistics moved by momentum 0.1 toward the batch statistics.
    #expect(layer.runningMean.scalars.allSatisfy { abs($0) > 0.01 })
    // Evaluation mode uses the running statistics and is then an affine map.
    layer.isTraining = false
    let e1 = layer.forward(x)
    let mean0 = layer.runningMean[0], var0 = layer.runningVariance[0]
    let expected = (x[0, 0, 0, 0, 0] - mean0) / (var0 + 1e-5).squareRoot() * 0.5 + 0.25
    #expect(abs(e1[0, 0, 0, 0, 0] - expected) < 1e-5)
  }

  /// The features path (`[T, B, C]`, one value per channel and row) against the general
  /// path on the same values duplicated along a trailing axis (`[T, B, C, 2]`): duplicating
  /// every value keeps the mean and the biased variance, doubles the sums exactly, and so
  /// gives bit-identical outputs and input gradients and exactly twice ∂L/∂γ, ∂L/∂β.
  @Test(arguments: BatchNorm.Statistics.allCases)
  func batchNormFeaturesPathMatchesGeneralPath(statistics: BatchNorm.Statistics) {
    let a = BatchNorm(channelCount: 70, statistics: statistics, scale: 0.5)
    let b = BatchNorm(channelCount: 70, statistics: statistics, scale: 0.5)
    var g = Xoshiro256StarStar(seed: 22)
    let gamma = Tensor(shape: [70], generating: { _ in Float(1 + 0.3 * g.nextNormal()) })
    a.gamma.value = gamma
    b.gamma.value = gamma
    let x = randomTensor([3, 5, 70], seed: 23, scale: 1.5, offset: 0.4)
    let gy = randomTensor([3, 5, 70], seed: 24)
    func doubled(_ t: Tensor) -> Tensor {
      Tensor(shape: t.shape + [2], generating: { t[flat: $0 / 2] })
    }
    let ya = a.forward(x), yb = b.forward(doubled(x))
    #expect(doubled(ya) == yb)
    let ga = a.backward(gy), gb = b.backward(doubled(gy))
    #expect(doubled(ga) == gb)
    #expect(a.gamma.gradient * 2 == b.gamma.gradient && a.beta.gradient * 2 == b.beta.gradient)
    #expect(a.runningMean == b.runningMean)
  }

  @Test(arguments: BatchNorm.Statistics.allCases)
  func batchNormFeatures(statistics: BatchNorm.Statistics) {
    let layer = BatchNorm(channelCount: 3, statistics: statistics, scale: 0.5)
    let saveMean = layer.runningMean, saveVar = layer.runningVariance
    checkInput(
      layer, input: randomTensor([3, 4, 3], seed: 25, scale: 1.5, offset: 0.7),
      epsilon: 1e-2, tolerance: 2e-3,
      prepare: {
        layer.runningMean = saveMean
        layer.runningVariance = saveVar
      })
  }

  @Test func batchNormEvalBackward() {
    let layer = BatchNorm(channelCount: 3, statistics: .acrossTime)
    _ = layer.forward(randomTensor([2, 4, 3], seed: 18))
    layer.isTraining = false
    checkInput(layer, input: randomTensor([2, 4, 3], seed: 19))
  }

  @Test func sequentialChainsLayers() {
    var g = Xoshiro256StarStar(seed: 20)
    let net = Sequential([
      Linear(name: "fc1", inFeatures: 6, outFeatures: 8, using: &g),
      LIF(name: "lif1", charge: .leaky(lambda: 0.5), surrogate: .sigmoid(alpha: 4)),
      Linear(name: "fc2", inFeatures: 8, outFeatures: 3, using: &g),
    ])
    (net.layers[1] as! LIF).primitiveMode = true
    #expect(net.parameters.map(\.name) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
    // A smooth network (primitive mode): Float32 differences with ε = 1e-2, see
    // LIFNeuronTests.layerPrimitiveModeMatchesFloat32FiniteDifferences for the tolerance.
    checkInput(
      net, input: randomTensor([4, 2, 6], seed: 21, scale: 1, offset: 0.5), epsilon: 1e-2,
      tolerance: 3e-3)
  }
}
