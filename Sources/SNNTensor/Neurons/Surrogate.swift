/// Surrogate gradients for the spike nonlinearity S = Θ(x), x = H − V_th, Θ(0) = 1.
///
/// The forward pass always uses the Heaviside step; the surrogate h(x) replaces its
/// derivative δ(x) in the backward pass (Neftci, Mostafa & Zenke, "Surrogate Gradient
/// Learning in Spiking Neural Networks", IEEE Signal Processing Magazine 2019). Each case
/// also has a smooth *primitive* P with P′ = h, used by the neuron's primitive mode, in
/// which Θ is replaced by P so that finite differences of the forward pass equal the
/// backward pass.
public enum Surrogate: Hashable, Sendable {
  /// h(x) = a·σ(ax)(1 − σ(ax)), P(x) = σ(ax). SpikingJelly's default (a = 4); used by
  /// Rate-BP (Yu et al., NeurIPS 2024) and NDOT/OTTT (Jiang et al., ICML 2024; Xiao et al.,
  /// NeurIPS 2022).
  case sigmoid(alpha: Float = 4)
  /// h(x) = (a/2) / (1 + (π/2·a·x)²), P(x) = atan(π/2·a·x)/π + 1/2 (SpikingJelly's `ATan`,
  /// Fang et al., "Incorporating Learnable Membrane Time Constant…", ICCV 2021; a = 2).
  case atan(alpha: Float = 2)
  /// h(x) = (1/w)·1[|x| < w/2], P(x) = clamp(x/w + 1/2, 0, 1) (Wu et al., "Spatio-Temporal
  /// Backpropagation", Frontiers in Neuroscience 2018, rectangular curve).
  case rectangle(width: Float = 1)
  /// h(x) = (2/w)·max(0, 1 − 2|x|/w): a triangle of base w and area 1 (the piecewise-linear
  /// pseudo-derivative of Esser et al., PNAS 2016, and Bellec et al., NeurIPS 2018).
  case triangle(width: Float = 1)
  /// LSG's learnable width (Lian et al., "Learnable Surrogate Gradient for Direct Training
  /// Spiking Neural Networks", IJCAI 2023): a rectangle of width α = 2·V_th·√(1 + β²), where
  /// β is the layer's (learnable) leak. α is recomputed from β at every forward pass and
  /// treated as a constant in the backward pass (no gradient reaches α).
  case learnableWidth

  /// LSG's width rule α = f(β) = 2·V_th·√(1 + β²) (Lian et al., IJCAI 2023, eq. for the
  /// learnable surrogate; α = 2σ_mem when the input current is N(0, V_th²)).
  public static func lsgWidth(beta: Double, vThreshold: Double) -> Double {
    2 * vThreshold * (1 + beta * beta).squareRoot()
  }

  /// The concrete surrogate for a pass, with LSG's width resolved from the leak `beta`.
  public func resolved(beta: Double, vThreshold: Double) -> Surrogate {
    if case .learnableWidth = self {
      return .rectangle(width: Float(Surrogate.lsgWidth(beta: beta, vThreshold: vThreshold)))
    }
    return self
  }

  /// The width of the window where h ≠ 0, or nil for surrogates with unbounded support.
  /// For ``learnableWidth`` call ``resolved(beta:vThreshold:)`` first.
  public var windowWidth: Float? {
    switch self {
    case .rectangle(let w), .triangle(let w): return w
    case .sigmoid, .atan, .learnableWidth: return nil
    }
  }

  /// The scalar kernel for numeric code; ``learnableWidth`` must be resolved first.
  public func kernel<S: DenseScalar>(_: S.Type = S.self) -> SurrogateKernel<S> {
    switch self {
    case .sigmoid(let a): return SurrogateKernel(kind: .sigmoid, parameter: S(a))
    case .atan(let a): return SurrogateKernel(kind: .atan, parameter: S(a))
    case .rectangle(let w): return SurrogateKernel(kind: .rectangle, parameter: S(w))
    case .triangle(let w): return SurrogateKernel(kind: .triangle, parameter: S(w))
    case .learnableWidth:
      preconditionFailure("resolve the LSG width with resolved(beta:vThreshold:) first")
    }
  }
}

