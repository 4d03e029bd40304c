import SNNBase

@testable import SNNEngine

/// A dense, per-step reference of SPIDE's two phases, written independently of the
/// event-driven code: every neuron of every layer is updated at every step, and the
/// synapses are enumerated by brute force from the definitions of convolution, transposed
/// convolution, pooling and dense wiring (not through the projections' run iterators).
/// It uses the same fixed point (shifts, drive clamps, rounding) as
/// ``SPIDECompiledNetwork``, so its integer spike counters must match the event-driven
/// phases exactly.
struct SPIDEDenseReference {
  struct Synapse {
    var source: Int
    var target: Int
    var weight: Float
  }

  /// All synapses of a projection (source → target), with canonical weights.
  static func synapses(_ p: SPIDEProjection) -> [Synapse] {
    let s = p.source
    let t = p.target
    let w = p.weights
    var out: [Synapse] = []
    switch p.wiring {
    case .dense:
      for i in 0..<s.neuronCount {
        for j in 0..<t.neuronCount { out.append(Synapse(source: i, target: j, weight: w[i * t.neuronCount + j])) }
      }
    case .conv(let k, let stride, let padding):
      for oy in 0..<t.height {
        for ox in 0..<t.width {
          for co in 0..<t.paddedChannels {
            for ky in 0..<k {
              for kx in 0..<k {
                let y = oy * stride - padding + ky
                let x = ox * stride - padding + kx
                guard y >= 0, y < s.height, x >= 0, x < s.width else { continue }
                for ci in 0..<s.paddedChannels {
                  out.append(
                    Synapse(
                      source: s.index(channel: ci, y: y, x: x), target: t.index(channel: co, y: oy, x: ox),
                      weight: w[((ky * k + kx) * s.paddedChannels + ci) * t.paddedChannels + co]))
                }
              }
            }
          }
        }
      }
    case .convTranspose(let k, let stride, let padding):
      // Transpose of the convolution E from t to s: E-output (oy, ox, cs) = source.
      for oy in 0..<s.height {
        for ox in 0..<s.width {
          for cs in 0..<s.paddedChannels {
            for ky in 0..<k {
              for kx in 0..<k {
                let y = oy * stride - padding + ky
                let x = ox * stride - padding + kx
                guard y >= 0, y < t.height, x >= 0, x < t.width else { continue }
                for ct in 0..<t.paddedChannels {
                  out.append(
                    Synapse(
                      source: s.index(channel: cs, y: oy, x: ox), target: t.index(channel: ct, y: y, x: x),
                      weight: w[((ky * k + kx) * t.paddedChannels + ct) * s.paddedChannels + cs]))
                }
              }
            }
          }
        }
      }
    case .averagePool(let k):
      for oy in 0..<t.height {
        for ox in 0..<t.width {
          for c in 0..<t.paddedChannels {
            for dy in 0..<k {
              for dx in 0..<k {
                out.append(
                  Synapse(
                    source: s.index(channel: c, y: oy * k + dy, x: ox * k + dx),
                    target: t.index(channel: c, y: oy, x: ox), weight: 1 / Float(k * k)))
              }
            }
          }
        }
      }
    }
    return out
  }

  static func quantize(_ w: Float, scale: Double, shift: Int) -> Int32 {
    let factor = scale * Double(1 << shift)
    return Int32((Double(w) * factor).rounded())
  }

  /// Forward: spike counts per layer.
  static func forward(
    _ compiled: SPIDECompiledNetwork, current: [Float], masks: [[UInt8]?]? = nil,
    keep: [Double]? = nil, frames: [Float]? = nil
  ) -> [[Int32]] {
    let net = compiled.network
    let layers = net.layers
    let last = layers.count - 1
    let neuron = net.neuron
    let T = compiled.timeSteps
    let leakMultiplier = SPIDEFixedPoint.leakMultiplier(neuron.leak)
    var incoming: [[Synapse]] = []  // quantized in the target's shift, weight stored as Int32 bit pattern
    var qIncoming: [[Int32]] = []
    for l in 0...last {
      let syn = synapses(net.projection(into: l))
      incoming.append(syn)
      qIncoming.append(syn.map { quantize($0.weight, scale: 1, shift: compiled.forwardShift[l]) })
    }
    let fbSyn = net.feedback.map { synapses($0) } ?? []
    let qFb = fbSyn.map { quantize($0.weight, scale: 1, shift: compiled.forwardShift[0]) }
    var u = layers.map { [Int32](repeating: 0, count: $0.neuronCount) }
    var counts = u
    var spikes = layers.map { [Bool](repeating: false, count: $0.neuronCount) }
    var drive = u
    var theta = [Int32](), reset = [Int32]()
    for l in 0...last {
      let s = compiled.forwardShift[l]
      let k = keep?[l] ?? 1
      theta.append(SPIDEFixedPoint.quantize(neuron.vThreshold * k, shift: s))
      reset.append(SPIDEFixedPoint.quantize(neuron.q * k, shift: s))
      let limits = compiled.forwardDriveLimits(l)
      for n in 0..<layers[l].neuronCount {
        let open = masks?[l].map { $0[n] != 0 } ?? true
        var c: Double
        if l == 0 {
          c = Double(current[n]) * k
        } else {
          let ch = n % layers[l].paddedChannels
          let bias = net.biases[l]
          c = open && !bias.isEmpty && ch < layers[l].channels ? Double(bias[ch]) : 0
        }
        c = min(max(c, limits.low), limits.high)
        drive[l][n] = Int32((c * Double(1 << s)).rounded())
      }
    }
    for t in 1...T {
      let previousLast = spikes[last]
      for l in 0...last {
        var input = [Int32](repeating: 0, count: layers[l].neuronCount)
        if l == 0 {
          if let frames {
            let size = net.input.neuronCount
            for (k, syn) in incoming[0].enumerated() {
              let value = frames[(t - 1) * size + syn.source]
              if value != 0 { input[syn.target] &+= qIncoming[0][k] &* Int32(value) }
            }
          }
          if t > 1 {
            for (k, syn) in fbSyn.enumerated() where previousLast[syn.source] {
              input[syn.target] &+= qFb[k]
            }
          }
        } else {
          for (k, syn) in incoming[l].enumerated() where spikes[l - 1][syn.source] {
            input[syn.target] &+= qIncoming[l][k]
          }
        }
        for n in 0..<layers[l].neuronCount {
          let open = masks?[l].map { $0[n] != 0 } ?? true
          var x = u[l][n] &+ drive[l][n] &+ (open ? input[n] : 0)
          spikes[l][n] = x >= theta[l]
          if spikes[l][n] {
            x = x &- reset[l]
            counts[l][n] += 1
          }
          if neuron.leak < 1 { x = SPIDEFixedPoint.leak(x, leakMultiplier) }
          u[l][n] = x
        }
      }
    }
    return counts
  }

