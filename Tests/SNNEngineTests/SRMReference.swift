import SNNBase

@testable import SNNEngine

/// A dense, step-by-step implementation of the EDBP equations (spec A1–A3), written
/// independently of the event engine: every neuron every step, full weight matrices,
/// channels-first indices, explicit average pooling and the reference's pooling backward
/// (g_p/(p·k²) to each spike of the window). Backward sums run in Double.
struct SRMReference {
  struct Layer {
    /// Channels-first shapes (C, H, W).
    var source: (c: Int, h: Int, w: Int)
    var pool: Int
    var cells: (c: Int, h: Int, w: Int)
    var output: (c: Int, h: Int, w: Int)
    /// Full matrix [neuron][cell] (zeros where no synapse).
    var matrix: [[Float]]
    /// Conv geometry for mapping gradients back to the kernel: (k, stride, padding), nil for dense.
    var conv: (k: Int, stride: Int, padding: Int)?
    var neuronCount: Int { output.c * output.h * output.w }
    var cellCount: Int { cells.c * cells.h * cells.w }
  }

  var layers: [Layer] = []
  let p: GridSRM.Propagators
  let T: Int

  init(network: SRMNetwork, weights: [[Float]]) {
    p = network.propagators
    T = network.timeSteps
    for (l, layer) in network.layers.enumerated() {
      let src = (layer.source.channels, layer.source.height, layer.source.width)
      let cells = (layer.cells.channels, layer.cells.height, layer.cells.width)
      let out = (layer.output.channels, layer.output.height, layer.output.width)
      let nOut = out.0 * out.1 * out.2, nIn = cells.0 * cells.1 * cells.2
      var matrix = Array(repeating: [Float](repeating: 0, count: nIn), count: nOut)
      var conv: (Int, Int, Int)? = nil
      switch layer.connectivity {
      case .convolution(let c):
        conv = (c.kernelHeight, c.stride, c.padding)
        let k = c.kernelHeight
        for co in 0..<out.0 {
          for oy in 0..<out.1 {
            for ox in 0..<out.2 {
              for ci in 0..<cells.0 {
                for ky in 0..<k {
                  for kx in 0..<k {
                    let y = oy * c.stride - c.padding + ky, x = ox * c.stride - c.padding + kx
                    if y < 0 || y >= cells.1 || x < 0 || x >= cells.2 { continue }
                    matrix[(co * out.1 + oy) * out.2 + ox][(ci * cells.1 + y) * cells.2 + x] =
                      weights[l][((co * cells.0 + ci) * k + ky) * k + kx]
                  }
                }
              }
            }
          }
        }
      default:
        for o in 0..<nOut {
          for i in 0..<nIn { matrix[o][i] = weights[l][o * nIn + i] }
        }
      }
      layers.append(
        Layer(
          source: src, pool: layer.pool, cells: cells, output: out, matrix: matrix,
          conv: conv.map { (k: $0.0, stride: $0.1, padding: $0.2) }))
    }
  }

  /// Per layer: spikes o[t][n], Δu[t][n], G[t][n] (before reset) and the input x[t][cell].
  struct Forward {
    var spikes: [[[Bool]]] = []
    var du: [[[Float]]] = []
    var g: [[[Float]]] = []
    var x: [[[Float]]] = []
  }

  /// `input`: channels-first `C×H×W` (static) or `T×C×H×W` (frames).
  func forward(input: [Float], frames: Bool) -> Forward {
    var f = Forward()
    for layer in layers {
      let n = layer.neuronCount
      f.spikes.append(Array(repeating: Array(repeating: false, count: n), count: T))
      f.du.append(Array(repeating: Array(repeating: 0, count: n), count: T))
      f.g.append(Array(repeating: Array(repeating: 0, count: n), count: T))
      f.x.append(Array(repeating: Array(repeating: 0, count: layer.cellCount), count: T))
    }
    var traces = layers.map { Array(repeating: GridSRM.Traces(), count: $0.neuronCount) }
    for t in 0..<T {
      for (l, layer) in layers.enumerated() {
        var x = [Float](repeating: 0, count: layer.cellCount)
        if l == 0 {
          let size = layer.cellCount
          for i in 0..<size { x[i] = frames ? input[t * size + i] : input[i] }
        } else {
          let k = layer.pool
          let s = layer.source
          for c in 0..<layer.cells.c {
            for y in 0..<layer.cells.h {
              for xx in 0..<layer.cells.w {
                var count = 0
                for dy in 0..<k {
                  for dx in 0..<k
                  where f.spikes[l - 1][t][(c * s.h + y * k + dy) * s.w + xx * k + dx] {
                    count += 1
                  }
                }
                x[(c * layer.cells.h + y) * layer.cells.w + xx] = Float(count) / Float(k * k)
              }
            }
          }
        }
        f.x[l][t] = x
        for j in 0..<layer.neuronCount {
          var current: Float = 0
          for i in 0..<layer.cellCount where x[i] != 0 { current += layer.matrix[j][i] * x[i] }
          let previous = p.kappa * (traces[l][j].m - traces[l][j].s)
          let u = GridSRM.step(&traces[l][j], current: current, p)
          if u >= p.threshold {
            f.spikes[l][t][j] = true
            f.du[l][t][j] = u - previous
            f.g[l][t][j] = traces[l][j].g
            traces[l][j] = GridSRM.Traces()
          }
        }
      }
    }
    return f
  }

