import SNNBase

/// Which fan a variance-scaling initializer divides by.
public enum FanMode: String, Sendable, Hashable, CaseIterable {
  /// Inputs per output unit (C_in·k_h·k_w for a conv kernel): preserves forward variance.
  case fanIn
  /// Outputs per input unit (C_out·k_h·k_w): preserves backward variance.
  case fanOut
}

/// Random weight initializers drawn from the project's seeded generators.
///
/// Kaiming (He et al., "Delving Deep into Rectifiers", ICCV 2015): with gain g (√2 for
/// ReLU-like units) and fan n, the normal form draws N(0, g²/n) and the uniform form draws
/// U(−b, b) with b = g·√(3/n) (same variance). PyTorch's default for `Linear`/`Conv2d` is
/// the uniform form with g = √(2/(1 + 5)) = 1/√3, i.e. b = 1/√fanIn.
public enum Initializer: Sendable, Hashable {
  case zeros
  case constant(Float)
  /// N(0, σ²) with the given standard deviation.
  case normal(std: Float)
  /// U(−bound, bound).
  case uniform(bound: Float)
  case kaimingNormal(mode: FanMode = .fanIn, gain: Float = 1.4142135)
  case kaimingUniform(mode: FanMode = .fanIn, gain: Float = 1.4142135)

  /// PyTorch's default `Linear`/`Conv2d` weight initializer: U(−1/√fanIn, 1/√fanIn).
  public static let pytorchDefault = Initializer.kaimingUniform(mode: .fanIn, gain: 0.57735026)

  /// Draws a tensor of `shape` whose fan-in/fan-out are given explicitly. Normal samples use
  /// `nextNormal()` (two draws each), uniform ones `nextUnitDouble()` (one draw each), in
  /// row-major order, so a seed determines the tensor bit for bit.
  public func make(
    shape: [Int], fanIn: Int, fanOut: Int, using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    let n = Tensor.elementCount(shape)
    func fan(_ mode: FanMode) -> Double {
      let f = mode == .fanIn ? fanIn : fanOut
      precondition(f > 0, "fan must be positive")
      return Double(f)
    }
    switch self {
    case .zeros:
      return Tensor(shape: shape)
    case .constant(let c):
      return Tensor(shape: shape, repeating: c)
    case .normal(let std):
      var v = [Float](repeating: 0, count: n)
      for i in 0..<n { v[i] = Float(generator.nextNormal() * Double(std)) }
      return Tensor(shape: shape, scalars: v)
    case .uniform(let bound):
      var v = [Float](repeating: 0, count: n)
      for i in 0..<n { v[i] = Float((2 * generator.nextUnitDouble() - 1) * Double(bound)) }
      return Tensor(shape: shape, scalars: v)
    case .kaimingNormal(let mode, let gain):
      let std = Float(Double(gain) / fan(mode).squareRoot())
      return Initializer.normal(std: std).make(
        shape: shape, fanIn: fanIn, fanOut: fanOut, using: &generator)
    case .kaimingUniform(let mode, let gain):
      let bound = Float(Double(gain) * (3 / fan(mode)).squareRoot())
      return Initializer.uniform(bound: bound).make(
        shape: shape, fanIn: fanIn, fanOut: fanOut, using: &generator)
    }
  }
}
