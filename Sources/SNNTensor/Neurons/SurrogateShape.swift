/// A surrogate shape as a type, so that the backward loop is specialized (and vectorized)
/// for each shape instead of calling through a closure.
public protocol SurrogateShape {
  static func derivative<S: DenseScalar>(_ x: S, _ parameter: S) -> S
}

public enum SigmoidShape: SurrogateShape {
  @inlinable @inline(__always)
  public static func derivative<S: DenseScalar>(_ x: S, _ a: S) -> S {
    SurrogateKernel<S>.sigmoidDerivative(x, a)
  }
}

public enum ATanShape: SurrogateShape {
  @inlinable @inline(__always)
  public static func derivative<S: DenseScalar>(_ x: S, _ a: S) -> S {
    SurrogateKernel<S>.atanDerivative(x, a)
  }
}

public enum RectangleShape: SurrogateShape {
  @inlinable @inline(__always)
  public static func derivative<S: DenseScalar>(_ x: S, _ w: S) -> S {
    SurrogateKernel<S>.rectangleDerivative(x, w)
  }
}

public enum TriangleShape: SurrogateShape {
  @inlinable @inline(__always)
  public static func derivative<S: DenseScalar>(_ x: S, _ w: S) -> S {
    SurrogateKernel<S>.triangleDerivative(x, w)
  }
}
