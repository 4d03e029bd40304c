import SNNBase

// Elementwise arithmetic and reductions. Binary operations require equal shapes (no
// broadcasting: the few broadcasts the layers need, over time or over channels, are
// explicit functions). In-place forms (`+=`, `add(_:scaledBy:)`, `scale(by:)`) are what hot
// paths use; they do not allocate unless the storage is shared.

extension Tensor {
  @inline(__always)
  fileprivate static func checkSameShape(_ a: Tensor, _ b: Tensor, _ op: String) {
    precondition(a.shape == b.shape, "\(op): shapes \(a.shape) and \(b.shape) differ")
  }

  /// Applies `body(x, y)` elementwise into `self` (x from self, y from `other`).
  @inlinable
  mutating func combine(_ other: Tensor, _ body: (Float, Float) -> Float) {
    other.withUnsafeBufferPointer { y in
      withUnsafeMutableBufferPointer { x in
        for i in 0..<x.count { x[i] = body(x[i], y[i]) }
      }
    }
  }

  public static func += (lhs: inout Tensor, rhs: Tensor) {
    checkSameShape(lhs, rhs, "+=")
    lhs.combine(rhs, +)
  }

  public static func -= (lhs: inout Tensor, rhs: Tensor) {
    checkSameShape(lhs, rhs, "-=")
    lhs.combine(rhs, -)
  }

  /// Elementwise (Hadamard) product in place.
  public static func *= (lhs: inout Tensor, rhs: Tensor) {
    checkSameShape(lhs, rhs, "*=")
    lhs.combine(rhs, *)
  }

  public static func *= (lhs: inout Tensor, rhs: Float) { lhs.scale(by: rhs) }

  public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
    var r = lhs
    r += rhs
    return r
  }

  public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
    var r = lhs
    r -= rhs
    return r
  }

  /// Elementwise (Hadamard) product.
  public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
    var r = lhs
    r *= rhs
    return r
  }

  public static func * (lhs: Tensor, rhs: Float) -> Tensor {
    var r = lhs
    r.scale(by: rhs)
    return r
  }

  public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs * lhs }

  /// `self += alpha · other` (axpy).
  public mutating func add(_ other: Tensor, scaledBy alpha: Float) {
    Tensor.checkSameShape(self, other, "add(_:scaledBy:)")
    other.withUnsafeBufferPointer { y in
      withUnsafeMutableBufferPointer { x in
        // A plain loop over unsafe buffers: the compiler vectorizes it 8-wide (AVX).
        for i in 0..<x.count { x[i] += alpha * y[i] }
      }
    }
  }

  /// Multiplies every element by `factor` in place.
  public mutating func scale(by factor: Float) {
    withUnsafeMutableBufferPointer { x in
      for i in 0..<x.count { x[i] *= factor }
    }
  }

  /// Sets every element to `value`.
  public mutating func fill(_ value: Float) {
    withUnsafeMutableBufferPointer { x in x.update(repeating: value) }
  }

  /// A tensor of the same shape with `body` applied to every element.
  public func map(_ body: (Float) -> Float) -> Tensor {
    Tensor(shape: shape, scalars: scalars.map(body))
  }

  /// The sum of all elements (accumulated in Double, so the result does not depend on the
  /// element count's rounding behaviour in Float).
  public var sum: Float {
    withUnsafeBufferPointer { x in
      var s: Double = 0
      for v in x { s += Double(v) }
      return Float(s)
    }
  }

  /// The arithmetic mean of all elements (0 for an empty tensor).
  public var mean: Float { count == 0 ? 0 : Float(Double(sum) / Double(count)) }

  /// Σ x² accumulated in Double.
  public var squaredNorm: Double {
    withUnsafeBufferPointer { x in
      var s: Double = 0
      for v in x { s += Double(v) * Double(v) }
      return s
    }
  }

  /// The Euclidean norm √Σx².
  public var norm: Double { squaredNorm.squareRoot() }

  /// The largest element (−∞ for an empty tensor).
  public var max: Float { scalars.max() ?? -.infinity }

  /// The smallest element (+∞ for an empty tensor).
  public var min: Float { scalars.min() ?? .infinity }

  /// The fraction of nonzero elements (the firing rate of a spike tensor).
  public var nonzeroFraction: Double {
    guard count > 0 else { return 0 }
    let active = withUnsafeBufferPointer { RowOps.nonzeroCount($0.baseAddress!, count: $0.count) }
    return Double(active) / Double(count)
  }

  /// The number of ones when every value is exactly 0 or 1 (a spike tensor), else nil.
  /// One vectorized pass.
  public var binaryCount: Int? {
    guard count > 0 else { return 0 }
    return withUnsafeBufferPointer { RowOps.binaryCount($0.baseAddress!, count: $0.count) }
  }

  /// The largest |x − y| over corresponding elements.
  public func maxAbsoluteDifference(_ other: Tensor) -> Float {
    Tensor.checkSameShape(self, other, "maxAbsoluteDifference")
    return withUnsafeBufferPointer { a in
      other.withUnsafeBufferPointer { b in
        var m: Float = 0
        for i in 0..<a.count { m = Swift.max(m, abs(a[i] - b[i])) }
        return m
      }
    }
  }

  /// Σ over the leading (time) axis: `[T, rest…] → [rest…]`.
  public func summedOverTime() -> Tensor {
    precondition(rank >= 1, "summedOverTime needs a leading axis")
    let steps = shape[0], n = elementsPerStep
    var out = Tensor(shape: Array(shape.dropFirst()))
    withUnsafeBufferPointer { x in
      out.withUnsafeMutableBufferPointer { o in
        for t in 0..<steps {
          let base = t * n
          for i in 0..<n { o[i] += x[base + i] }
        }
      }
    }
    return out
  }

  /// The mean over the leading (time) axis: `[T, rest…] → [rest…]`.
  public func meanOverTime() -> Tensor {
    precondition(rank >= 1 && shape[0] > 0, "meanOverTime needs a non-empty leading axis")
    return summedOverTime() * (1 / Float(shape[0]))
  }

  /// `T` copies of this tensor stacked along a new leading axis: `[rest…] → [T, rest…]`.
  public func repeatedOverTime(_ steps: Int) -> Tensor {
    precondition(steps >= 0, "negative step count")
    var out = Tensor(shape: [steps] + shape)
    let n = count
    withUnsafeBufferPointer { x in
      out.withUnsafeMutableBufferPointer { o in
        for t in 0..<steps {
          (o.baseAddress! + t * n).update(from: x.baseAddress!, count: n)
        }
      }
    }
    return out
  }

  /// Step `t` of a time-major tensor: `[T, rest…] → [rest…]` (a copy).
  public func step(_ t: Int) -> Tensor {
    precondition(rank >= 1 && t >= 0 && t < shape[0], "step \(t) out of range for \(shape)")
    let n = elementsPerStep
    return Tensor(shape: Array(shape.dropFirst()), scalars: Array(scalars[(t * n)..<((t + 1) * n)]))
  }

  /// Stacks equally shaped tensors along a new leading axis.
  public static func stacked(_ parts: [Tensor]) -> Tensor {
    precondition(!parts.isEmpty, "stacked needs at least one tensor")
    let inner = parts[0].shape
    precondition(parts.allSatisfy { $0.shape == inner }, "stacked: shapes differ")
    var values: [Float] = []
    values.reserveCapacity(parts.count * parts[0].count)
    for p in parts { values += p.scalars }
    return Tensor(shape: [parts.count] + inner, scalars: values)
  }
}
