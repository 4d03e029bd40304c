import SNNBase

/// Shared helpers for the kernel tests: seeded random matrices and error bounds.
enum KernelTestSupport {
  /// `count` uniform values in [-1, 1).
  static func randomMatrix(_ count: Int, seed: UInt64) -> [Float] {
    var rng = Xoshiro256StarStar(seed: seed)
    return (0..<count).map { _ in rng.nextUnitFloat() * 2 - 1 }
  }

  /// `count` values that are 1 with probability `density`, else 0.
  static func randomSpikes(_ count: Int, density: Double, seed: UInt64) -> [Float] {
    var rng = Xoshiro256StarStar(seed: seed)
    return (0..<count).map { _ in rng.nextUnitDouble() < density ? 1 : 0 }
  }

  /// Whether `actual` and `expected` agree within a rounding-error bound for sums of
  /// `terms` products whose absolute values add up to `magnitude` (both computations
  /// round each partial sum, so each is within about terms·ε·magnitude of the exact value).
  static func close(_ actual: Float, _ expected: Float, terms: Int, magnitude: Double) -> Bool {
    if actual.isNaN || expected.isNaN { return false }
    let bound = 2 * Double(terms + 2) * Double(Float.ulpOfOne) * magnitude + 1e-30
    return abs(Double(actual) - Double(expected)) <= bound
  }

  /// Bit patterns, for exact comparisons that also treat equal NaNs as equal.
  static func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }
}
