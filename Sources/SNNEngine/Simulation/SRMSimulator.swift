import SNNBase

/// Simulates one sample at a time through an ``SRMNetwork`` as a stream of events, and runs
/// the event-driven backward pass of Zhu et al. (2022) over the spikes it recorded.
///
/// **Forward.** Steps t = 0..T−1; within a step the layers run in order (zero-delay
/// feed-forward synapses). A layer evaluates only its *candidates*: neurons that received
/// input at t, and neurons whose drive-free threshold crossing was predicted for t
/// (``GridSRM/stepsToThreshold(m:s:propagators:limit:)``, scheduled as a `.threshold`
/// self-event in a ``BucketEventQueue``; a new input re-predicts, and stale entries are
/// ignored). A neuron untouched for k steps is decayed lazily by k exact multiplications.
/// A spike increments its cell of the next layer's input; the next layer delivers each
/// non-zero cell once per step over its ``ConvConnectivity`` (contiguous runs of
/// `outChannels`) or ``DenseConnectivity`` (one row). A static input (an image) reaches
/// layer 0 as a current computed once by a dense convolution; framed input (N-MNIST) as
/// one event per non-zero value and step.
///
/// **Backward** (``backward(options:)``): every recorded spike is an event in a queue
/// ordered by (step descending, layer descending). When a spike (j, t_m) pops, the
/// gradients sent to it are complete: D = dL/dt of the spike. With A = D·clip(−1/Δu, −4, 0)
/// and B = D·clip(−1/G, −M, 0), for every input cell i and step t in the spike's window
/// t_{m−1} < t ≤ t_m (k = t_m − t + 1):
///
///     gW_ji += A·ε(k)·x_i[t]                  (the true PSP kernel)
///     D_cell(i, t) += γ·w_ji·B·(−(1 − θ_g)^k)  (a gradient event; γ the per-layer factor)
///
/// and a spike of the layer below takes the D of the cell it fell into (with pooling, each
/// of the n spikes of a cell gets w/k²-weighted shares: the adjusted average pooling of the
/// reference). Only forward spikes carry gradient; work is proportional to the spikes.
///
/// One simulator is one workspace: not thread-safe; use one per thread. Weight gradients
/// accumulate over samples (in the transposed layout of ``SRMNetwork/Layer/transposedWeights``)
/// until ``zeroGradients()``.
public final class SRMSimulator {
  /// Backward options (spec names in parentheses).
  public struct BackwardOptions: Sendable, Equatable {
    /// The per-layer factor γ on gradients sent to the layer below (0.85 in the reference).
    public var layerDecay: Float
    /// The lower clip of −1/Δu (−4 in the reference; the upper clip is 0).
    public var duInverseClip: Float
    /// M, the clip of −1/G to [−M, 0] (`max_dudt_inv`, 1.23e8: effectively unclipped).
    public var dudtInverseClip: Float

    public init(layerDecay: Float = 0.85, duInverseClip: Float = 4, dudtInverseClip: Float = 1.23e8)
    {
      self.layerDecay = layerDecay
      self.duInverseClip = duInverseClip
      self.dudtInverseClip = dudtInverseClip
    }
  }

  /// Operation counts since ``resetCounters()``.
  public struct Counters: Sendable, Equatable {
    /// Synaptic events delivered in forward passes (one accumulate per target).
    public var forwardSynapticEvents = 0
    /// Dense multiply-accumulates (the static input current of layer 0).
    public var forwardMACs = 0
    /// Neuron evaluations (each advances one neuron to the current step).
    public var neuronUpdates = 0
    /// Forward synaptic events per layer (into the layer's neurons).
    public var layerSynapticEvents: [Int]
    /// Spikes per layer.
    public var spikes: [Int]
    /// Gradient-carrying spike events processed by backward passes (D ≠ 0).
    public var backwardSpikeEvents = 0
    /// Backward synaptic events: (spike, presynaptic cell with x ≠ 0, step in window)
    /// triples, each one weight-gradient accumulate and (above layer 0) one gradient event.
    public var backwardSynapticEvents = 0

    init(layers: Int) {
      spikes = Array(repeating: 0, count: layers)
      layerSynapticEvents = spikes
    }
  }

  /// The spikes of one layer in the last forward pass, in emission order.
  public struct SpikeRecord: Sendable {
    public var neuron: [Int32] = []
    public var step: [Int32] = []
    /// The step of the neuron's previous spike (−1: none): the backward window starts after it.
    public var previousStep: [Int32] = []
    /// Δu and G at the spike.
    public var du: [Float] = []
    public var g: [Float] = []
    /// The cell of the next layer's input the spike fell into (−1: dropped by pooling, or
    /// the last layer).
    public var cell: [Int32] = []
    /// dL/dt of the spike, set by the backward pass (output layer: by the caller).
    public var gradient: [Float] = []
    /// Whether the spike was added by the supervisory trick (not a forward spike).
    public var forced: [Bool] = []

