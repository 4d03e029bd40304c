import SNNBase
import SNNTensor

@testable import SNNTraining

/// An independent Float64 implementation of `DenseModel`'s forward pass and loss, written
/// with plain loops from the equations (no SNNTensor kernel), for finite-difference checks
/// of the model's hand-written backward.
///
/// Everything is materialized over time (a static input is repeated T times), so the
/// static-input shortcuts of the model are checked too. A detached quantity (the spike in
/// the reset with `detachReset`) reads its value from a recorded unperturbed run, which is
/// exactly what a stop-gradient means for finite differences.
struct DenseReference {
  let spec: ModelSpec
  let analysis: ModelAnalysis
  let configuration: DenseModel.Configuration
  /// Inputs `[B, frames, C, H, W]` and labels.
  let inputs: [Double]
  let frames: Int
  let labels: [Int]
  /// The LSG width α held fixed while finite differences perturb the leak (per layer name).
  var fixedWidths: [String: Double] = [:]

  var steps: Int { configuration.timeSteps }
  var batch: Int { labels.count }

  /// Spikes S[t, b, i] of each hidden layer recorded by ``loss(_:record:)``.
  typealias Recording = [String: [Double]]

  /// The mean softmax cross-entropy for parameter values `p` (name → values, store layout).
  /// With `record`, the hidden spikes are stored there; otherwise detached quantities
  /// read from `replay`.
  func loss(_ p: [String: [Double]], record: inout Recording, replay: Recording? = nil) -> Double {
    let logits = forward(p, record: &record, replay: replay)
    let k = analysis.classCount
    var total = 0.0
    for b in 0..<batch {
      let z = Array(logits[(b * k)..<((b + 1) * k)])
      let m = z.max()!
      let s = z.reduce(0) { $0 + Math.exp($1 - m) }
      total += Math.log(s) - (z[labels[b]] - m)
    }
    return total / Double(batch)
  }

  /// Logits `[B, classes]`.
  func forward(_ p: [String: [Double]], record: inout Recording, replay: Recording?) -> [Double] {
    let perFrame = spec.input.elementCount
    // x[t][b][…] over T steps.
    var x = [Double](repeating: 0, count: steps * batch * perFrame)
    for t in 0..<steps {
      for b in 0..<batch {
        let frame = frames == 1 ? 0 : t
        for i in 0..<perFrame {
          x[(t * batch + b) * perFrame + i] = inputs[(b * frames + frame) * perFrame + i]
        }
      }
    }
    var shape = spec.input
    for info in analysis.stages {
      switch info.stage {
      case .flatten:
        break  // the layout is already flat per (t, b)
      case .avgPool(let k), .maxPool(let k):
        let isMax: Bool
        if case .maxPool = info.stage { isMax = true } else { isMax = false }
        let out = info.output
        var y = [Double](repeating: 0, count: steps * batch * out.elementCount)
        for r in 0..<(steps * batch) {
          for c in 0..<out.channels {
            for oy in 0..<out.height {
              for ox in 0..<out.width {
                var acc = isMax ? -Double.infinity : 0
                for dy in 0..<k {
                  for dx in 0..<k {
                    let v = x[
                      r * shape.elementCount + (c * shape.height + oy * k + dy) * shape.width
                        + ox * k + dx]
                    acc = isMax ? max(acc, v) : acc + v
                  }
                }
                y[r * out.elementCount + (c * out.height + oy) * out.width + ox] =
                  isMax ? acc : acc / Double(k * k)
              }
            }
          }
        }
        x = y
      case .conv, .linear:
        let layer = analysis.layers[info.layerNumber! - 1]
        var current = synapses(layer, x, p)
        if layer.isReadout {
          // z = W·mean_t(s) + b: mean of the per-step currents (linear).
          let n = layer.output.elementCount
          var z = [Double](repeating: 0, count: batch * n)
          for t in 0..<steps {
            for i in 0..<(batch * n) { z[i] += current[t * batch * n + i] / Double(steps) }
          }
          return z
        }
        current = normalize(layer, current, p)
        x = neurons(layer, current, p, record: &record, replay: replay)
      }
      shape = info.output
    }
    preconditionFailure("no readout")
  }

  /// W·x + b per (t, b) for a conv or linear layer.
  func synapses(_ layer: ModelAnalysis.Layer, _ x: [Double], _ p: [String: [Double]]) -> [Double] {
    let w = p[layer.name + ".weight"]!
    let bias = p[layer.name + ".bias"]
    let rows = steps * batch
    let inShape = layer.input, outShape = layer.output
    var y = [Double](repeating: 0, count: rows * outShape.elementCount)
    switch layer.kind {
    case .linear:
      let nIn = inShape.elementCount, nOut = outShape.elementCount
      for r in 0..<rows {
        for o in 0..<nOut {
          var s = bias?[o] ?? 0
          for i in 0..<nIn { s += w[o * nIn + i] * x[r * nIn + i] }
          y[r * nOut + o] = s
        }
      }
    case .conv(let k, let stride, let padding):
      let cin = inShape.channels, h = inShape.height, wd = inShape.width
      for r in 0..<rows {
        for o in 0..<outShape.channels {
          for oy in 0..<outShape.height {
            for ox in 0..<outShape.width {
              var s = bias?[o] ?? 0
              for c in 0..<cin {
                for ky in 0..<k {
                  for kx in 0..<k {
                    let iy = oy * stride - padding + ky, ix = ox * stride - padding + kx
                    guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                    s +=
                      w[((o * cin + c) * k + ky) * k + kx]
                      * x[r * inShape.elementCount + (c * h + iy) * wd + ix]
                  }
                }
              }
              y[r * outShape.elementCount + (o * outShape.height + oy) * outShape.width + ox] = s
            }
          }
        }
      }
    }
    return y
  }

