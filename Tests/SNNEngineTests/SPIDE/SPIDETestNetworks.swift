import SNNBase

@testable import SNNEngine

/// Small random networks for the SPIDE tests.
enum SPIDETestNetworks {
  static func random(
    _ p: inout SPIDEProjection, scale: Double, mean: Double = 0, using g: inout Xoshiro256StarStar
  ) {
    var w = p.weights
    let real = realMask(p)
    for i in w.indices { w[i] = real[i] ? Float(mean + scale * g.nextNormal()) : 0 }
    p.weights = w
  }

  /// Which canonical weight entries connect real (not padding) channels.
  static func realMask(_ p: SPIDEProjection) -> [Bool] {
    let s = p.source
    let t = p.target
    switch p.wiring {
    case .dense:
      return (0..<(s.neuronCount * t.neuronCount)).map {
        s.isReal($0 / t.neuronCount) && t.isReal($0 % t.neuronCount)
      }
    case .conv(let k, _, _):
      return (0..<(k * k * s.paddedChannels * t.paddedChannels)).map {
        $0 % t.paddedChannels < t.channels && ($0 / t.paddedChannels) % s.paddedChannels < s.channels
      }
    case .convTranspose(let k, _, _):
      return (0..<(k * k * s.paddedChannels * t.paddedChannels)).map {
        $0 % s.paddedChannels < s.channels && ($0 / s.paddedChannels) % t.paddedChannels < t.channels
      }
    case .averagePool: return []
    }
  }

  /// conv3p1 → AP2 → conv3p1 → dense 7, dense feedback 7 → layer 0; input 2×8×8.
  static func convPoolDense(
    neuron: SPIDENeuronModel = SPIDENeuronModel(), feedback: Bool = true, seed: UInt64 = 1
  ) throws -> SPIDENetwork {
    var g = Xoshiro256StarStar(seed: seed)
    let input = SPIDELayer(channels: 2, height: 8, width: 8)
    let l0 = SPIDELayer(channels: 5, height: 8, width: 8)
    let l1 = SPIDELayer(channels: 5, height: 4, width: 4)
    let l2 = SPIDELayer(channels: 6, height: 4, width: 4)
    let l3 = SPIDELayer(channels: 7, height: 1, width: 1)
    var f = try SPIDEProjection(source: input, target: l0, wiring: .conv(kernel: 3, stride: 1, padding: 1))
    random(&f, scale: 0.6, using: &g)
    let pool = try SPIDEProjection(source: l0, target: l1, wiring: .averagePool(2))
    var c2 = try SPIDEProjection(source: l1, target: l2, wiring: .conv(kernel: 3, stride: 1, padding: 1))
    random(&c2, scale: 0.5, using: &g)
    var d3 = try SPIDEProjection(source: l2, target: l3, wiring: .dense)
    random(&d3, scale: 0.5, using: &g)
    var fb: SPIDEProjection? = nil
    if feedback {
      var p = try SPIDEProjection(source: l3, target: l0, wiring: .dense)
      random(&p, scale: 0.3, using: &g)
      fb = p
    }
    let biases: [[Float]] = [
      (0..<5).map { _ in Float(0.2 * g.nextNormal()) }, [],
      (0..<6).map { _ in Float(0.1 + 0.2 * g.nextNormal()) },
      (0..<7).map { _ in Float(0.1 * g.nextNormal()) },
    ]
    return try SPIDENetwork(
      input: input, inputProjection: f, projections: [pool, c2, d3], feedback: fb, biases: biases,
      neuron: neuron)
  }

  /// The shape of SPIDE's MNIST convnet, small: 1×12×12 → 4C5s2p2 → 4C5s2p2 → 4C3p1, and a
  /// transposed-convolution feedback 3s2p1o1 from the last layer to the first.
  static func convTransposeFeedback(neuron: SPIDENeuronModel = SPIDENeuronModel(), seed: UInt64 = 2)
    throws -> SPIDENetwork
  {
    var g = Xoshiro256StarStar(seed: seed)
    let input = SPIDELayer(channels: 1, height: 12, width: 12)
    let l0 = SPIDELayer(channels: 4, height: 6, width: 6)
    let l1 = SPIDELayer(channels: 4, height: 3, width: 3)
    let l2 = SPIDELayer(channels: 4, height: 3, width: 3)
    var f = try SPIDEProjection(source: input, target: l0, wiring: .conv(kernel: 5, stride: 2, padding: 2))
    random(&f, scale: 0.6, using: &g)
    var c1 = try SPIDEProjection(source: l0, target: l1, wiring: .conv(kernel: 5, stride: 2, padding: 2))
    random(&c1, scale: 0.4, using: &g)
    var c2 = try SPIDEProjection(source: l1, target: l2, wiring: .conv(kernel: 3, stride: 1, padding: 1))
    random(&c2, scale: 0.5, using: &g)
    var fb = try SPIDEProjection(source: l2, target: l0, wiring: .convTranspose(kernel: 3, stride: 2, padding: 1))
    random(&fb, scale: 0.4, using: &g)
    return try SPIDENetwork(
      input: input, inputProjection: f, projections: [c1, c2], feedback: fb,
      biases: [[0.1, -0.1, 0.2, 0], [0, 0.1, 0, 0.05], [0.1, 0.1, -0.1, 0]], neuron: neuron)
  }

  /// One fully connected layer of `n` neurons with a dense feedback onto itself (IDE's
  /// Fashion-MNIST shape), input `inputs` values.
  static func recurrentDense(
    inputs: Int = 12, n: Int = 10, neuron: SPIDENeuronModel = SPIDENeuronModel(), seed: UInt64 = 3,
    feedbackScale: Double = 0.25
  ) throws -> SPIDENetwork {
    var g = Xoshiro256StarStar(seed: seed)
    let input = SPIDELayer(channels: inputs, height: 1, width: 1)
    let l0 = SPIDELayer(channels: n, height: 1, width: 1)
    var f = try SPIDEProjection(source: input, target: l0, wiring: .dense)
    random(&f, scale: 0.5, mean: 0.1, using: &g)
    var fb = try SPIDEProjection(source: l0, target: l0, wiring: .dense)
    random(&fb, scale: feedbackScale, using: &g)
    return try SPIDENetwork(
      input: input, inputProjection: f, projections: [], feedback: fb,
      biases: [(0..<n).map { _ in Float(0.1 * g.nextNormal()) }], neuron: neuron)
  }

  /// A random static input in engine layout (padding zero).
  static func input(_ layer: SPIDELayer, using g: inout Xoshiro256StarStar) -> [Float] {
    (0..<layer.neuronCount).map { layer.isReal($0) ? Float(g.nextUniform(-0.5, 2.5)) : 0 }
  }
}