    public var count: Int { neuron.count }

    mutating func removeAll() {
      neuron.removeAll(keepingCapacity: true)
      step.removeAll(keepingCapacity: true)
      previousStep.removeAll(keepingCapacity: true)
      du.removeAll(keepingCapacity: true)
      g.removeAll(keepingCapacity: true)
      cell.removeAll(keepingCapacity: true)
      gradient.removeAll(keepingCapacity: true)
      forced.removeAll(keepingCapacity: true)
    }
  }

  /// Per-layer state (manually managed buffers: plain loads and stores in hot loops).
  final class LayerState {
    let neuronCount: Int
    let cellCount: Int
    let cellPixels: Int
    let timeSteps: Int
    // Geometry of the layer's synapses (cells → neurons).
    let isConvolution: Bool
    let cin: Int, cout: Int, kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int
    let cellHeight: Int, cellWidth: Int, cellChannels: Int, outHeight: Int, outWidth: Int
    let pool: Int
    /// Weights (forward and transposed layout), from the simulator's ``SRMWeightBuffers``.
    var forwardWeights: UnsafeMutablePointer<Float>
    var transposedWeights: UnsafeMutablePointer<Float>
    var m: RawBuffer<Float>, s: RawBuffer<Float>, g: RawBuffer<Float>
    var last: RawBuffer<Int32>
    var lastSpike: RawBuffer<Int32>
    var current: RawBuffer<Float>
    var predictedStep: RawBuffer<Int32>
    var pixelStep: RawBuffer<Int32>
    var touched = RawBuffer<Int32>()
    var allTouched = false
    var queue: BucketEventQueue<Int32>
    /// Input cells: value per (step, cell), the non-zero cells of each step, the number of
    /// non-zero cells per (step, cell pixel), and the gradient events per (step, cell).
    var cellValue: RawBuffer<Float>
    var cellLists: [RawBuffer<Int32>]
    var cellPixelNonzero: RawBuffer<Int32>
    var cellGradient: RawBuffer<Float>
    var gradient: RawBuffer<Float>
    // Spikes: neuron, step, previous step, cell in the next layer's input, Δu, G, D, forced.
    var spikeNeuron = RawBuffer<Int32>()
    var spikeStep = RawBuffer<Int32>()
    var spikePrevious = RawBuffer<Int32>()
    var spikeCell = RawBuffer<Int32>()
    var spikeDU = RawBuffer<Float>()
    var spikeG = RawBuffer<Float>()
    var spikeD = RawBuffer<Float>()
    var spikeForced = RawBuffer<Bool>()

    init(layer: SRMNetwork.Layer, timeSteps: Int, weights: SRMWeightBuffers, index: Int) {
      neuronCount = layer.output.count
      cellCount = layer.cells.count
      cellPixels = layer.cells.pixels
      self.timeSteps = timeSteps
      cellHeight = layer.cells.height
      cellWidth = layer.cells.width
      cellChannels = layer.cells.channels
      pool = layer.pool
      outHeight = layer.output.height
      outWidth = layer.output.width
      switch layer.connectivity {
      case .convolution(let c):
        isConvolution = true
        cin = c.inChannels
        cout = c.outChannels
        kernelHeight = c.kernelHeight
        kernelWidth = c.kernelWidth
        stride = c.stride
        padding = c.padding
      default:
        isConvolution = false
        cin = layer.cells.count
        cout = layer.output.count
        kernelHeight = 1
        kernelWidth = 1
        stride = 1
        padding = 0
      }
      forwardWeights = weights.forward[index]
      transposedWeights = weights.transposed[index]
      m = RawBuffer(repeating: 0, count: neuronCount)
      s = RawBuffer(repeating: 0, count: neuronCount)
      g = RawBuffer(repeating: 0, count: neuronCount)
      last = RawBuffer(repeating: -1, count: neuronCount)
      lastSpike = RawBuffer(repeating: -1, count: neuronCount)
      current = RawBuffer(repeating: 0, count: neuronCount)
      predictedStep = RawBuffer(repeating: -1, count: neuronCount)
      pixelStep = RawBuffer(repeating: -1, count: layer.output.pixels)
      queue = BucketEventQueue(horizon: timeSteps + 1)
      cellValue = RawBuffer(repeating: 0, count: timeSteps * cellCount)
      cellLists = (0..<timeSteps).map { _ in RawBuffer<Int32>() }
      cellPixelNonzero = RawBuffer(repeating: 0, count: timeSteps * cellPixels)
      cellGradient = RawBuffer(repeating: 0, count: timeSteps * cellCount)
      gradient = RawBuffer(repeating: 0, count: layer.weightCount)
    }

