import SNNBase

@testable import SNNTraining

/// The feed-forward "clipped-rate network" SPIDE's equilibrium reduces to without feedback,
/// and ordinary backprop through it, written directly on the ModelSpec's PyTorch layouts
/// (NCHW activations, `[out, in, k, k]` kernels) in Double, independent of the engine:
///
///     a_l = clip((W_l·a_{l−1} + b_l)/q, 0, 1) after every conv, avgPool and hidden linear,
///     logits = W_r·a_L + b_r,  L = s·mean_batch CE.
struct ClippedRateReference {
  let spec: ModelSpec
  let analysis: ModelAnalysis
  let q: Double

  /// Gradients of s·mean CE for every parameter, by name.
  func gradients(
    _ store: ParameterStore, inputs: [Float], labels: [Int], scale s: Double
  ) -> [String: [Double]] {
    var grads: [String: [Double]] = [:]
    for p in store.parameters { grads[p.name] = [Double](repeating: 0, count: p.count) }
    let sampleSize = spec.input.elementCount
    for (n, label) in labels.enumerated() {
      let x = (0..<sampleSize).map { Double(inputs[n * sampleSize + $0]) }
      // Forward, keeping each stage's input and pre-activation.
      var activations: [[Double]] = [x]
      var preactivations: [[Double]] = []
      var a = x
      for info in analysis.stages {
        var z: [Double]
        switch info.stage {
        case .conv(_, let k, let stride, let padding):
          let layer = analysis.layers[info.layerNumber! - 1]
          z = conv(a, info.input, info.output, store[layer.name + ".weight"].values, k, stride, padding)
          let b = store[layer.name + ".bias"].values
          for i in z.indices { z[i] += Double(b[i / (info.output.height * info.output.width)]) }
        case .avgPool(let k):
          z = pool(a, info.input, info.output, k)
        case .flatten:
          preactivations.append(a)
          activations.append(a)
          continue
        case .linear(let out):
          let layer = analysis.layers[info.layerNumber! - 1]
          let w = store[layer.name + ".weight"].values
          let b = store[layer.name + ".bias"].values
          z = (0..<out).map { o in
            var sum = Double(b[o])
            for i in a.indices { sum += Double(w[o * a.count + i]) * a[i] }
            return sum
          }
          if layer.isReadout {
            preactivations.append(z)
            activations.append(z)
            continue
          }
        case .maxPool:
          fatalError("not used")
        }
        preactivations.append(z)
        a = z.map { min(max($0 / q, 0), 1) }
        activations.append(a)
      }
      // Softmax cross-entropy on the logits (the last activation).
      let logits = activations.last!
      let m = logits.max()!
      let e = logits.map { Math.exp($0 - m) }
      let sum = e.reduce(0, +)
      var d = e.enumerated().map { s / Double(labels.count) * ($1 / sum - ($0 == label ? 1 : 0)) }
      // Backward through the stages.
      for (index, info) in analysis.stages.enumerated().reversed() {
        let input = activations[index]
        let z = preactivations[index]
        var dz = d
        let isReadout = info.layerNumber.map { analysis.layers[$0 - 1].isReadout } ?? false
        switch info.stage {
        case .flatten:
          continue
        default:
          if !isReadout {
            for i in dz.indices { dz[i] = (z[i] > 0 && z[i] < q) ? d[i] / q : 0 }
          }
        }
        switch info.stage {
        case .conv(_, let k, let stride, let padding):
          let layer = analysis.layers[info.layerNumber! - 1]
          let w = store[layer.name + ".weight"].values
          var gw = grads[layer.name + ".weight"]!
          var gb = grads[layer.name + ".bias"]!
          d = convBackward(dz, input, info.input, info.output, w, k, stride, padding, &gw, &gb)
          grads[layer.name + ".weight"] = gw
          grads[layer.name + ".bias"] = gb
        case .avgPool(let k):
          d = poolBackward(dz, info.input, info.output, k)
        case .linear(let out):
          let layer = analysis.layers[info.layerNumber! - 1]
          let w = store[layer.name + ".weight"].values
          var gw = grads[layer.name + ".weight"]!
          var gb = grads[layer.name + ".bias"]!
          var di = [Double](repeating: 0, count: input.count)
          for o in 0..<out {
            gb[o] += dz[o]
            for i in input.indices {
              gw[o * input.count + i] += dz[o] * input[i]
              di[i] += dz[o] * Double(w[o * input.count + i])
            }
          }
          grads[layer.name + ".weight"] = gw
          grads[layer.name + ".bias"] = gb
          d = di
        default: break
        }
      }
    }
    return grads
  }

