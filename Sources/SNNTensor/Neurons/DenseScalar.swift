import SNNBase

/// The floating-point types the neuron core runs on: `Float` in the layers, `Double` in
/// the gradient checks. The elementary functions are requirements so that the generic,
/// `@inlinable` neuron and surrogate code specializes to plain arithmetic for each type.
public protocol DenseScalar: BinaryFloatingPoint, Sendable {
  /// eˣ.
  static func exponential(_ x: Self) -> Self
  /// atan(x) in radians.
  static func arctangent(_ x: Self) -> Self
}

extension Double: DenseScalar {
  @inlinable public static func exponential(_ x: Double) -> Double { Math.exp(x) }
  @inlinable public static func arctangent(_ x: Double) -> Double { Math.atan(x) }
}

extension Float: DenseScalar {
  /// eˣ by range reduction x = n·ln2 + r, |r| ≤ ln2/2, and a degree-6 polynomial for eʳ
  /// (the Cephes `expf` coefficients), scaled by 2ⁿ through the exponent bits. Branch-free
  /// so that loops calling it vectorize; relative error below 3·10⁻⁷ on [−86, 88]
  /// (tested against `Math.exp(Double)`), input clamped to [−86, 88] so that the result
  /// is never subnormal.
  @inlinable @inline(__always)
  public static func exponential(_ x: Float) -> Float {
    let xc = Swift.min(Swift.max(x, -86.0), 88.0)
    let n = (xc * 1.442_695_04).rounded(.toNearestOrEven)
    let r = (xc - n * 0.693_359_375) + n * 2.121_944_4e-4
    var p: Float = 1.987_569_15e-4
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let er = (p * r) * r + r + 1
    let bits = UInt32(bitPattern: Int32(n) &+ 127) << 23
    return er * Float(bitPattern: bits)
  }

  @inlinable public static func arctangent(_ x: Float) -> Float { Math.atan(x) }
}
