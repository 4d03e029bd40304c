/// Parameters that share optimizer options.
public struct ParameterGroup {
  public var parameters: [Parameter]
  /// λ of the group's weight decay (coupled L2 for SGD/Adam, decoupled for AdamW).
  public var weightDecay: Float
  /// Multiplies the optimizer's learning rate for this group.
  public var learningRateScale: Float

  public init(parameters: [Parameter], weightDecay: Float = 0, learningRateScale: Float = 1) {
    precondition(weightDecay >= 0 && learningRateScale >= 0, "group options must be non-negative")
    self.parameters = parameters
    self.weightDecay = weightDecay
    self.learningRateScale = learningRateScale
  }

  /// Two groups: parameters with a role in `decayed` get `weightDecay`, the others none
  /// (the usual recipe: decay conv/linear weights, not biases, BatchNorm or LSG's b).
  public static func split(
    _ parameters: [Parameter], weightDecay: Float, decayed: Set<Parameter.Role> = [.weight]
  ) -> [ParameterGroup] {
    [
      ParameterGroup(
        parameters: parameters.filter { decayed.contains($0.role) }, weightDecay: weightDecay),
      ParameterGroup(parameters: parameters.filter { !decayed.contains($0.role) }, weightDecay: 0),
    ]
  }
}
