// The one-file math shim: numeric modules call `Math.exp` and friends instead of importing
// Foundation. On Linux the functions come from Glibc (libm), on Apple platforms from Darwin.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Elementary functions for the numeric modules.
public enum Math {
  @inlinable public static func exp(_ x: Double) -> Double { _exp(x) }
  @inlinable public static func exp(_ x: Float) -> Float { _expf(x) }
  @inlinable public static func expm1(_ x: Double) -> Double { _expm1(x) }
  @inlinable public static func log(_ x: Double) -> Double { _log(x) }
  @inlinable public static func log(_ x: Float) -> Float { _logf(x) }
  @inlinable public static func log1p(_ x: Double) -> Double { _log1p(x) }
  @inlinable public static func pow(_ x: Double, _ y: Double) -> Double { _pow(x, y) }
  @inlinable public static func pow(_ x: Float, _ y: Float) -> Float { _powf(x, y) }
  @inlinable public static func tanh(_ x: Float) -> Float { _tanhf(x) }
  @inlinable public static func atan(_ x: Float) -> Float { _atanf(x) }
  @inlinable public static func atan(_ x: Double) -> Double { _atan(x) }
  @inlinable public static func cos(_ x: Double) -> Double { _cos(x) }
  @inlinable public static func sin(_ x: Double) -> Double { _sin(x) }
  public static let pi = Double.pi
}

// Thin renames so that `Math.exp` does not recurse into itself.
@inlinable func _exp(_ x: Double) -> Double { exp(x) }
@inlinable func _expf(_ x: Float) -> Float { expf(x) }
@inlinable func _expm1(_ x: Double) -> Double { expm1(x) }
@inlinable func _log(_ x: Double) -> Double { log(x) }
@inlinable func _logf(_ x: Float) -> Float { logf(x) }
@inlinable func _log1p(_ x: Double) -> Double { log1p(x) }
@inlinable func _pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
@inlinable func _powf(_ x: Float, _ y: Float) -> Float { powf(x, y) }
@inlinable func _tanhf(_ x: Float) -> Float { tanhf(x) }
@inlinable func _atanf(_ x: Float) -> Float { atanf(x) }
@inlinable func _atan(_ x: Double) -> Double { atan(x) }
@inlinable func _cos(_ x: Double) -> Double { cos(x) }
@inlinable func _sin(_ x: Double) -> Double { sin(x) }