    deinit {
      m.deallocate()
      s.deallocate()
      g.deallocate()
      last.deallocate()
      lastSpike.deallocate()
      current.deallocate()
      predictedStep.deallocate()
      pixelStep.deallocate()
      touched.deallocate()
      cellValue.deallocate()
      for i in cellLists.indices { cellLists[i].deallocate() }
      cellPixelNonzero.deallocate()
      cellGradient.deallocate()
      gradient.deallocate()
      spikeNeuron.deallocate()
      spikeStep.deallocate()
      spikePrevious.deallocate()
      spikeCell.deallocate()
      spikeDU.deallocate()
      spikeG.deallocate()
      spikeD.deallocate()
      spikeForced.deallocate()
    }

    var spikeCount: Int { spikeNeuron.count }

    @inline(__always)
    func appendSpike(
      neuron: Int32, step: Int32, previous: Int32, cell: Int32, du: Float, g: Float, forced: Bool
    ) {
      spikeNeuron.append(neuron)
      spikeStep.append(step)
      spikePrevious.append(previous)
      spikeCell.append(cell)
      spikeDU.append(du)
      spikeG.append(g)
      spikeD.append(0)
      spikeForced.append(forced)
    }

    /// Clears the per-sample state (sparse where possible).
    func reset() {
      m.base!.update(repeating: 0, count: neuronCount)
      s.base!.update(repeating: 0, count: neuronCount)
      g.base!.update(repeating: 0, count: neuronCount)
      last.base!.update(repeating: -1, count: neuronCount)
      lastSpike.base!.update(repeating: -1, count: neuronCount)
      predictedStep.base!.update(repeating: -1, count: neuronCount)
      for t in 0..<timeSteps {
        let list = cellLists[t]
        let values = cellValue.base! + t * cellCount
        for k in 0..<list.count { values[Int(list[k])] = 0 }
        cellLists[t].removeAll()
      }
      cellPixelNonzero.base!.update(repeating: 0, count: timeSteps * cellPixels)
      spikeNeuron.removeAll()
      spikeStep.removeAll()
      spikePrevious.removeAll()
      spikeCell.removeAll()
      spikeDU.removeAll()
      spikeG.removeAll()
      spikeD.removeAll()
      spikeForced.removeAll()
    }

    var record: SpikeRecord {
      var r = SpikeRecord()
      for k in 0..<spikeCount {
        r.neuron.append(spikeNeuron[k])
        r.step.append(spikeStep[k])
        r.previousStep.append(spikePrevious[k])
        r.du.append(spikeDU[k])
        r.g.append(spikeG[k])
        r.cell.append(spikeCell[k])
        r.gradient.append(spikeD[k])
        r.forced.append(spikeForced[k])
      }
      return r
    }
  }

  /// The network; replace it with ``setNetwork(_:weights:)``.
  public private(set) var network: SRMNetwork
  var weights: SRMWeightBuffers
  let layers: [LayerState]
  /// The static current of layer 0 (input `.current`).
  var drive: RawBuffer<Float>
  /// The static input of the current sample, channels-last (input `.current`).
  var staticInput: RawBuffer<Float>
  /// The output layer's input current per (step, neuron): the supervisory trick replays it.
  var outputCurrent: RawBuffer<Float>
  /// Queue time of step 0 of the current sample (queues only move forward).
  var timeBase = 0
  var backwardQueue: BucketEventQueue<Int32>
  var backwardBase = 0
  /// ε(k) and −(1 − θ_g)^k for k = 0...T (index k; entry 0 unused).
  let epsilonTable: [Float]
  let backwardKernelTable: [Float]
  public internal(set) var counters: Counters

  public init(network: SRMNetwork, weights: SRMWeightBuffers? = nil) {
    self.network = network
    let w = weights ?? SRMWeightBuffers(network)
    self.weights = w
    let t = network.timeSteps
    layers = network.layers.enumerated().map {
      LayerState(layer: $1, timeSteps: t, weights: w, index: $0)
    }
    drive = RawBuffer(repeating: 0, count: network.layers[0].output.count)
    staticInput = RawBuffer(
      repeating: 0, count: network.input == .current ? network.inputShape.count : 0)
    outputCurrent = RawBuffer(repeating: 0, count: t * network.layers.last!.output.count)
    backwardQueue = BucketEventQueue(horizon: t * network.layers.count + 1)
    let p = network.propagators
    epsilonTable = (0...t).map { $0 == 0 ? 0 : Float(p.epsilon($0)) }
    backwardKernelTable = (0...t).map { $0 == 0 ? 0 : Float(p.backwardKernel($0)) }
    counters = Counters(layers: network.layers.count)
  }