  /// BN / tdBN in training mode: per channel over T·B·H·W, biased variance, ε = 1e-5.
  func normalize(_ layer: ModelAnalysis.Layer, _ x: [Double], _ p: [String: [Double]]) -> [Double] {
    let scale: Double
    switch configuration.normalization {
    case .none: return x
    case .batchNorm: scale = 1
    case .thresholdDependent(let eta): scale = Double(eta) * Double(configuration.neuron.vThreshold)
    }
    let gamma = p[layer.name + ".norm.gamma"]!, beta = p[layer.name + ".norm.beta"]!
    let channels = layer.output.channels
    let inner = layer.output.height * layer.output.width
    let rows = steps * batch
    var y = x
    for c in 0..<channels {
      var mean = 0.0
      for r in 0..<rows { for j in 0..<inner { mean += x[(r * channels + c) * inner + j] } }
      mean /= Double(rows * inner)
      var variance = 0.0
      for r in 0..<rows {
        for j in 0..<inner {
          let d = x[(r * channels + c) * inner + j] - mean
          variance += d * d
        }
      }
      variance /= Double(rows * inner)
      let inv = 1 / (variance + 1e-5).squareRoot()
      for r in 0..<rows {
        for j in 0..<inner {
          let i = (r * channels + c) * inner + j
          y[i] = gamma[c] * scale * (x[i] - mean) * inv + beta[c]
        }
      }
    }
    return y
  }

  /// The LIF layer in primitive mode: S = P(H − V_th).
  func neurons(
    _ layer: ModelAnalysis.Layer, _ current: [Double], _ p: [String: [Double]],
    record: inout Recording, replay: Recording?
  ) -> [Double] {
    let neuron = configuration.neuron
    let vth = Double(neuron.vThreshold), vReset = Double(neuron.vReset)
    let hard = neuron.reset == .hard
    var a = 0.0, c = 1.0
    var beta = 0.0
    switch neuron.charge {
    case .leaky(let l): a = Double(l)
    case .decayInput(let tau):
      a = 1 - 1 / Double(tau)
      c = 1 / Double(tau)
    case .integrate: a = 1
    case .learnableLeak:
      let b = p[layer.name + ".neuron.leak_logit"]![0]
      beta = 1 / (1 + Math.exp(-b))
      a = beta
    }
    let primitive: (Double) -> Double
    switch neuron.surrogate {
    case .sigmoid(let alpha):
      primitive = { 1 / (1 + Math.exp(-Double(alpha) * $0)) }
    case .rectangle(let w):
      primitive = { min(1, max(0, $0 / Double(w) + 0.5)) }
    case .learnableWidth:
      let w = fixedWidths[layer.name] ?? Surrogate.lsgWidth(beta: beta, vThreshold: vth)
      primitive = { min(1, max(0, $0 / w + 0.5)) }
    default:
      preconditionFailure("reference: surrogate \(neuron.surrogate) not implemented")
    }
    let n = batch * layer.output.elementCount
    var v = [Double](repeating: hard ? vReset : 0, count: n)
    var s = [Double](repeating: 0, count: steps * n)
    for t in 0..<steps {
      for i in 0..<n {
        let h = a * v[i] + c * current[t * n + i]
        let spike = primitive(h - vth)
        s[t * n + i] = spike
        let sd = neuron.detachReset ? (replay?[layer.name]?[t * n + i] ?? spike) : spike
        v[i] = hard ? h * (1 - sd) + vReset * sd : h - vth * sd
      }
    }
    if replay == nil { record[layer.name] = s }
    return s
  }

  /// Central differences of the loss for every scalar of every parameter in `store`,
  /// with detached quantities replayed from the unperturbed run.
  func finiteDifferences(_ store: ParameterStore, epsilon: Double) -> [String: [Double]] {
    var p: [String: [Double]] = [:]
    for q in store.parameters { p[q.name] = q.values.map(Double.init) }
    var recording: Recording = [:]
    _ = loss(p, record: &recording)
    var result: [String: [Double]] = [:]
    var unused: Recording = [:]
    for q in store.parameters {
      var g = [Double](repeating: 0, count: q.count)
      for j in 0..<q.count {
        var plus = p, minus = p
        plus[q.name]![j] += epsilon
        minus[q.name]![j] -= epsilon
        g[j] =
          (loss(plus, record: &unused, replay: recording)
            - loss(minus, record: &unused, replay: recording)) / (2 * epsilon)
      }
      result[q.name] = g
    }
    return result
  }
}
