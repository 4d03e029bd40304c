import SNNBase
import Testing

@testable import SNNTensor

/// Φ(z), the standard normal CDF, by composite Simpson integration of the density over
/// [0, |z|] with 20 000 intervals (error far below 1e-10 for |z| < 8).
func normalCDF(_ z: Double) -> Double {
  let n = 20_000, b = abs(z), h = b / Double(n)
  func phi(_ x: Double) -> Double { Math.exp(-x * x / 2) / (2 * Double.pi).squareRoot() }
  var s = phi(0) + phi(b)
  for i in 1..<n { s += phi(Double(i) * h) * (i % 2 == 1 ? 4 : 2) }
  let half = s * h / 3
  return z >= 0 ? 0.5 + half : 0.5 - half
}

@Suite struct SurrogateAndLSGTests {
  @Test func derivativesAreTheDerivativesOfThePrimitives() {
    let kinds: [Surrogate] = [
      .sigmoid(alpha: 4), .atan(alpha: 2), .rectangle(width: 1), .triangle(width: 1.5),
    ]
    for sg in kinds {
      let k = sg.kernel(Double.self)
      for x in stride(from: -2.0, through: 2.0, by: 0.037) {
        let eps = 1e-6
        let numeric = (k.primitive(x + eps) - k.primitive(x - eps)) / (2 * eps)
        // Away from the kinks of piecewise shapes the two agree to FD accuracy.
        if let w = sg.windowWidth,
          abs(abs(x) - Double(w) / 2) < 1e-3 || (sg == .triangle(width: 1.5) && abs(x) < 1e-3)
        {
          continue
        }
        #expect(
          abs(numeric - k.derivative(x)) < 1e-6, "\(sg) at \(x): \(numeric) vs \(k.derivative(x))")
      }
      // The primitive goes from 0 to 1 (a step of unit height).
      #expect(abs(k.primitive(-50)) < 1e-2 && abs(k.primitive(50) - 1) < 1e-2, "\(sg)")
    }
  }

  @Test func surrogateValuesAtKnownPoints() {
    #expect(SurrogateKernel<Double>.sigmoidDerivative(0, 4) == 1)  // a/4
    #expect(SurrogateKernel<Double>.atanDerivative(0, 2) == 1)  // a/2
    #expect(SurrogateKernel<Double>.rectangleDerivative(0.49, 1) == 1)
    #expect(SurrogateKernel<Double>.rectangleDerivative(0.5, 1) == 0)  // strict window
    #expect(SurrogateKernel<Double>.triangleDerivative(0, 1) == 2)
    #expect(SurrogateKernel<Double>.triangleDerivative(0.25, 1) == 1)
    // Far from threshold the sigmoid surrogate is exactly 0 (never subnormal in Float).
    #expect(SurrogateKernel<Float>.sigmoidDerivative(-30, 4) == 0)
    #expect(SurrogateKernel<Float>.sigmoidDerivative(1e30, 4) == 0)
    #expect(SurrogateKernel<Float>.sigmoidDerivative(-10, 4) > 0)
    for x in stride(from: Float(-100), through: 100, by: 0.25) {
      let h = SurrogateKernel<Float>.sigmoidDerivative(x, 4)
      #expect(h == 0 || h.isNormal, "subnormal surrogate at \(x)")
    }
  }

  @Test func fastExponentialIsAccurate() {
    var worst = 0.0
    for i in 0...200_000 {
      let x = Float(-86 + 174 * Double(i) / 200_000)
      let exact = Math.exp(Double(x))
      worst = max(worst, abs(Double(Float.exponential(x)) - exact) / exact)
    }
    #expect(worst < 3e-7, "worst relative error \(worst)")
    #expect(Float.exponential(-200).isNormal && Float.exponential(-200) < 1e-37)
    #expect(Float.exponential(200).isFinite)
  }

  // MARK: LSG (Lian et al., IJCAI 2023), spec §5.3

  @Test func lsgWidthAtInitialization() {
    #expect(abs(Surrogate.lsgWidth(beta: 0.2, vThreshold: 0.5) - 1.0198) < 5e-5)
    let lif = LIF.lsg()
    #expect(abs(lif.chargeCoefficients.decay - 0.2) < 1e-6)
    #expect(abs(lif.leakLogit!.value.scalars[0] - Float(Math.log(0.25))) < 1e-6)
    _ = lif.forward(Tensor(shape: [1, 1, 1]))
    guard case .rectangle(let w) = lif.resolvedSurrogate else {
      Issue.record("LSG surrogate did not resolve to a rectangle")
      return
    }
    #expect(abs(w - 1.0198039) < 1e-6)
  }

  func lsgKernel(beta: Double, width: Double) -> LIFKernel<Double> {
    LIFKernel<Double>(
      decay: beta, inputScale: 1, vThreshold: 0.5, vReset: 0, hardReset: true, detachReset: false,
      detachMembrane: false, primitive: true, surrogate: .init(kind: .rectangle, parameter: width))
  }

  @Test(arguments: [0.2, 0.6])
  func leakLogitGradientMatchesFiniteDifferences(beta0: Double) {
    // β = sigmoid(b) per layer; α held fixed at its value for β0 while b is perturbed.
    let alpha = Surrogate.lsgWidth(beta: beta0, vThreshold: 0.5)
    let net = ReferenceNetwork(steps: 6, kernel: lsgKernel(beta: beta0, width: alpha), seed: 41)
    let g = net.gradients()
    let b0 = Math.log(beta0 / (1 - beta0))
    let analytic = [g.decay1, g.decay2].map { beta0 * (1 - beta0) * $0 }
    func sigmoid(_ b: Double) -> Double { 1 / (1 + Math.exp(-b)) }
    let cmp = centralDifferences(
      [b0, b0], epsilon: 1e-4, analytic: analytic,
      regions: { b in
        var n = net
        n.kernel1.decay = sigmoid(b[0])
        n.kernel2.decay = sigmoid(b[1])
        return n.regions(frozen: nil)
      },
      loss: { b in
        var n = net
        n.kernel1.decay = sigmoid(b[0])
        n.kernel2.decay = sigmoid(b[1])
        return n.loss(frozen: nil)
      })
    #expect(cmp.skipped == 0)
    #expect(cmp.relativeError < 1e-5, "\(cmp)")
    #expect(cmp.scale > 1e-3, "\(cmp)")
  }

  @Test func layerLeakGradientHasNoWidthPath() {
    // The LSG layer's ∂L/∂b equals β(1−β)·∂L/∂β from the Float64 kernel with the width held
    // fixed, and equals the gradient of the same layer with an explicit fixed rectangle:
    // no gradient flows through α = f(β).
    let steps = 5, batch = 4, n = 300
    let x = randomTensor([steps, batch, n], seed: 51, scale: 0.5, offset: 0.25)
    let gy = randomTensor([steps, batch, n], seed: 52)
    let lsg = LIF.lsg()
    _ = lsg.forward(x)
    _ = lsg.backward(gy)
    let alpha = Surrogate.lsgWidth(beta: 0.2, vThreshold: 0.5)
    let fixed = LIF(
      charge: .learnableLeak(initialBeta: 0.2), vThreshold: 0.5, reset: .hard,
      surrogate: .rectangle(width: Float(alpha)))
    _ = fixed.forward(x)
    _ = fixed.backward(gy)
    let gLSG = Double(lsg.leakLogit!.gradient.scalars[0])
    let gFixed = Double(fixed.leakLogit!.gradient.scalars[0])
    #expect(gLSG == gFixed)
    let beta = Double(lsg.chargeCoefficients.decay)
    let k = LIFKernel<Double>(
      decay: beta, inputScale: 1, vThreshold: 0.5, hardReset: true, detachReset: false,
      detachMembrane: false, surrogate: .init(kind: .rectangle, parameter: Double(Float(alpha))))
    let st = ReferenceNetwork.lifForward(k, x.scalars.map(Double.init), steps: steps, n: batch * n)
    let (_, decayGrad) = ReferenceNetwork.lifBackward(
      k, st, gy.scalars.map(Double.init), steps: steps, n: batch * n)
    let expected = beta * (1 - beta) * decayGrad
    #expect(abs(gLSG - expected) <= 1e-4 * abs(expected), "\(gLSG) vs \(expected)")
    #expect(abs(expected) > 1e-2)
  }

  @Test func windowRatioFromTheNormalCDF() {
    // P(|u − v_th| < α/2) for u ~ N(0, v_th²(1 + β²)), v_th = 0.5.
    func ratio(beta: Double, alpha: Double) -> Double {
      let sigma = 0.5 * (1 + beta * beta).squareRoot()
      return normalCDF((0.5 + alpha / 2) / sigma) - normalCDF((0.5 - alpha / 2) / sigma)
    }
    #expect(abs(ratio(beta: 0.2, alpha: 1) - 0.4751) < 5e-5)
    #expect(abs(ratio(beta: 0.8, alpha: 1) - 0.4408) < 5e-5)
    #expect(
      abs(ratio(beta: 0.2, alpha: Surrogate.lsgWidth(beta: 0.2, vThreshold: 0.5)) - 0.4839) < 5e-5)
    #expect(
      abs(ratio(beta: 0.8, alpha: Surrogate.lsgWidth(beta: 0.8, vThreshold: 0.5)) - 0.5493) < 5e-5)
  }

  @Test(arguments: [(0.2, 0.4751, 0.4839), (0.8, 0.4408, 0.5493)])
  func layerGradAvailableRatioOnSyntheticPotentials(
    beta: Double, fixedRatio: Double, lsgRatio: Double
  ) {
    // One step from V = 0, so H = u. With n = 10⁶ samples the standard error of a ratio
    // near 0.5 is √(0.25/n) = 5e-4; the tolerance is 4 standard errors (2e-3), below the
    // 0.0088 gap between the fixed and LSG values at β = 0.2.
    let count = 1_000_000
    var g = Xoshiro256StarStar(seed: 2023)
    let sigma = 0.5 * (1 + beta * beta).squareRoot()
    let u = Tensor(shape: [1, 1, count], generating: { _ in Float(sigma * g.nextNormal()) })
    let fixed = LIF(
      charge: .leaky(lambda: Float(beta)), vThreshold: 0.5, reset: .hard,
      surrogate: .rectangle(width: 1))
    _ = fixed.forward(u)
    let lsg = LIF(
      charge: .leaky(lambda: Float(beta)), vThreshold: 0.5, reset: .hard, surrogate: .learnableWidth
    )
    _ = lsg.forward(u)
    let rf = fixed.gradAvailableRatio!, rl = lsg.gradAvailableRatio!
    #expect(abs(rf - fixedRatio) < 2e-3, "fixed α=1: \(rf)")
    #expect(abs(rl - lsgRatio) < 2e-3, "LSG: \(rl)")
    #expect(LIF(surrogate: .sigmoid()).gradAvailableRatio == nil)
  }
}
