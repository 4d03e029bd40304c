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