  /// Backward: signed ternary counts per layer; gated-off neurons are simulated and their
  /// spikes dropped (the spec's formulation).
  static func backward(
    _ compiled: SPIDECompiledNetwork, gradient: [Float], gates: [[UInt8]],
    feedbackMask: [UInt8]? = nil
  ) -> [[Int32]] {
    let net = compiled.network
    let layers = net.layers
    let last = layers.count - 1
    let neuron = net.neuron
    let q = neuron.q
    let A = neuron.amplitude
    let T = compiled.backwardTimeSteps
    let leakMultiplier = SPIDEFixedPoint.leakMultiplier(neuron.leak)
    // Synapses of projection into layer l, used backward (target → source) into layer l − 1.
    var syn: [[Synapse]] = [[]]
    var qSyn: [[Int32]] = [[]]
    for l in 1...max(last, 1) where l <= last {
      let s = synapses(net.projections[l - 1])
      syn.append(s)
      qSyn.append(
        s.map { quantize($0.weight, scale: A / (q * compiled.keep[l]), shift: compiled.backwardShift[l - 1]) })
    }
    let fbSyn = net.feedback.map { synapses($0) } ?? []
    let qFb = fbSyn.map {
      quantize($0.weight, scale: A / (q * compiled.keep[0]), shift: compiled.backwardShift[last])
    }
    var v = layers.map { [Int32](repeating: 0, count: $0.neuronCount) }
    var counts = v
    var z = layers.map { [Int32](repeating: 0, count: $0.neuronCount) }
    let limit = compiled.backwardDriveLimit
    var drive = [Int32](repeating: 0, count: layers[last].neuronCount)
    for n in drive.indices {
      let c = min(max(Double(gradient[n]), -limit), limit)
      drive[n] = Int32((c * Double(1 << compiled.backwardShift[last])).rounded())
    }
    for _ in 1...T {
      let previousFirst = z[0]
      for l in stride(from: last, through: 0, by: -1) {
        let s = compiled.backwardShift[l]
        let vb = SPIDEFixedPoint.quantize(neuron.vBackward, shift: s)
        let amplitude = SPIDEFixedPoint.quantize(A, shift: s)
        var input = [Int32](repeating: 0, count: layers[l].neuronCount)
        if l == last {
          for (k, e) in fbSyn.enumerated() {
            // Backward through the feedback: from its target (layer 0) to its source (L).
            let spike = previousFirst[e.target]
            if spike != 0 && gates[0][e.target] != 0 && (feedbackMask?[e.target] ?? 1) != 0 {
              input[e.source] &+= spike &* qFb[k]
            }
          }
        }
        if l < last {
          for (k, e) in syn[l + 1].enumerated() {
            let spike = z[l + 1][e.target]
            if spike != 0 && gates[l + 1][e.target] != 0 { input[e.source] &+= spike &* qSyn[l + 1][k] }
          }
        }
        for n in 0..<layers[l].neuronCount {
          var x = v[l][n] &+ (l == last ? drive[n] : 0) &+ input[n]
          var spike: Int32 = 0
          if x >= vb {
            spike = 1
            x = x &- amplitude
          } else if x <= 0 &- vb {
            spike = -1
            x = x &+ amplitude
          }
          z[l][n] = spike
          counts[l][n] += spike
          if neuron.leak < 1 { x = SPIDEFixedPoint.leak(x, leakMultiplier) }
          v[l][n] = x
        }
      }
    }
    return counts
  }
}
