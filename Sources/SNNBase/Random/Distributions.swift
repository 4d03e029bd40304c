// Sampling helpers on any RandomNumberGenerator. Every function draws a fixed, documented
// number of words per call where possible, so that streams stay aligned across platforms.
// The standard library's `Double.random(in:using:)` is not used in numeric code: its
// algorithm is not specified, and results must be bit-identical everywhere.

extension RandomNumberGenerator {
  /// Uniform in [0, 1) with 53 random bits (one draw).
  @inlinable
  public mutating func nextUnitDouble() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// Uniform in [0, 1) with 24 random bits (one draw).
  @inlinable
  public mutating func nextUnitFloat() -> Float {
    Float(next() >> 40) * 0x1.0p-24
  }

  /// Uniform in [low, high) (one draw).
  @inlinable
  public mutating func nextUniform(_ low: Double, _ high: Double) -> Double {
    low + (high - low) * nextUnitDouble()
  }

  /// Uniform integer in 0..<bound, without modulo bias (Lemire's method; usually one draw).
  @inlinable
  public mutating func nextIndex(below bound: Int) -> Int {
    precondition(bound > 0, "bound must be positive")
    let range = UInt64(bound)
    var product = next().multipliedFullWidth(by: range)
    if product.low < range {
      let threshold = (0 &- range) % range
      while product.low < threshold { product = next().multipliedFullWidth(by: range) }
    }
    return Int(product.high)
  }

  /// Standard normal N(0, 1) by the Box–Muller transform (two draws; the second variate
  /// is discarded so that the generator carries no hidden state).
  @inlinable
  public mutating func nextNormal() -> Double {
    let u1 = 1.0 - nextUnitDouble()  // (0, 1]
    let u2 = nextUnitDouble()
    return (-2.0 * Math.log(u1)).squareRoot() * Math.cos(2.0 * Math.pi * u2)
  }

  /// Exponential with the given rate (mean 1/rate; one draw).
  @inlinable
  public mutating func nextExponential(rate: Double) -> Double {
    -Math.log(1.0 - nextUnitDouble()) / rate
  }

  /// The number of failures before the first success in Bernoulli(p) trials (one draw).
  /// Used to skip directly to the next selected element when sampling with probability p.
  @inlinable
  public mutating func nextGeometric(p: Double) -> Int {
    precondition(p > 0 && p <= 1, "p must be in (0, 1]")
    if p == 1 { return 0 }
    let u = 1.0 - nextUnitDouble()  // (0, 1]
    let k = (Math.log(u) / Math.log1p(-p)).rounded(.down)
    return k >= Double(Int.max / 2) ? Int.max / 2 : Int(k)
  }

  /// Poisson(mean): multiplication method below mean 30, otherwise the transformed
  /// rejection method PTRS (Hörmann 1993). Exact for every mean.
  public mutating func nextPoisson(mean: Double) -> Int {
    precondition(mean >= 0 && mean.isFinite, "mean must be finite and non-negative")
    if mean == 0 { return 0 }
    if mean < 30 {
      let limit = Math.exp(-mean)
      var k = 0
      var product = nextUnitDouble()
      while product > limit {
        k += 1
        product *= nextUnitDouble()
      }
      return k
    }
    let slam = mean.squareRoot()
    let logLambda = Math.log(mean)
    let b = 0.931 + 2.53 * slam
    let a = -0.059 + 0.02483 * b
    let invAlpha = 1.1239 + 1.1328 / (b - 3.4)
    let vr = 0.9277 - 3.6224 / (b - 2)
    while true {
      let u = nextUnitDouble() - 0.5
      let v = nextUnitDouble()
      let us = 0.5 - abs(u)
      let k = ((2 * a / us + b) * u + mean + 0.43).rounded(.down)
      if us >= 0.07 && v <= vr { return Int(k) }
      if k < 0 || (us < 0.013 && v > us) { continue }
      let lhs = Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b)
      let rhs = -mean + k * logLambda - logGamma(k + 1)
      if lhs <= rhs { return Int(k) }
    }
  }
}

/// log Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9; relative error < 1e-13).
public func logGamma(_ x: Double) -> Double {
  let coefficients: [Double] = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ]
  if x < 0.5 {
    return Math.log(Math.pi / abs(Math.sin(Math.pi * x))) - logGamma(1 - x)
  }
  let z = x - 1
  var sum = coefficients[0]
  for i in 1..<9 { sum += coefficients[i] / (z + Double(i)) }
  let t = z + 7.5
  return 0.5 * Math.log(2 * Math.pi) + (z + 0.5) * Math.log(t) - t + Math.log(sum)
}

extension Array {
  /// Fisher–Yates shuffle with the library's own index sampling, so that a seed gives the
  /// same order on every platform (the standard library's `shuffle` does not promise that).
  public mutating func seededShuffle(using generator: inout some RandomNumberGenerator) {
    guard count > 1 else { return }
    for i in stride(from: count - 1, to: 0, by: -1) {
      let j = generator.nextIndex(below: i + 1)
      if i != j { swapAt(i, j) }
    }
  }
}
