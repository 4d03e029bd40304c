import SNNBase

/// A named set of parameters, for optimizer options such as weight decay.
///
/// The built-in groups: ``weight`` (conv, linear and feedback weights; weight decay on by
/// default), ``bias``, ``normalization`` (BN γ/β, weight-standardization gains), ``neuron``
/// (learnable neuron constants such as LSG's `b_n`). Methods may define their own.
public struct ParameterGroup: Hashable, Sendable, CustomStringConvertible,
  ExpressibleByStringLiteral
{
  public var name: String
  public init(_ name: String) { self.name = name }
  public init(stringLiteral value: String) { name = value }
  public var description: String { name }

  public static let weight = ParameterGroup("weight")
  public static let bias = ParameterGroup("bias")
  public static let normalization = ParameterGroup("normalization")
  public static let neuron = ParameterGroup("neuron")
}