  deinit {
    drive.deallocate()
    staticInput.deallocate()
    outputCurrent.deallocate()
  }

  /// Replaces the network by one of the same shapes (new weights). `weights` may be shared
  /// by several simulators (made from the same network); by default a copy is made.
  public func setNetwork(_ network: SRMNetwork, weights: SRMWeightBuffers? = nil) {
    precondition(
      network.timeSteps == self.network.timeSteps
        && network.layers.count == self.network.layers.count
        && zip(network.layers, self.network.layers).allSatisfy {
          $0.output == $1.output && $0.cells == $1.cells && $0.pool == $1.pool
        }, "the new network must have the same shapes")
    self.network = network
    let w = weights ?? SRMWeightBuffers(network)
    self.weights = w
    for (l, state) in layers.enumerated() {
      state.forwardWeights = w.forward[l]
      state.transposedWeights = w.transposed[l]
    }
  }

  public var timeSteps: Int { network.timeSteps }

  /// The spikes of layer `index` recorded by the last forward pass (plus forced ones).
  public func spikes(layer index: Int) -> SpikeRecord { layers[index].record }

  /// The number of spikes of layer `index` at steps ≥ `step` (forced ones excluded).
  public func spikeCount(layer index: Int, from step: Int) -> Int {
    let state = layers[index]
    var n = 0
    for k in 0..<state.spikeCount where Int(state.spikeStep[k]) >= step && !state.spikeForced[k] {
      n += 1
    }
    return n
  }

  public func resetCounters() { counters = Counters(layers: network.layers.count) }

  // MARK: Forward

  /// Simulates one sample. `input` is channels-last: `H × W × C` for `.current`,
  /// `T × H × W × C` for `.frames`.
  public func forward(input: UnsafeBufferPointer<Float>) {
    let net = network
    let T = net.timeSteps
    for state in layers {
      state.reset()
      state.queue.advance(to: timeBase)
    }
    let outputCount = layers.last!.neuronCount
    outputCurrent.base!.update(repeating: 0, count: T * outputCount)
    switch net.input {
    case .current:
      precondition(input.count == net.inputShape.count, "input: expected H × W × C values")
      staticInput.base!.update(from: input.baseAddress!, count: input.count)
      computeDrive()
    case .frames:
      precondition(input.count == T * net.inputShape.count, "input: expected T × H × W × C values")
      let state = layers[0]
      let cells = state.cellCount
      let channels = state.cellChannels
      for t in 0..<T {
        for c in 0..<cells {
          let v = input[t * cells + c]
          if v != 0 {
            state.cellValue[t * cells + c] = v
            state.cellLists[t].append(Int32(c))
            state.cellPixelNonzero[t * state.cellPixels + c / channels] += 1
          }
        }
      }
    }
    let isStatic = net.input == .current
    for t in 0..<T {
      for l in layers.indices {
        if l == 0 && isStatic {
          staticStep(t)
        } else {
          deliver(layer: l, step: t)
          updateCandidates(layer: l, step: t)
        }
      }
    }
    timeBase += T + 1
  }

  /// Layer 0's current from the static input: a dense convolution or matrix product.
  func computeDrive() {
    let state = layers[0]
    let n = state.neuronCount
    let out = drive.base!
    out.update(repeating: 0, count: n)
    let input = staticInput.base!
    let w = state.forwardWeights
    if state.isConvolution {
      let cin = state.cin, cout = state.cout, kw = state.kernelWidth
      for oy in 0..<state.outHeight {
        for ky in 0..<state.kernelHeight {
          let y = oy * state.stride - state.padding + ky
          if y < 0 || y >= state.cellHeight { continue }
          for ox in 0..<state.outWidth {
            let target = out + (oy * state.outWidth + ox) * cout
            for kx in 0..<kw {
              let x = ox * state.stride - state.padding + kx
              if x < 0 || x >= state.cellWidth { continue }
              let src = input + (y * state.cellWidth + x) * cin
              let row = w + (ky * kw + kx) * cin * cout
              for i in 0..<cin where src[i] != 0 {
                srmAXPY(target, row + i * cout, src[i], cout)
              }
            }
          }
        }
      }
      counters.forwardMACs += n * cin * state.kernelHeight * kw
    } else {
      for i in 0..<state.cellCount where input[i] != 0 {
        srmAXPY(out, w + i * n, input[i], n)
      }
      counters.forwardMACs += state.cellCount * n
    }
  }

