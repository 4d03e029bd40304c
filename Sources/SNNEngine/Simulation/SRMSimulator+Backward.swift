import SNNBase

extension SRMSimulator {
  /// The event-driven backward pass over the spikes of the last forward pass (see the
  /// type's description). The output spikes' dL/dt must be set first
  /// (``setOutputGradients(_:)``). Weight gradients are added to the accumulators; every
  /// spike's D is left in its ``SpikeRecord/gradient``.
  public func backward(options: BackwardOptions = BackwardOptions()) {
    let net = network
    let T = net.timeSteps
    let L = layers.count
    // Gradient events of this sample start from zero.
    for l in 1..<max(L, 1) {
      let state = layers[l]
      state.cellGradient.base!.update(repeating: 0, count: T * state.cellCount)
    }
    // Every spike is an event keyed by (step descending, layer descending).
    backwardQueue.advance(to: backwardBase)
    for l in 0..<L {
      let spikes = layers[l].spikes
      for k in 0..<spikes.count {
        let t = Int(spikes.step[k])
        backwardQueue.push(
          time: backwardBase + (T - 1 - t) * L + (L - 1 - l), phase: .deliver, Int32(k))
      }
    }
    var window = [Float](repeating: 0, count: 2 * T)
    window.withUnsafeMutableBufferPointer { w in
      while let (key, payload) = backwardQueue.pop() {
        let offset = key.time - backwardBase
        let l = L - 1 - offset % L
        let k = Int(payload)
        let state = layers[l]
        var d: Float
        if l == L - 1 {
          d = state.spikes.gradient[k]
        } else {
          let cell = Int(state.spikes.cell[k])
          let t = Int(state.spikes.step[k])
          let next = layers[l + 1]
          d = cell >= 0 ? next.cellGradient[t * next.cellCount + cell] : 0
          state.spikes.gradient[k] = d
        }
        if d == 0 { continue }
        counters.backwardSpikeEvents += 1
        processSpike(layer: l, index: k, d: d, options: options, window: w.baseAddress!)
      }
    }
    backwardBase += T * L + 1
  }

  /// Processes one gradient-carrying spike of layer `l`.
  @inline(__always)
  func processSpike(
    layer l: Int, index k: Int, d: Float, options: BackwardOptions,
    window: UnsafeMutablePointer<Float>
  ) {
    let state = layers[l]
    let layer = network.layers[l]
    let T = network.timeSteps
    let j = Int(state.spikes.neuron[k])
    let tm = Int(state.spikes.step[k])
    let t0 = Int(state.spikes.previousStep[k]) + 1
    let du = state.spikes.du[k]
    let g = state.spikes.g[k]
    // A = D·clip(−1/Δu, −c, 0), B = D·clip(−1/G, −M, 0) (−1/0 = −∞ clips to the bound).
    let ra = du == 0 ? -options.duInverseClip : min(0, max(-options.duInverseClip, -1 / du))
    let rb = g == 0 ? -options.dudtInverseClip : min(0, max(-options.dudtInverseClip, -1 / g))
    let a = d * ra
    let b = d * rb * options.layerDecay
    // Per window step: A·ε(k) and B·(−(1−θ_g)^k), k = t_m − t + 1.
    let ae = window, bb = window + T
    var aSum: Float = 0
    for t in t0...tm {
      ae[t] = a * epsilonTable[tm - t + 1]
      bb[t] = b * backwardKernelTable[tm - t + 1]
      aSum += ae[t]
    }
    let sends = l > 0
    let isStatic = l == 0 && network.input == .current
    let gradient = state.gradient.base!
    var events = 0
    switch layer.connectivity {
    case .convolution(let c):
      let cin = c.inChannels, cout = c.outChannels
      let co = j % cout
      let pixel = j / cout
      let oy = pixel / c.outWidth, ox = pixel % c.outWidth
      let cells = state.cellCount
      layer.transposedWeights.withUnsafeBufferPointer { wt in
        for ky in 0..<c.kernelHeight {
          let y = oy * c.stride - c.padding + ky
          if y < 0 || y >= c.height { continue }
          for kx in 0..<c.kernelWidth {
            let x = ox * c.stride - c.padding + kx
            if x < 0 || x >= c.width { continue }
            let cellBase = (y * c.width + x) * cin
            let kt = ((co * c.kernelHeight + ky) * c.kernelWidth + kx) * cin
            let gw = gradient + kt
            if isStatic {
              let src = staticInput.base! + cellBase
              for i in 0..<cin { gw[i] += aSum * src[i] }
              events += cin
              continue
            }
            let w = wt.baseAddress! + kt
            let cellPixel = y * c.width + x
            for t in t0...tm {
              let nonzero = Int(state.cellPixelNonzero[t * state.cellPixels + cellPixel])
              if nonzero == 0 { continue }
              events += nonzero
              let xr = state.cellValue.base! + t * cells + cellBase
              let at = ae[t]
              for i in 0..<cin { gw[i] += at * xr[i] }
              if sends {
                let cr = state.cellGradient.base! + t * cells + cellBase
                let bt = bb[t]
                for i in 0..<cin { cr[i] += bt * w[i] }
              }
            }
          }
        }
      }
    case .dense(let dc):
      let cells = dc.sourceCount
      let gw = gradient + j * cells
      if isStatic {
        let src = staticInput.base!
        for i in 0..<cells { gw[i] += aSum * src[i] }
        events += cells
      } else {
        layer.transposedWeights.withUnsafeBufferPointer { wt in
          let w = wt.baseAddress! + j * cells
          for t in t0...tm {
            let list = state.cellLists[t]
            let n = list.count
            if n == 0 { continue }
            events += n
            let values = state.cellValue.base! + t * cells
            let at = ae[t]
            if sends {
              let cr = state.cellGradient.base! + t * cells
              let bt = bb[t]
              for q in 0..<n {
                let i = Int(list[q])
                gw[i] += at * values[i]
                cr[i] += bt * w[i]
              }
            } else {
              for q in 0..<n {
                let i = Int(list[q])
                gw[i] += at * values[i]
              }
            }
          }
        }
      }
    case .sparse:
      preconditionFailure("SRM layers are convolutional or dense")
    }
    counters.backwardSynapticEvents += events
  }
}