/// A resolved surrogate as plain numbers: h(x) and its primitive P(x) for numeric loops.
@frozen
public struct SurrogateKernel<S: DenseScalar>: Sendable {
  public enum Kind: UInt8, Sendable { case sigmoid, atan, rectangle, triangle }
  /// The shape of h.
  public var kind: Kind
  /// a for sigmoid and atan, the width w for rectangle and triangle.
  public var parameter: S

  @inlinable
  public init(kind: Kind, parameter: S) {
    precondition(parameter > 0, "surrogate parameter must be positive")
    self.kind = kind
    self.parameter = parameter
  }

  /// h(x), the surrogate derivative of Θ at x = H − V_th.
  @inlinable @inline(__always)
  public func derivative(_ x: S) -> S {
    switch kind {
    case .sigmoid: return SurrogateKernel.sigmoidDerivative(x, parameter)
    case .atan: return SurrogateKernel.atanDerivative(x, parameter)
    case .rectangle: return SurrogateKernel.rectangleDerivative(x, parameter)
    case .triangle: return SurrogateKernel.triangleDerivative(x, parameter)
    }
  }

  /// P(x), the smooth primitive of h (P′ = h, P(−∞) = 0, P(+∞) = 1).
  @inlinable @inline(__always)
  public func primitive(_ x: S) -> S {
    switch kind {
    case .sigmoid:
      return 1 / (1 + S.exponential(-parameter * x))
    case .atan:
      let k = S.pi / 2 * parameter
      return S.arctangent(k * x) / S.pi + S(0.5)
    case .rectangle:
      return Swift.min(Swift.max(x / parameter + S(0.5), 0), 1)
    case .triangle:
      let w = parameter, half = w / 2
      if x <= -half { return 0 }
      if x >= half { return 1 }
      // ∫ (2/w)(1 − 2|s|/w) ds from −w/2: quadratic pieces meeting at 1/2.
      let u = (x + half) / half  // in [0, 2]
      return u <= 1 ? u * u / 2 : 1 - (2 - u) * (2 - u) / 2
    }
  }

  /// a·σ(ax)(1 − σ(ax)), returned as exactly 0 below 10⁻²⁰ (|ax| ≳ 45; the
  /// argument of the exponential is clamped to ±80). Such values and
  /// their products with gradients would be subnormal in Float, which makes every
  /// operation on them tens of times slower (measured: a backward pass over saturated
  /// neurons ran 5–8× slower), while their contribution is far below Float resolution.
  @inlinable @inline(__always)
  public static func sigmoidDerivative(_ x: S, _ a: S) -> S {
    // Clamping ax to ±80 keeps e^(−ax) and σ normal numbers; the result there is < 1e-20.
    let z = Swift.min(Swift.max(-a * x, -80), 80)
    let s = 1 / (1 + S.exponential(z))
    let r = a * s * (1 - s)
    return r >= S(1e-20) ? r : 0
  }

  /// (a/2) / (1 + (π/2·a·x)²).
  @inlinable @inline(__always)
  public static func atanDerivative(_ x: S, _ a: S) -> S {
    let k = S.pi / 2 * a * x
    return a / 2 / (1 + k * k)
  }

  /// (1/w)·1[|x| < w/2].
  @inlinable @inline(__always)
  public static func rectangleDerivative(_ x: S, _ w: S) -> S {
    abs(x) < w / 2 ? 1 / w : 0
  }

  /// (2/w)·max(0, 1 − 2|x|/w).
  @inlinable @inline(__always)
  public static func triangleDerivative(_ x: S, _ w: S) -> S {
    (2 / w) * Swift.max(0, 1 - 2 * abs(x) / w)
  }
}
