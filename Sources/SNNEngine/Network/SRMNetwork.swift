import SNNBase

/// A feed-forward network of ``GridSRM`` layers compiled for event-driven simulation and
/// event-driven backpropagation (Zhu et al. 2022): each layer's synapses are a
/// ``ConvConnectivity`` or a ``DenseConnectivity`` from the *cells* of its source.
///
/// **Cells.** A layer's source is the network input (layer 0) or the spikes of the layer
/// below, optionally average-pooled over non-overlapping `pool × pool` windows (floor).
/// Pooling has no neurons: it is folded into the synapses. A spike of source neuron
/// (y, x, c) adds 1 to cell (⌊y/k⌋, ⌊x/k⌋, c) at its step, and the connectivity's weights are
/// the layer's weights times 1/k², so a cell holding n spikes delivers n·w/k² — exactly the
/// pooled value n/k² through the weight w. Cells are channels-last, as neurons are.
///
/// **Weights.** ``setWeights(layer:_:)`` takes weights in the model layout (`[out, in, k, k]`
/// for a convolution, `[out, in]` over the flattened channels-first `C·H·W` for a dense
/// layer) and fills the connectivity (kernel `[ky][kx][cin][cout]`, dense rows by source)
/// and a transposed copy for the backward pass (`[cout][ky][kx][cin]`, dense rows by
/// target), both scaled by 1/k².
public struct SRMNetwork: Sendable {
  /// How the input reaches layer 0.
  public enum Input: Sendable, Equatable {
    /// A static analog sample injected as the same current at every step (an image): the
    /// current of layer 0 is computed once per sample by a dense convolution (counted as
    /// multiply-accumulates).
    case current
    /// T frames, one per step; every non-zero value is an input event delivering
    /// value × weight (N-MNIST frames of event counts).
    case frames
  }

  /// A channels-last shape.
  public struct Shape: Equatable, Sendable {
    public var height: Int, width: Int, channels: Int
    public init(height: Int, width: Int, channels: Int) {
      self.height = height
      self.width = width
      self.channels = channels
    }
    public var count: Int { height * width * channels }
    public var pixels: Int { height * width }
  }

  public struct Layer: Sendable {
    /// The source neurons (or input values) before pooling.
    public let source: Shape
    /// The pooling window k (1: none).
    public let pool: Int
    /// The cells: the pooled source grid, the connectivity's sources.
    public let cells: Shape
    /// The neurons of this layer (for a dense layer: `1 × 1 × N`).
    public let output: Shape
    /// The synapses from cells to neurons, weights scaled by 1/pool².
    public internal(set) var connectivity: Connectivity
    /// The transposed weights for the backward pass: `[cout][ky][kx][cin]` for a
    /// convolution, `[target][cell]` for a dense layer (scaled by 1/pool²).
    public internal(set) var transposedWeights: [Float]

    /// Whether the layer is a convolution.
    public var isConvolution: Bool {
      if case .convolution = connectivity { return true }
      return false
    }

    /// The number of weights.
    public var weightCount: Int { transposedWeights.count }
  }

  public let input: Input
  public let inputShape: Shape
  public let timeSteps: Int
  public let parameters: GridSRM.Parameters
  public let propagators: GridSRM.Propagators
  public private(set) var layers: [Layer]

  /// A layer description for ``init(input:inputShape:timeSteps:parameters:layers:)``.
  public enum LayerSpec: Sendable, Equatable {
    /// A convolution over the (pooled) source, square kernel.
    case conv(outChannels: Int, kernel: Int, stride: Int, padding: Int, pool: Int)
    /// A dense layer over the flattened (pooled) source.
    case dense(outFeatures: Int, pool: Int)
  }

  /// Builds the layers with zero weights. Layer 0 cannot be pooled.
  public init(
    input: Input, inputShape: Shape, timeSteps: Int, parameters: GridSRM.Parameters,
    layers specs: [LayerSpec]
  ) throws(ConfigurationError) {
    try parameters.validate(prefix: "neuron.")
    guard timeSteps >= 1 else {
      throw .invalid(field: "T", value: "\(timeSteps)", expected: "an integer ≥ 1")
    }
    guard !specs.isEmpty else {
      throw .invalid(field: "layers", value: "none", expected: "at least one layer")
    }
    self.input = input
    self.inputShape = inputShape
    self.timeSteps = timeSteps
    self.parameters = parameters
    propagators = GridSRM.Propagators(parameters)
    var built: [Layer] = []
    var source = inputShape
    for (index, spec) in specs.enumerated() {
      let pool: Int
      switch spec {
      case .conv(_, _, _, _, let p), .dense(_, let p): pool = p
      }
      guard pool >= 1, index > 0 || pool == 1 else {
        throw .invalid(
          field: "layers[\(index)].pool", value: "\(pool)",
          expected: index == 0 ? "1 (no pooling before the first layer)" : "an integer ≥ 1")
      }
      let cells = Shape(
        height: source.height / pool, width: source.width / pool, channels: source.channels)
      guard cells.height >= 1, cells.width >= 1 else {
        throw .invalid(
          field: "layers[\(index)].pool", value: "\(pool)",
          expected: "a window no larger than the \(source.height)×\(source.width) source")
      }
      switch spec {
      case .conv(let outChannels, let kernel, let stride, let padding, _):
        guard outChannels >= 1, kernel >= 1, stride >= 1, padding >= 0,
          cells.height + 2 * padding >= kernel, cells.width + 2 * padding >= kernel
        else {
          throw .invalid(
            field: "layers[\(index)]", value: "\(outChannels)C\(kernel)s\(stride)p\(padding)",
            expected: "a kernel no larger than the padded \(cells.height)×\(cells.width) input")
        }
        let c = ConvConnectivity(
          inChannels: cells.channels, height: cells.height, width: cells.width,
          outChannels: outChannels, kernelHeight: kernel, kernelWidth: kernel, stride: stride,
          padding: padding,
          kernel: [Float](repeating: 0, count: kernel * kernel * cells.channels * outChannels))
        let output = Shape(height: c.outHeight, width: c.outWidth, channels: outChannels)
        built.append(
          Layer(
            source: source, pool: pool, cells: cells, output: output,
            connectivity: .convolution(c),
            transposedWeights: [Float](repeating: 0, count: c.kernel.count)))
        source = output
      case .dense(let outFeatures, _):
        guard outFeatures >= 1 else {
          throw .invalid(
            field: "layers[\(index)]", value: "\(outFeatures)", expected: "at least 1 output")
        }
        let d = DenseConnectivity(
          sourceCount: cells.count, targetCount: outFeatures,
          weights: [Float](repeating: 0, count: cells.count * outFeatures))
        let output = Shape(height: 1, width: 1, channels: outFeatures)
        built.append(
          Layer(
            source: source, pool: pool, cells: cells, output: output, connectivity: .dense(d),
            transposedWeights: [Float](repeating: 0, count: d.weights.count)))
        source = output
      }
    }
    layers = built
  }

