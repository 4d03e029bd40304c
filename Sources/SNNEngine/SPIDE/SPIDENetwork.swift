import SNNBase

/// A feedback spiking network as SPIDE trains it (Xiao et al. 2023): a chain of spiking
/// layers 0…L, an input projection into layer 0, and an optional feedback projection from
/// layer L back to layer 0 with a delay of one step.
///
/// Per forward step t = 1…T (all layers in the same step, in order):
///
///     I_0[t] = F·x[t] + b_0 + W_fb·s_L[t−1]      (s_L[0] = 0)
///     I_l[t] = W_l·s_{l−1}[t] + b_l               (l ≥ 1)
///
/// Average pooling is a projection with fixed weights 1/k² followed by its own spiking
/// layer, as in SPIDE. The equilibrium of the rates is
/// a_0 = σ((W_fb·a_L + F·x + b_0)/q), a_l = σ((W_l·a_{l−1} + b_l)/q) (``SPIDEEquilibrium``).
///
/// The network holds float weights; ``SPIDECompiledNetwork`` quantizes them to the
/// fixed-point form the event-driven phases run on.
public struct SPIDENetwork: Sendable {
  /// The input's shape (channels-last, padded like a layer; padding entries are zero).
  public let input: SPIDELayer
  public let layers: [SPIDELayer]
  /// Input → layer 0.
  public var inputProjection: SPIDEProjection
  /// `projections[l − 1]`: layer l − 1 → layer l, for l = 1…L.
  public var projections: [SPIDEProjection]
  /// Layer L → layer 0, delay one step.
  public var feedback: SPIDEProjection?
  /// `biases[l]`: one per real channel of layer l, or empty (no bias; pooling layers).
  public var biases: [[Float]]
  public var neuron: SPIDENeuronModel

  public init(
    input: SPIDELayer, inputProjection: SPIDEProjection, projections: [SPIDEProjection],
    feedback: SPIDEProjection?, biases: [[Float]], neuron: SPIDENeuronModel
  ) throws(ConfigurationError) {
    var layers = [inputProjection.target]
    guard inputProjection.source == input else {
      throw .invalid(
        field: "SPIDE input projection", value: "source \(inputProjection.source)",
        expected: "the input shape \(input)")
    }
    for (i, p) in projections.enumerated() {
      guard p.source == layers.last! else {
        throw .invalid(
          field: "SPIDE projection \(i + 1)", value: "source \(p.source)",
          expected: "the previous layer \(layers.last!)")
      }
      layers.append(p.target)
    }
    if let feedback {
      guard feedback.source == layers.last!, feedback.target == layers[0] else {
        throw .invalid(
          field: "SPIDE feedback", value: "\(feedback.source) → \(feedback.target)",
          expected: "the last layer \(layers.last!) → the first layer \(layers[0])")
      }
      if case .averagePool = feedback.wiring {
        throw .invalid(
          field: "SPIDE feedback", value: "average pooling", expected: "a weighted projection")
      }
    }
    guard biases.count == layers.count else {
      throw .invalid(
        field: "SPIDE biases", value: "\(biases.count) lists",
        expected: "one per layer (\(layers.count))")
    }
    for (l, b) in biases.enumerated() where !b.isEmpty && b.count != layers[l].channels {
      throw .invalid(
        field: "SPIDE biases[\(l)]", value: "\(b.count) values",
        expected: "one per channel (\(layers[l].channels)) or none")
    }
    try neuron.validate(prefix: "SPIDE neuron.")
    self.input = input
    self.layers = layers
    self.inputProjection = inputProjection
    self.projections = projections
    self.feedback = feedback
    self.biases = biases
    self.neuron = neuron
  }

  /// The index L of the last layer.
  public var lastLayer: Int { layers.count - 1 }

  /// The projection into layer l: the input projection for l = 0, else `projections[l − 1]`.
  public func projection(into l: Int) -> SPIDEProjection {
    l == 0 ? inputProjection : projections[l - 1]
  }

  /// The constant input current of layer 0 for a static input `x` (engine layout of
  /// ``input``): `F·x + b_0`, one value per neuron of layer 0 (padding entries 0).
  public func inputCurrent(_ x: UnsafeBufferPointer<Float>) -> [Float] {
    precondition(x.count == input.neuronCount, "input size mismatch")
    let layer = layers[0]
    var current = [Float](repeating: 0, count: layer.neuronCount)
    let weights = inputProjection.forwardLayoutWeights()
    let pool = inputProjection.poolWeight
    current.withUnsafeMutableBufferPointer { out in
      weights.withUnsafeBufferPointer { w in
        for s in 0..<x.count where x[s] != 0 {
          let value = x[s]
          inputProjection.forEachTargetRun(of: s) { first, offset, count in
            if w.isEmpty {
              out[first] += value * pool
            } else {
              for i in 0..<count { out[first + i] += value * w[offset + i] }
            }
          }
        }
        let bias = biases[0]
        if !bias.isEmpty {
          for p in 0..<layer.pixelCount {
            for c in 0..<layer.channels { out[p * layer.paddedChannels + c] += bias[c] }
          }
        }
      }
    }
    return current
  }
}