  /// Layer 0 with a static current: every neuron, every step (8 neurons per vector).
  func staticStep(_ t: Int) {
    let state = layers[0]
    let p = network.propagators
    let isOutput = layers.count == 1
    let n = state.neuronCount
    let m = state.m.base!, s = state.s.base!, g = state.g.base!, d = drive.base!
    let am = SIMD8<Float>(repeating: p.decayM), aS = SIMD8<Float>(repeating: p.decayS)
    let ag = SIMD8<Float>(repeating: p.decayG), kappa = SIMD8<Float>(repeating: p.kappa)
    let threshold = SIMD8<Float>(repeating: p.threshold)
    var j = 0
    while j + 8 <= n {
      var mv = UnsafeRawPointer(m + j).loadUnaligned(as: SIMD8<Float>.self)
      var sv = UnsafeRawPointer(s + j).loadUnaligned(as: SIMD8<Float>.self)
      var gv = UnsafeRawPointer(g + j).loadUnaligned(as: SIMD8<Float>.self)
      let iv = UnsafeRawPointer(d + j).loadUnaligned(as: SIMD8<Float>.self)
      let previous = kappa * (mv - sv)
      mv = (mv + iv) * am
      sv = (sv + iv) * aS
      gv = (gv + iv) * ag
      let u = kappa * (mv - sv)
      let fired = u .>= threshold
      if any(fired) {
        for lane in 0..<8 where fired[lane] {
          emit(layer: 0, neuron: j + lane, step: t, du: u[lane] - previous[lane], g: gv[lane])
        }
        mv.replace(with: 0, where: fired)
        sv.replace(with: 0, where: fired)
        gv.replace(with: 0, where: fired)
      }
      UnsafeMutableRawPointer(m + j).storeBytes(of: mv, as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(s + j).storeBytes(of: sv, as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(g + j).storeBytes(of: gv, as: SIMD8<Float>.self)
      j += 8
    }
    while j < n {
      var x = GridSRM.Traces(m: m[j], s: s[j], g: g[j])
      let previous = p.kappa * (x.m - x.s)
      let u = GridSRM.step(&x, current: d[j], p)
      if u >= p.threshold {
        emit(layer: 0, neuron: j, step: t, du: u - previous, g: x.g)
        x = GridSRM.Traces()
      }
      m[j] = x.m
      s[j] = x.s
      g[j] = x.g
      j += 1
    }
    if isOutput {
      (outputCurrent.base! + t * n).update(from: d, count: n)
    }
    counters.neuronUpdates += n
  }

  /// Delivers layer `l`'s non-zero input cells of step t into the neurons' currents.
  func deliver(layer l: Int, step t: Int) {
    let state = layers[l]
    let list = state.cellLists[t]
    if list.count == 0 { return }
    let values = state.cellValue.base! + t * state.cellCount
    let current = state.current.base!
    let w = state.forwardWeights
    if state.isConvolution {
      // The runs of ConvConnectivity.forEachRun, written out with the geometry in locals.
      let cin = state.cin, cout = state.cout, kh = state.kernelHeight, kw = state.kernelWidth
      let stride = state.stride, padding = state.padding
      let width = state.cellWidth, oh = state.outHeight, ow = state.outWidth
      let t32 = Int32(t)
      var events = 0
      for k in 0..<list.count {
        let cell = Int(list[k])
        let v = values[cell]
        let c = cell % cin
        let pixel = cell / cin
        let y = pixel / width, x = pixel % width
        if stride == 1 {
          // oy = y + p − ky and ox = x + p − kx must lie in the output.
          let ky0 = max(0, y + padding - oh + 1), ky1 = min(kh - 1, y + padding)
          let kx0 = max(0, x + padding - ow + 1), kx1 = min(kw - 1, x + padding)
          if ky0 > ky1 || kx0 > kx1 { continue }
          for ky in ky0...ky1 {
            let rowTarget = (y + padding - ky) * ow + x + padding
            let rowWeights = w + (ky * kw * cin + c) * cout
            for kx in kx0...kx1 {
              let target = rowTarget - kx
              srmAXPY(current + target * cout, rowWeights + kx * cin * cout, v, cout)
              if state.pixelStep[target] != t32 {
                state.pixelStep[target] = t32
                state.touched.append(Int32(target))
              }
            }
          }
          events += (ky1 - ky0 + 1) * (kx1 - kx0 + 1) * cout
          continue
        }
        for ky in 0..<kh {
          let ny = y + padding - ky
          if ny < 0 || ny % stride != 0 { continue }
          let oy = ny / stride
          if oy >= oh { continue }
          for kx in 0..<kw {
            let nx = x + padding - kx
            if nx < 0 || nx % stride != 0 { continue }
            let ox = nx / stride
            if ox >= ow { continue }
            let target = oy * ow + ox
            srmAXPY(current + target * cout, w + ((ky * kw + kx) * cin + c) * cout, v, cout)
            if state.pixelStep[target] != t32 {
              state.pixelStep[target] = t32
              state.touched.append(Int32(target))
            }
            events += cout
          }
        }
      }
      counters.forwardSynapticEvents += events
      counters.layerSynapticEvents[l] += events
    } else {
      let n = state.neuronCount
      for k in 0..<list.count {
        let cell = Int(list[k])
        srmAXPY(current, w + cell * n, values[cell], n)
      }
      state.allTouched = true
      counters.forwardSynapticEvents += list.count * n
      counters.layerSynapticEvents[l] += list.count * n
    }
  }

  /// Evaluates layer `l`'s candidates at step t: neurons with input, then predicted ones.
  func updateCandidates(layer l: Int, step t: Int) {
    let state = layers[l]
    let isOutput = l == layers.count - 1
    if state.allTouched || 2 * state.touched.count >= state.outHeight * state.outWidth {
      // Most neurons have input: evaluate the whole layer with vectors.
      denseStep(layer: l, state, step: t, isOutput)
      state.allTouched = false
      state.touched.removeAll()
    } else if state.touched.count > 0 {
      let cout = state.cout
      for k in 0..<state.touched.count {
        let first = Int(state.touched[k]) * cout
        for j in first..<(first + cout) { update(layer: l, state, neuron: j, step: t, isOutput) }
      }
      state.touched.removeAll()
    }
    let time = timeBase + t
    while let key = state.queue.minimumKey, key.time == time {
      let (_, j) = state.queue.pop()!
      if state.predictedStep[Int(j)] == Int32(t) {
        update(layer: l, state, neuron: Int(j), step: t, isOutput)
      }
    }
  }

  /// Evaluates every neuron of layer `l` at step t, 8 per vector: the same arithmetic as
  /// ``update(layer:_:neuron:step:_:)`` (a neuron without input gets (M + 0)·decay), used
  /// when most neurons have input. Vectors with a neuron not evaluated at t − 1 (a lazy
  /// gap to decay first) fall back to the scalar path.
  func denseStep(layer l: Int, _ state: LayerState, step t: Int, _ isOutput: Bool) {
    let p = network.propagators
    let n = state.neuronCount
    let m = state.m.base!, s = state.s.base!, g = state.g.base!, current = state.current.base!
    let last = state.last.base!, predicted = state.predictedStep.base!
    let am = SIMD8<Float>(repeating: p.decayM), aS = SIMD8<Float>(repeating: p.decayS)
    let ag = SIMD8<Float>(repeating: p.decayG), kappa = SIMD8<Float>(repeating: p.kappa)
    let threshold = SIMD8<Float>(repeating: p.threshold)
    let zero = SIMD8<Float>(repeating: 0)
    let previousStep = SIMD8<Int32>(repeating: Int32(t - 1))
    let canPredict = t + 1 < state.timeSteps
    let margin = SIMD8<Float>(repeating: 1.00001)
    var j = 0
    while j + 8 <= n {
      let lastV = UnsafeRawPointer(last + j).loadUnaligned(as: SIMD8<Int32>.self)
      if any(lastV .!= previousStep) {
        for k in j..<(j + 8) { update(layer: l, state, neuron: k, step: t, isOutput) }
        j += 8
        continue
      }
      var mv = UnsafeRawPointer(m + j).loadUnaligned(as: SIMD8<Float>.self)
      var sv = UnsafeRawPointer(s + j).loadUnaligned(as: SIMD8<Float>.self)
      var gv = UnsafeRawPointer(g + j).loadUnaligned(as: SIMD8<Float>.self)
      let iv = UnsafeRawPointer(current + j).loadUnaligned(as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(current + j).storeBytes(of: zero, as: SIMD8<Float>.self)
      if isOutput {
        UnsafeMutableRawPointer(outputCurrent.base! + t * n + j).storeBytes(
          of: iv, as: SIMD8<Float>.self)
      }
      let previous = kappa * (mv - sv)
      mv = (mv + iv) * am
      sv = (sv + iv) * aS
      gv = (gv + iv) * ag
      let u = kappa * (mv - sv)
      let fired = u .>= threshold
      UnsafeMutableRawPointer(predicted + j).storeBytes(
        of: SIMD8<Int32>(repeating: -1), as: SIMD8<Int32>.self)
      if any(fired) {
        for lane in 0..<8 where fired[lane] {
          emit(layer: l, neuron: j + lane, step: t, du: u[lane] - previous[lane], g: gv[lane])
        }
        mv.replace(with: 0, where: fired)
        sv.replace(with: 0, where: fired)
        gv.replace(with: 0, where: fired)
      }
      if canPredict && p.kappa > 0 {
        // Lanes whose bound on later u reaches the threshold get the exact scan.
        let bound = kappa * (pointwiseMax(mv, zero) * am + pointwiseMax(-sv, zero) * aS) * margin
        let scan = (bound .>= threshold) .& .!fired
        if any(scan) {
          for lane in 0..<8 where scan[lane] {
            if let k = GridSRM.stepsToThreshold(
              m: mv[lane], s: sv[lane], propagators: p, limit: state.timeSteps - 1 - t)
            {
              predicted[j + lane] = Int32(t + k)
              state.queue.push(time: timeBase + t + k, phase: .threshold, Int32(j + lane))
            }
          }
        }
      } else if canPredict {
        for lane in 0..<8 where !fired[lane] {
          if let k = GridSRM.stepsToThreshold(
            m: mv[lane], s: sv[lane], propagators: p, limit: state.timeSteps - 1 - t)
          {
            predicted[j + lane] = Int32(t + k)
            state.queue.push(time: timeBase + t + k, phase: .threshold, Int32(j + lane))
          }
        }
      }
      UnsafeMutableRawPointer(m + j).storeBytes(of: mv, as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(s + j).storeBytes(of: sv, as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(g + j).storeBytes(of: gv, as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(last + j).storeBytes(
        of: SIMD8<Int32>(repeating: Int32(t)), as: SIMD8<Int32>.self)
      counters.neuronUpdates += 8
      j += 8
    }
    while j < n {
      update(layer: l, state, neuron: j, step: t, isOutput)
      j += 1
    }
  }

  @inline(__always)
  func update(layer l: Int, _ state: LayerState, neuron j: Int, step t: Int, _ isOutput: Bool) {
    if state.last[j] == Int32(t) { return }
    let p = network.propagators
    var x = GridSRM.Traces(m: state.m[j], s: state.s[j], g: state.g[j])
    let gap = t - 1 - Int(state.last[j])
    if gap > 0 && (x.m != 0 || x.s != 0 || x.g != 0) { GridSRM.decay(&x, steps: gap, p) }
    let uPrevious = p.kappa * (x.m - x.s)
    let current = state.current[j]
    state.current[j] = 0
    let u = GridSRM.step(&x, current: current, p)
    counters.neuronUpdates += 1
    if isOutput { outputCurrent[t * state.neuronCount + j] = current }
    state.predictedStep[j] = -1
    if u >= p.threshold {
      emit(layer: l, neuron: j, step: t, du: u - uPrevious, g: x.g)
      x = GridSRM.Traces()
    } else if t + 1 < state.timeSteps,
      let k = GridSRM.stepsToThreshold(
        m: x.m, s: x.s, propagators: p, limit: state.timeSteps - 1 - t)
    {
      state.predictedStep[j] = Int32(t + k)
      state.queue.push(time: timeBase + t + k, phase: .threshold, Int32(j))
    }
    state.m[j] = x.m
    state.s[j] = x.s
    state.g[j] = x.g
    state.last[j] = Int32(t)
  }

  /// Records a spike and adds it to its cell of the next layer's input.
  @inline(__always)
  func emit(layer l: Int, neuron j: Int, step t: Int, du: Float, g: Float) {
    let state = layers[l]
    counters.spikes[l] += 1
    var cell: Int32 = -1
    if l + 1 < layers.count {
      let next = layers[l + 1]
      let pool = next.pool
      let channels = next.cellChannels
      let c = j % channels
      let pixel = j / channels
      let y = pixel / state.outWidth / pool
      let x = pixel % state.outWidth / pool
      if y < next.cellHeight && x < next.cellWidth {
        let cellPixel = y * next.cellWidth + x
        let index = cellPixel * channels + c
        cell = Int32(index)
        let slot = t * next.cellCount + index
        if next.cellValue[slot] == 0 {
          next.cellLists[t].append(Int32(index))
          next.cellPixelNonzero[t * next.cellPixels + cellPixel] += 1
        }
        next.cellValue[slot] += 1
      }
    }
    state.appendSpike(
      neuron: Int32(j), step: Int32(t), previous: state.lastSpike[j], cell: cell, du: du, g: g,
      forced: false)
    state.lastSpike[j] = Int32(t)
  }

  // MARK: Output layer

  /// Spike counts of the output neurons (forced spikes included).
  public func outputCounts() -> [Int] {
    let out = layers.last!
    var counts = [Int](repeating: 0, count: out.neuronCount)
    for k in 0..<out.spikeCount { counts[Int(out.spikeNeuron[k])] += 1 }
    return counts
  }

  /// The decoded scores Σ_t o_k[t]·(1.1 − t/(10T)) of the forward spikes (forced ones
  /// excluded), spec A2.
  public func outputScores() -> [Double] {
    let out = layers.last!
    let T = Double(network.timeSteps)
    var scores = [Double](repeating: 0, count: out.neuronCount)
    for k in 0..<out.spikeCount where !out.spikeForced[k] {
      scores[Int(out.spikeNeuron[k])] += 1.1 - Double(out.spikeStep[k]) / (10 * T)
    }
    return scores
  }

  /// The trajectory of output neuron `j` in the last forward pass, replayed from its
  /// recorded input: u[t], Δu[t], G[t] (before any reset) and o[t].
  public func outputTrajectory(neuron j: Int) -> (
    u: [Float], du: [Float], g: [Float], spike: [Bool]
  ) {
    let n = layers.last!.neuronCount
    let p = network.propagators
    let T = network.timeSteps
    var u = [Float](repeating: 0, count: T), du = u, g = u
    var spike = [Bool](repeating: false, count: T)
    var x = GridSRM.Traces()
    for t in 0..<T {
      let previous = p.kappa * (x.m - x.s)
      u[t] = GridSRM.step(&x, current: outputCurrent[t * n + j], p)
      du[t] = u[t] - previous
      g[t] = x.g
      if u[t] >= p.threshold {
        spike[t] = true
        x = GridSRM.Traces()
      }
    }
    return (u, du, g, spike)
  }

  /// The supervisory trick of spec A2 (training only): for output neuron `label`, t* = the
  /// last step with Δu[t] > `duThreshold` (0 if none); o[t*] is forced to 1[Δu[t*] ≠ 0] in
  /// what feeds the loss and the backward pass. Adds a forced spike when o[t*] was 0 and
  /// Δu[t*] ≠ 0 (returns true then); the windows of the label neuron's spikes are
  /// recomputed with it. The forward dynamics are unchanged.
  @discardableResult
  public func applySupervisoryTrick(label: Int, duThreshold: Float = 0.05) -> Bool {
    let trajectory = outputTrajectory(neuron: label)
    var target = 0
    for t in stride(from: network.timeSteps - 1, through: 0, by: -1)
    where trajectory.du[t] > duThreshold {
      target = t
      break
    }
    if trajectory.spike[target] || trajectory.du[target] == 0 { return false }
    let out = layers.last!
    out.appendSpike(
      neuron: Int32(label), step: Int32(target), previous: -1, cell: -1,
      du: trajectory.du[target], g: trajectory.g[target], forced: true)
    // Windows of the label neuron's spikes, in step order.
    var mine: [Int] = []
    for k in 0..<out.spikeCount where out.spikeNeuron[k] == Int32(label) { mine.append(k) }
    mine.sort { out.spikeStep[$0] < out.spikeStep[$1] }
    var previous: Int32 = -1
    for k in mine {
      out.spikePrevious[k] = previous
      previous = out.spikeStep[k]
    }
    return true
  }

  /// Sets dL/dt of every output spike to `gradients[neuron]`.
  public func setOutputGradients(_ gradients: [Float]) {
    let out = layers.last!
    precondition(gradients.count == out.neuronCount)
    for k in 0..<out.spikeCount { out.spikeD[k] = gradients[Int(out.spikeNeuron[k])] }
  }

  // MARK: Gradients

  /// Sets the accumulated weight gradients to zero.
  public func zeroGradients() {
    for (l, state) in layers.enumerated() {
      state.gradient.base!.update(repeating: 0, count: network.layers[l].weightCount)
    }
  }

  /// Runs `body` on layer `l`'s accumulated gradient (transposed layout, per unit cell
  /// count: ``SRMNetwork/addGradient(layer:transposed:scale:into:)`` maps it back).
  public func withGradient<R>(layer l: Int, _ body: (UnsafeBufferPointer<Float>) -> R) -> R {
    body(UnsafeBufferPointer(start: layers[l].gradient.base!, count: network.layers[l].weightCount))
  }
}
