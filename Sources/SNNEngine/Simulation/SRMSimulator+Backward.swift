import SNNBase

extension SRMSimulator {
  /// The event-driven backward pass over the spikes of the last forward pass (see the
  /// type's description). The output spikes' dL/dt must be set first
  /// (``setOutputGradients(_:)``). Weight gradients are added to the accumulators; every
  /// spike's D is left in its ``SpikeRecord/gradient``.
  public func backward(options: BackwardOptions = BackwardOptions()) {
    let T = network.timeSteps
    let L = layers.count
    // Gradient events of this sample start from zero.
    for l in 1..<max(L, 1) {
      let state = layers[l]
      state.cellGradient.base!.update(repeating: 0, count: T * state.cellCount)
    }
    // Every spike is an event keyed by (step descending, layer descending).
    backwardQueue.advance(to: backwardBase)
    for l in 0..<L {
      let state = layers[l]
      for k in 0..<state.spikeCount {
        let t = Int(state.spikeStep[k])
        backwardQueue.push(
          time: backwardBase + (T - 1 - t) * L + (L - 1 - l), phase: .deliver, Int32(k))
      }
    }
    let window = UnsafeMutablePointer<Float>.allocate(capacity: 2 * T)
    defer { window.deallocate() }
    while let (key, payload) = backwardQueue.pop() {
      let l = L - 1 - (key.time - backwardBase) % L
      let k = Int(payload)
      let state = layers[l]
      var d: Float
      if l == L - 1 {
        d = state.spikeD[k]
      } else {
        let cell = Int(state.spikeCell[k])
        let next = layers[l + 1]
        d = cell >= 0 ? next.cellGradient[Int(state.spikeStep[k]) * next.cellCount + cell] : 0
        state.spikeD[k] = d
      }
      if d == 0 { continue }
      counters.backwardSpikeEvents += 1
      processSpike(layer: l, state, index: k, d: d, options: options, window: window)
    }
    backwardBase += T * L + 1
  }

  /// Processes one gradient-carrying spike of layer `l`.
  @inline(__always)
  func processSpike(
    layer l: Int, _ state: LayerState, index k: Int, d: Float, options: BackwardOptions,
    window: UnsafeMutablePointer<Float>
  ) {
    let T = state.timeSteps
    let j = Int(state.spikeNeuron[k])
    let tm = Int(state.spikeStep[k])
    let t0 = Int(state.spikePrevious[k]) + 1
    let du = state.spikeDU[k]
    let g = state.spikeG[k]
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
    let wt = state.transposedWeights
    var events = 0
    if state.isConvolution {
      let cin = state.cin, cout = state.cout, kh = state.kernelHeight, kw = state.kernelWidth
      let co = j % cout
      let pixel = j / cout
      let oy = pixel / state.outWidth, ox = pixel % state.outWidth
      let width = state.cellWidth, height = state.cellHeight
      let cells = state.cellCount
      // For one kernel row the sources (y, x0...x1) and their weights are contiguous:
      // (x1 − x0 + 1)·cin values in both layouts.
      let xStart = ox * state.stride - state.padding
      let kx0 = max(0, -xStart), kx1 = min(kw - 1, width - 1 - xStart)
      if kx0 > kx1 { return }
      let runLength = (kx1 - kx0 + 1) * cin
      for ky in 0..<kh {
        let y = oy * state.stride - state.padding + ky
        if y < 0 || y >= height { continue }
        let cellBase = (y * width + xStart + kx0) * cin
        let kt = ((co * kh + ky) * kw + kx0) * cin
        let gw = gradient + kt
        if isStatic {
          srmAXPY(gw, staticInput.base! + cellBase, aSum, runLength)
          events += runLength
          continue
        }
        let firstPixel = y * width + xStart + kx0
        for t in t0...tm {
          let nonzero = state.cellPixelNonzero.base! + t * state.cellPixels + firstPixel
          var count = 0
          for q in 0..<(kx1 - kx0 + 1) { count += Int(nonzero[q]) }
          if count == 0 { continue }
          events += count
          srmAXPY(gw, state.cellValue.base! + t * cells + cellBase, ae[t], runLength)
          if sends {
            srmAXPY(state.cellGradient.base! + t * cells + cellBase, wt + kt, bb[t], runLength)
          }
        }
      }
    } else {
      let cells = state.cellCount
      let gw = gradient + j * cells
      if isStatic {
        srmAXPY(gw, staticInput.base!, aSum, cells)
        events += cells
      } else {
        let w = wt + j * cells
        for t in t0...tm {
          let list = state.cellLists[t]
          let n = list.count
          if n == 0 { continue }
          events += n
          let values = state.cellValue.base! + t * cells
          let at = ae[t]
          let cr = state.cellGradient.base! + t * cells
          let bt = bb[t]
          if 4 * n > cells {
            // Dense enough for whole-row vectors: cells with x = 0 add nothing to gW and
            // their gradient events are never read (no spike fell into them).
            srmAXPY(gw, values, at, cells)
            if sends { srmAXPY(cr, w, bt, cells) }
          } else if sends {
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
    counters.backwardSynapticEvents += events
  }
}