  /// The reference backward. `outputGradient[n]` is dL/dt of every spike of output neuron
  /// n. With `exactG`, G at a spike is recomputed in Double from the inputs (the kernel
  /// sum) instead of taken from the Float forward. Returns per layer dL/dt per (t, n) and
  /// gW' in the model layout, and every synaptic contribution (w·D sign check).
  func backward(
    _ f: Forward, outputGradient: [Double], decay: Double = 0.85, duClip: Double = 4,
    dudtClip: Double = 1.23e8, exactG: Bool = false
  ) -> (
    spikeGradient: [[[Double]]], weightGradient: [[Double]],
    contributions: [(w: Double, d: Double, value: Double)]
  ) {
    let L = layers.count
    var dSpike = layers.map {
      Array(repeating: [Double](repeating: 0, count: $0.neuronCount), count: T)
    }
    var gW = layers.map {
      Array(repeating: [Double](repeating: 0, count: $0.cellCount), count: $0.neuronCount)
    }
    var contributions: [(Double, Double, Double)] = []
    for t in 0..<T {
      for j in 0..<layers[L - 1].neuronCount where f.spikes[L - 1][t][j] {
        dSpike[L - 1][t][j] = outputGradient[j]
      }
    }
    for l in stride(from: L - 1, through: 0, by: -1) {
      let layer = layers[l]
      var gx = Array(repeating: [Double](repeating: 0, count: layer.cellCount), count: T)
      for j in 0..<layer.neuronCount {
        var previous = -1
        for tm in 0..<T where f.spikes[l][tm][j] {
          defer { previous = tm }
          let d = dSpike[l][tm][j]
          if d == 0 { continue }
          let du = Double(f.du[l][tm][j])
          var g = Double(f.g[l][tm][j])
          if exactG {
            g = 0
            for t in (previous + 1)...tm {
              for i in 0..<layer.cellCount {
                g +=
                  Double(layer.matrix[j][i]) * Double(f.x[l][t][i]) * -p.backwardKernel(tm - t + 1)
              }
            }
          }
          let a = d * (du == 0 ? -duClip : min(0, max(-duClip, -1 / du)))
          let b = d * (g == 0 ? -dudtClip : min(0, max(-dudtClip, -1 / g))) * decay
          for t in (previous + 1)...tm {
            let k = tm - t + 1
            for i in 0..<layer.cellCount where f.x[l][t][i] != 0 {
              let x = Double(f.x[l][t][i])
              gW[l][j][i] += a * p.epsilon(k) * x
              let value = Double(layer.matrix[j][i]) * b * p.backwardKernel(k) * x
              gx[t][i] += value
              contributions.append((Double(layer.matrix[j][i]), d, value))
            }
          }
        }
      }
      if l > 0 {
        // Pooling backward: g_p/(p·k²) to each spike of the window.
        let k = layer.pool
        let s = layer.source
        for t in 0..<T {
          for c in 0..<layer.cells.c {
            for y in 0..<layer.cells.h {
              for xx in 0..<layer.cells.w {
                let cell = (c * layer.cells.h + y) * layer.cells.w + xx
                let pooled = Double(f.x[l][t][cell])
                if pooled == 0 { continue }
                let share = gx[t][cell] / (pooled * Double(k * k))
                for dy in 0..<k {
                  for dx in 0..<k {
                    let q = (c * s.h + y * k + dy) * s.w + xx * k + dx
                    if f.spikes[l - 1][t][q] { dSpike[l - 1][t][q] = share }
                  }
                }
              }
            }
          }
        }
      }
    }
    // gW' to the model layout.
    var model: [[Double]] = []
    for (l, layer) in layers.enumerated() {
      if let conv = layer.conv {
        let k = conv.k
        var w = [Double](repeating: 0, count: layer.output.c * layer.cells.c * k * k)
        for co in 0..<layer.output.c {
          for oy in 0..<layer.output.h {
            for ox in 0..<layer.output.w {
              for ci in 0..<layer.cells.c {
                for ky in 0..<k {
                  for kx in 0..<k {
                    let y = oy * conv.stride - conv.padding + ky
                    let x = ox * conv.stride - conv.padding + kx
                    if y < 0 || y >= layer.cells.h || x < 0 || x >= layer.cells.w { continue }
                    w[((co * layer.cells.c + ci) * k + ky) * k + kx] +=
                      gW[l][(co * layer.output.h + oy) * layer.output.w + ox][
                        (ci * layer.cells.h + y) * layer.cells.w + x]
                  }
                }
              }
            }
          }
        }
        model.append(w)
      } else {
        model.append(gW[l].flatMap { $0 })
      }
    }
    return (dSpike, model, contributions.map { (w: $0.0, d: $0.1, value: $0.2) })
  }
}
