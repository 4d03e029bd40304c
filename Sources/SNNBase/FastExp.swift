// Portable exponential and logarithm in double precision, written out so that every
// platform computes bit-identical values (libm versions differ in the last bit) and so that
// hot loops can inline them and run four lanes at once. Accuracy: within 2 ulp of the
// correctly rounded result over the whole range (checked against libm in the tests).

extension Math {
  /// ln 2 split in a high part with trailing zero bits (so k·ln2Hi is exact for |k| < 2^11)
  /// and the remainder.
  @usableFromInline static let ln2Hi: Double = 6.93147180369123816490e-01
  @usableFromInline static let ln2Lo: Double = 1.90821492927058770002e-10
  @usableFromInline static let log2e: Double = 1.44269504088896338700e+00

  /// e^x, 1–2 ulp, deterministic across platforms. Overflows to +∞ above 709.78, flushes to
  /// 0 below −745.1.
  @inlinable @inline(__always)
  public static func portableExp(_ x: Double) -> Double {
    if !(x > -745.2) { return x.isNaN ? x : 0 }
    if x > 709.78 { return .infinity }
    // x = k·ln2 + r, |r| ≤ ln2/2.
    let k = (x * log2e).rounded(.toNearestOrEven)
    let r = (x - k * ln2Hi) - k * ln2Lo
    // Taylor series of e^r to degree 13 (truncation error < 5e-18 for |r| ≤ 0.347).
    var p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    return scaleByPowerOfTwo(p, Int(k))
  }

  /// x · 2^k for the exponents exp can produce (including subnormal results).
  @inlinable @inline(__always)
  static func scaleByPowerOfTwo(_ x: Double, _ k: Int) -> Double {
    if k >= -1021 && k <= 1023 {
      return x * Double(bitPattern: UInt64(k + 1023) << 52)
    }
    if k > 1023 { return x * Double(bitPattern: UInt64(1023 + 1023) << 52) * Double(bitPattern: UInt64(k - 1023 + 1023) << 52) }
    // Subnormal range: scale in two steps.
    return x * Double(bitPattern: UInt64(k + 1000 + 1023) << 52) * Double(bitPattern: UInt64(-1000 + 1023) << 52)
  }

  /// Four exponentials at once (same values as ``portableExp(_:)`` lane by lane).
  @inlinable @inline(__always)
  public static func portableExp(_ x: SIMD4<Double>) -> SIMD4<Double> {
    // Lanes outside the fast range are recomputed by the scalar path (rare).
    if any(x .<= -708.0) || any(x .> 709.0) || any(x .!= x) {
      return SIMD4(portableExp(x[0]), portableExp(x[1]), portableExp(x[2]), portableExp(x[3]))
    }
    // Adding 1.5·2^52 rounds x·log2(e) to an integer k held in the low mantissa bits.
    let shifter = SIMD4<Double>(repeating: 0x1.8p52)
    let kd = x * log2e + shifter
    let k = kd - shifter
    let r = (x - k * ln2Hi) - k * ln2Lo
    var p = SIMD4<Double>(repeating: 1.0 / 6227020800.0)
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    // 2^k: (k + 1023) in the exponent field; the low 12 mantissa bits of kd hold k mod 4096.
    let scale = (unsafeBitCast(kd, to: SIMD4<UInt64>.self) &+ 1023) &<< 52
    return p * unsafeBitCast(scale, to: SIMD4<Double>.self)
  }

  /// ln x, 1–2 ulp, deterministic across platforms; −∞ at 0, NaN below 0.
  @inlinable @inline(__always)
  public static func portableLog(_ x: Double) -> Double {
    if !(x > 0) || x == .infinity {
      if x == 0 { return -.infinity }
      return x == .infinity ? .infinity : .nan
    }
    var bits = x.bitPattern
    var exponentBias = 0
    if bits < (1 << 52) {
      // Subnormal: normalize first.
      let scaled = x * 0x1p54
      bits = scaled.bitPattern
      exponentBias = -54
    }
    var e = Int((bits >> 52) & 0x7ff) - 1023 + exponentBias
    // m in [1, 2), then moved to [√½, √2).
    var m = Double(bitPattern: (bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000)
    if m > 1.4142135623730951 {
      m *= 0.5
      e += 1
    }
    // ln m = 2·atanh(f), f = (m − 1)/(m + 1), |f| ≤ 0.1716: series to f^23 (error < 1e-18).
    let f = (m - 1) / (m + 1)
    let f2 = f * f
    var s = 1.0 / 23.0
    s = s * f2 + 1.0 / 21.0
    s = s * f2 + 1.0 / 19.0
    s = s * f2 + 1.0 / 17.0
    s = s * f2 + 1.0 / 15.0
    s = s * f2 + 1.0 / 13.0
    s = s * f2 + 1.0 / 11.0
    s = s * f2 + 1.0 / 9.0
    s = s * f2 + 1.0 / 7.0
    s = s * f2 + 1.0 / 5.0
    s = s * f2 + 1.0 / 3.0
    let lnm = 2 * f + 2 * f * f2 * s
    let de = Double(e)
    return de * ln2Hi + (lnm + de * ln2Lo)
  }
}
