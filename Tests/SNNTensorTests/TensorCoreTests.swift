import SNNBase
import Testing

@testable import SNNTensor

@Suite struct TensorCoreTests {
  @Test func shapesAndIndexing() {
    var t = Tensor(shape: [2, 3, 4])
    #expect(t.count == 24 && t.rank == 3 && t.timeSteps == 2 && t.elementsPerStep == 12)
    t[1, 2, 3] = 5
    #expect(t[flat: 23] == 5)
    let r = t.reshaped([6, 4])
    #expect(r[5, 3] == 5 && r.shape == [6, 4])
    #expect(Tensor.zeros([0, 3]).count == 0)
  }

  @Test func valueSemantics() {
    let a = Tensor(shape: [3], scalars: [1, 2, 3])
    var b = a
    b[flat: 0] = 10
    #expect(a.scalars == [1, 2, 3] && b.scalars == [10, 2, 3])
    var c = a
    c.prepare(shape: [3])  // same count: storage kept, values stay until overwritten
    c.fill(0)
    #expect(a.scalars == [1, 2, 3])
  }

  @Test func arithmetic() {
    let a = Tensor(shape: [2, 5], generating: { Float($0) })
    let b = Tensor(shape: [2, 5], repeating: 2)
    #expect((a + b).scalars == a.scalars.map { $0 + 2 })
    #expect((a - b).scalars == a.scalars.map { $0 - 2 })
    #expect((a * b).scalars == a.scalars.map { $0 * 2 })
    #expect((a * 3).scalars == a.scalars.map { $0 * 3 })
    var c = Tensor(shape: [2, 9], generating: { Float($0) })
    c.add(Tensor(shape: [2, 9], repeating: 1), scaledBy: 0.5)
    #expect(c.scalars == (0..<18).map { Float($0) + 0.5 })
    #expect(a.sum == 45 && a.mean == 4.5 && a.max == 9 && a.min == 0)
    #expect(a.squaredNorm == 285)
    #expect(Tensor(shape: [4], scalars: [0, 1, 0, 1]).nonzeroFraction == 0.5)
  }

  @Test func timeAxisHelpers() {
    let x = Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
    #expect(x.summedOverTime().scalars == [9, 12])
    #expect(x.meanOverTime().scalars == [3, 4])
    #expect(x.step(1).scalars == [3, 4])
    let r = Tensor(shape: [2], scalars: [7, 8]).repeatedOverTime(3)
    #expect(r.shape == [3, 2] && r.scalars == [7, 8, 7, 8, 7, 8])
    #expect(Tensor.stacked([x.step(0), x.step(2)]).scalars == [1, 2, 5, 6])
  }

  @Test func kaimingInitializers() {
    var g = Xoshiro256StarStar(seed: 1)
    let n = Initializer.kaimingNormal(mode: .fanIn).make(
      shape: [200, 500], fanIn: 200, fanOut: 500, using: &g)
    let variance = n.squaredNorm / Double(n.count)
    // Var = 2/fanIn = 0.01; 10⁵ samples give a relative standard error of √(2/10⁵) ≈ 0.45%.
    #expect(abs(variance - 0.01) < 0.01 * 0.02)
    let u = Initializer.kaimingUniform(mode: .fanOut).make(
      shape: [200, 500], fanIn: 200, fanOut: 500, using: &g)
    let bound = Float((2.0 * 3 / 500).squareRoot())
    #expect(u.max <= bound && u.min >= -bound && u.max > 0.99 * bound)
    #expect(abs(u.squaredNorm / Double(u.count) - 2.0 / 500) < 2.0 / 500 * 0.02)
    // Seeded: the same seed gives the same tensor.
    var g1 = Xoshiro256StarStar(seed: 9), g2 = Xoshiro256StarStar(seed: 9)
    #expect(
      Initializer.pytorchDefault.make(shape: [5, 5], fanIn: 5, fanOut: 5, using: &g1)
        == Initializer.pytorchDefault.make(shape: [5, 5], fanIn: 5, fanOut: 5, using: &g2))
  }
}
