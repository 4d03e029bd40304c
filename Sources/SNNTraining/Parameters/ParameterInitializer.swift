import SNNBase

/// How a parameter's values are drawn when it is created.
///
/// Kaiming (He et al. 2015) scales by the fan of the layer: a normal with
/// `std = gain / √fan`, or a uniform on `±gain·√(3/fan)` (the same variance). `gain = √2`
/// suits ReLU-like units; PyTorch's default `Linear`/`Conv2d` initialization is the uniform
/// variant with `gain = √(1/3)` (bound `1/√fanIn`).
public enum ParameterInitializer: Equatable, Sendable {
  public enum FanMode: String, Sendable { case fanIn, fanOut }

  case zeros
  case constant(Float)
  /// N(mean, std²).
  case normal(mean: Double, std: Double)
  /// U[low, high).
  case uniform(low: Double, high: Double)
  case kaimingNormal(gain: Double, mode: FanMode)
  case kaimingUniform(gain: Double, mode: FanMode)

  /// Kaiming-normal, fan-in, gain √2: the default for weights.
  public static let kaimingDefault = ParameterInitializer.kaimingNormal(
    gain: 2.0.squareRoot(), mode: .fanIn)

  /// Fills `values`, drawing from `generator` in index order (normals take two draws each,
  /// uniforms one; constants draw nothing).
  public func fill(
    _ values: inout [Float], fanIn: Int, fanOut: Int,
    using generator: inout some RandomNumberGenerator
  ) {
    switch self {
    case .zeros:
      for i in values.indices { values[i] = 0 }
    case .constant(let c):
      for i in values.indices { values[i] = c }
    case .normal(let mean, let std):
      for i in values.indices { values[i] = Float(mean + std * generator.nextNormal()) }
    case .uniform(let low, let high):
      for i in values.indices { values[i] = Float(generator.nextUniform(low, high)) }
    case .kaimingNormal(let gain, let mode):
      let fan = Double(max(1, mode == .fanIn ? fanIn : fanOut))
      let std = gain / fan.squareRoot()
      for i in values.indices { values[i] = Float(std * generator.nextNormal()) }
    case .kaimingUniform(let gain, let mode):
      let fan = Double(max(1, mode == .fanIn ? fanIn : fanOut))
      let bound = gain * (3.0 / fan).squareRoot()
      for i in values.indices { values[i] = Float(generator.nextUniform(-bound, bound)) }
    }
  }
}
