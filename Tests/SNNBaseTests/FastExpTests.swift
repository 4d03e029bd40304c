import Testing

@testable import SNNBase

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@Suite struct FastExpTests {
  /// Distance in units in the last place between two doubles of the same sign.
  func ulps(_ a: Double, _ b: Double) -> UInt64 {
    if a == b { return 0 }
    let x = Int64(bitPattern: a.bitPattern), y = Int64(bitPattern: b.bitPattern)
    return UInt64(abs(x - y))
  }

  @Test func expIsWithinTwoUlpsOfLibm() {
    var rng = Xoshiro256StarStar(seed: 5)
    var worst: UInt64 = 0
    for i in 0..<200_000 {
      let x = i < 100_000 ? rng.nextUniform(-40, 40) : rng.nextUniform(-745, 709.7)
      worst = max(worst, ulps(Math.portableExp(x), exp(x)))
    }
    #expect(worst <= 2)
    #expect(Math.portableExp(0) == 1)
    #expect(ulps(Math.portableExp(1), 2.718281828459045) <= 1)
    #expect(Math.portableExp(710) == .infinity)
    #expect(Math.portableExp(-746) == 0)
    #expect(Math.portableExp(.nan).isNaN)
    #expect(Math.portableExp(-.infinity) == 0)
  }

  @Test func vectorExpMatchesScalarLaneByLane() {
    var rng = Xoshiro256StarStar(seed: 6)
    for _ in 0..<10_000 {
      let v = SIMD4(rng.nextUniform(-50, 50), rng.nextUniform(-700, 700), rng.nextUniform(-1, 1), rng.nextUniform(-800, 800))
      let e = Math.portableExp(v)
      for k in 0..<4 { #expect(e[k] == Math.portableExp(v[k])) }
    }
  }

  @Test func logIsWithinTwoUlpsOfLibm() {
    var rng = Xoshiro256StarStar(seed: 7)
    var worst: UInt64 = 0
    for i in 0..<200_000 {
      let x = i < 100_000 ? rng.nextUniform(0.001, 100) : Math.portableExp(rng.nextUniform(-740, 709))
      worst = max(worst, ulps(Math.portableLog(x), log(x)))
    }
    #expect(worst <= 2)
    #expect(Math.portableLog(1) == 0)
    #expect(Math.portableLog(0) == -.infinity)
    #expect(Math.portableLog(-1).isNaN)
    #expect(Math.portableLog(Double.leastNonzeroMagnitude) == log(Double.leastNonzeroMagnitude))
  }
}
