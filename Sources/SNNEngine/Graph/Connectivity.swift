/// The three kinds of connectivity behind one delivery interface.
public enum Connectivity: Sendable {
  /// Explicit synapses in CSR form.
  case sparse(SynapseGraph)
  /// All-to-all through a weight matrix.
  case dense(DenseConnectivity)
  /// A shared convolution kernel, delivered procedurally.
  case convolution(ConvConnectivity)

  public var sourceCount: Int {
    switch self {
    case .sparse(let g): return g.sourceCount
    case .dense(let d): return d.sourceCount
    case .convolution(let c): return c.sourceCount
    }
  }

  public var targetCount: Int {
    switch self {
    case .sparse(let g): return g.targetCount
    case .dense(let d): return d.targetCount
    case .convolution(let c): return c.targetCount
    }
  }

  public var synapseCount: Int {
    switch self {
    case .sparse(let g): return g.synapseCount
    case .dense(let d): return d.synapseCount
    case .convolution(let c): return c.synapseCount
    }
  }

  /// The exact fan-out of `source`.
  public func fanOut(_ source: Int) -> Int {
    switch self {
    case .sparse(let g): return g.rowStart[source + 1] - g.rowStart[source]
    case .dense(let d): return d.targetCount
    case .convolution(let c): return c.fanOut(source)
    }
  }

  /// The largest synaptic delay.
  public var maximumDelay: Float {
    switch self {
    case .sparse(let g): return g.maximumDelay
    case .dense(let d): return d.delay
    case .convolution(let c): return c.delay
    }
  }
}
