/// Layers applied in order; backward runs them in reverse.
public final class Sequential: DenseLayer {
  public let name: String
  public private(set) var layers: [any DenseLayer]

  public init(name: String = "sequential", _ layers: [any DenseLayer]) {
    self.name = name
    self.layers = layers
  }

  public var parameters: [Parameter] { layers.flatMap { $0.parameters } }

  public var isTraining: Bool {
    get { layers.first?.isTraining ?? true }
    set { for l in layers { l.isTraining = newValue } }
  }

  public func forward(_ input: Tensor) -> Tensor {
    var x = input
    for l in layers { x = l.forward(x) }
    return x
  }

  public func backward(_ gradOutput: Tensor) -> Tensor {
    var g = gradOutput
    for l in layers.reversed() { g = l.backward(g) }
    return g
  }

  /// Sets every parameter gradient to zero.
  public func zeroGradients() { for p in parameters { p.zeroGradient() } }
}