  /// The number of spiking neurons per sample.
  public var neuronCount: Int { layers.reduce(0) { $0 + $1.output.count } }

  /// The dense multiply-accumulates of one time step (every synapse once, pooling free):
  /// the "ANN-equivalent" count, as ``ModelAnalysis`` gives it for padded convolutions.
  public var denseMACsPerStep: Int {
    layers.reduce(0) { total, layer in
      switch layer.connectivity {
      case .convolution(let c):
        return total + c.targetCount * c.inChannels * c.kernelHeight * c.kernelWidth
      case .dense(let d): return total + d.synapseCount
      case .sparse(let g): return total + g.synapseCount
      }
    }
  }

  /// Sets layer `index`'s weights from the model layout (see the type's description).
  public mutating func setWeights(layer index: Int, _ weights: UnsafeBufferPointer<Float>) {
    let layer = layers[index]
    precondition(weights.count == layer.weightCount, "weights of layer \(index): wrong count")
    let scale = 1 / Float(layer.pool * layer.pool)
    var transposed = layer.transposedWeights
    switch layer.connectivity {
    case .convolution(var c):
      let cin = c.inChannels, cout = c.outChannels, kh = c.kernelHeight, kw = c.kernelWidth
      c.kernel.withUnsafeMutableBufferPointer { kernel in
        transposed.withUnsafeMutableBufferPointer { t in
          for o in 0..<cout {
            for i in 0..<cin {
              for ky in 0..<kh {
                for kx in 0..<kw {
                  let w = weights[((o * cin + i) * kh + ky) * kw + kx] * scale
                  kernel[((ky * kw + kx) * cin + i) * cout + o] = w
                  t[((o * kh + ky) * kw + kx) * cin + i] = w
                }
              }
            }
          }
        }
      }
      layers[index].connectivity = .convolution(c)
    case .dense(var d):
      let cells = layer.cells
      let n = d.targetCount
      d.weights.withUnsafeMutableBufferPointer { rows in
        transposed.withUnsafeMutableBufferPointer { t in
          for o in 0..<n {
            for c in 0..<cells.channels {
              for y in 0..<cells.height {
                for x in 0..<cells.width {
                  let w =
                    weights[o * cells.count + (c * cells.height + y) * cells.width + x] * scale
                  let cell = (y * cells.width + x) * cells.channels + c
                  rows[cell * n + o] = w
                  t[o * cells.count + cell] = w
                }
              }
            }
          }
        }
      }
      layers[index].connectivity = .dense(d)
    case .sparse:
      preconditionFailure("SRM layers are convolutional or dense")
    }
    layers[index].transposedWeights = transposed
  }

  /// Maps a gradient accumulated in the transposed layout (per unit cell count) back to
  /// the model layout of layer `index`, adding `scale`·(1/pool²)·g into `destination`.
  public func addGradient(
    layer index: Int, transposed g: UnsafeBufferPointer<Float>, scale: Float,
    into destination: UnsafeMutableBufferPointer<Float>
  ) {
    let layer = layers[index]
    let factor = scale / Float(layer.pool * layer.pool)
    switch layer.connectivity {
    case .convolution(let c):
      let cin = c.inChannels, kh = c.kernelHeight, kw = c.kernelWidth
      for o in 0..<c.outChannels {
        for i in 0..<cin {
          for ky in 0..<kh {
            for kx in 0..<kw {
              destination[((o * cin + i) * kh + ky) * kw + kx] +=
                factor * g[((o * kh + ky) * kw + kx) * cin + i]
            }
          }
        }
      }
    case .dense(let d):
      let cells = layer.cells
      for o in 0..<d.targetCount {
        for c in 0..<cells.channels {
          for y in 0..<cells.height {
            for x in 0..<cells.width {
              destination[o * cells.count + (c * cells.height + y) * cells.width + x] +=
                factor * g[o * cells.count + (y * cells.width + x) * cells.channels + c]
            }
          }
        }
      }
    case .sparse:
      preconditionFailure("SRM layers are convolutional or dense")
    }
  }
}