  func conv(
    _ x: [Double], _ i: FeatureShape, _ o: FeatureShape, _ w: [Float], _ k: Int, _ stride: Int,
    _ padding: Int
  ) -> [Double] {
    var out = [Double](repeating: 0, count: o.elementCount)
    for co in 0..<o.channels {
      for oy in 0..<o.height {
        for ox in 0..<o.width {
          var sum = 0.0
          for ci in 0..<i.channels {
            for ky in 0..<k {
              for kx in 0..<k {
                let y = oy * stride - padding + ky
                let xx = ox * stride - padding + kx
                guard y >= 0, y < i.height, xx >= 0, xx < i.width else { continue }
                sum +=
                  Double(w[((co * i.channels + ci) * k + ky) * k + kx])
                  * x[(ci * i.height + y) * i.width + xx]
              }
            }
          }
          out[(co * o.height + oy) * o.width + ox] = sum
        }
      }
    }
    return out
  }

  func convBackward(
    _ dz: [Double], _ x: [Double], _ i: FeatureShape, _ o: FeatureShape, _ w: [Float], _ k: Int,
    _ stride: Int, _ padding: Int, _ gw: inout [Double], _ gb: inout [Double]
  ) -> [Double] {
    var dx = [Double](repeating: 0, count: x.count)
    for co in 0..<o.channels {
      for oy in 0..<o.height {
        for ox in 0..<o.width {
          let g = dz[(co * o.height + oy) * o.width + ox]
          if g == 0 { continue }
          gb[co] += g
          for ci in 0..<i.channels {
            for ky in 0..<k {
              for kx in 0..<k {
                let y = oy * stride - padding + ky
                let xx = ox * stride - padding + kx
                guard y >= 0, y < i.height, xx >= 0, xx < i.width else { continue }
                let wi = ((co * i.channels + ci) * k + ky) * k + kx
                let xi = (ci * i.height + y) * i.width + xx
                gw[wi] += g * x[xi]
                dx[xi] += g * Double(w[wi])
              }
            }
          }
        }
      }
    }
    return dx
  }

  func pool(_ x: [Double], _ i: FeatureShape, _ o: FeatureShape, _ k: Int) -> [Double] {
    var out = [Double](repeating: 0, count: o.elementCount)
    for c in 0..<o.channels {
      for oy in 0..<o.height {
        for ox in 0..<o.width {
          var sum = 0.0
          for dy in 0..<k {
            for dx in 0..<k { sum += x[(c * i.height + oy * k + dy) * i.width + ox * k + dx] }
          }
          out[(c * o.height + oy) * o.width + ox] = sum / Double(k * k)
        }
      }
    }
    return out
  }

  func poolBackward(_ dz: [Double], _ i: FeatureShape, _ o: FeatureShape, _ k: Int) -> [Double] {
    var dx = [Double](repeating: 0, count: i.elementCount)
    for c in 0..<o.channels {
      for oy in 0..<o.height {
        for ox in 0..<o.width {
          let g = dz[(c * o.height + oy) * o.width + ox] / Double(k * k)
          for dy in 0..<k {
            for ddx in 0..<k { dx[(c * i.height + oy * k + dy) * i.width + ox * k + ddx] += g }
          }
        }
      }
    }
    return dx
  }
}
