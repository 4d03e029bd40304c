import SNNBase

/// What a parameter is, before it has values.
public struct ParameterDescriptor: Equatable, Sendable {
  public var name: String
  public var shape: [Int]
  public var group: ParameterGroup
  public var fanIn: Int
  public var fanOut: Int
  public var initializer: ParameterInitializer

  public init(
    name: String, shape: [Int], group: ParameterGroup, fanIn: Int = 1, fanOut: Int = 1,
    initializer: ParameterInitializer
  ) {
    self.name = name
    self.shape = shape
    self.group = group
    self.fanIn = fanIn
    self.fanOut = fanOut
    self.initializer = initializer
  }

  /// The number of values.
  public var count: Int { shape.reduce(1, *) }
}

extension ModelAnalysis {
  /// The parameters a spec defines, in order: for every layer `<layer>.weight`
  /// (group `weight`, Kaiming-normal fan-in gain √2) then `<layer>.bias` (group `bias`,
  /// zeros) when the spec has biases; then every feedback's `feedback<n>.weight` (group
  /// `weight`, Kaiming-normal fan-in). Methods change initializers or add parameters of
  /// their own (BN, neuron constants) on the ``ParameterStore``.
  public var parameterLayout: [ParameterDescriptor] {
    var layout: [ParameterDescriptor] = []
    for layer in layers {
      layout.append(
        ParameterDescriptor(
          name: layer.name + ".weight", shape: layer.weightShape, group: .weight,
          fanIn: layer.fanIn, fanOut: layer.fanOut, initializer: .kaimingDefault))
      if let biasShape = layer.biasShape {
        layout.append(
          ParameterDescriptor(
            name: layer.name + ".bias", shape: biasShape, group: .bias, fanIn: layer.fanIn,
            fanOut: layer.fanOut, initializer: .zeros))
      }
    }
    for feedback in feedbacks {
      layout.append(
        ParameterDescriptor(
          name: feedback.name + ".weight", shape: feedback.weightShape, group: .weight,
          fanIn: feedback.fanIn, fanOut: feedback.fanOut, initializer: .kaimingDefault))
    }
    return layout
  }

  /// The number of scalar parameters in ``parameterLayout``.
  public var parameterCount: Int { parameterLayout.reduce(0) { $0 + $1.count } }
}
