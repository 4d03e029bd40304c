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
    var spikes = SpikeRecord()

    init(layer: SRMNetwork.Layer, timeSteps: Int) {
      neuronCount = layer.output.count
      cellCount = layer.cells.count
      cellPixels = layer.cells.pixels
      self.timeSteps = timeSteps
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
    }

    /// Clears the per-sample state (sparse where possible).
    func reset() {
      for i in 0..<neuronCount {
        m[i] = 0
        s[i] = 0
        g[i] = 0
        last[i] = -1
        lastSpike[i] = -1
        predictedStep[i] = -1
      }
      for t in 0..<timeSteps {
        let list = cellLists[t]
        for k in 0..<list.count {
          let c = Int(list[k])
          cellValue[t * cellCount + c] = 0
        }
        cellLists[t].removeAll()
      }
      cellPixelNonzero.base!.update(repeating: 0, count: timeSteps * cellPixels)
      spikes.removeAll()
    }
  }

  /// The network; may be replaced by one of the same shapes (new weights) between samples.
  public var network: SRMNetwork {
    didSet {
      precondition(
        network.timeSteps == oldValue.timeSteps && network.layers.count == oldValue.layers.count
          && zip(network.layers, oldValue.layers).allSatisfy {
            $0.output == $1.output && $0.cells == $1.cells
          }, "the new network must have the same shapes")
    }
  }
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

  public init(network: SRMNetwork) {
    self.network = network
    let t = network.timeSteps
    layers = network.layers.map { LayerState(layer: $0, timeSteps: t) }
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

  public var timeSteps: Int { network.timeSteps }

  /// The spikes of layer `index` recorded by the last forward pass (plus forced ones).
  public func spikes(layer index: Int) -> SpikeRecord { layers[index].spikes }

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
      let width = net.layers[0].cells.channels
      for t in 0..<T {
        for c in 0..<cells {
          let v = input[t * cells + c]
          if v != 0 {
            state.cellValue[t * cells + c] = v
            state.cellLists[t].append(Int32(c))
            state.cellPixelNonzero[t * state.cellPixels + c / width] += 1
          }
        }
      }
    }
    for t in 0..<T {
      for l in layers.indices {
        if l == 0 && net.input == .current {
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
    let layer = network.layers[0]
    let n = layer.output.count
    drive.base!.update(repeating: 0, count: n)
    switch layer.connectivity {
    case .convolution(let c):
      c.kernel.withUnsafeBufferPointer { kernel in
        let k = kernel.baseAddress!
        let cout = c.outChannels, cin = c.inChannels
        for oy in 0..<c.outHeight {
          for ox in 0..<c.outWidth {
            let out = drive.base! + (oy * c.outWidth + ox) * cout
            for ky in 0..<c.kernelHeight {
              let y = oy * c.stride - c.padding + ky
              if y < 0 || y >= c.height { continue }
              for kx in 0..<c.kernelWidth {
                let x = ox * c.stride - c.padding + kx
                if x < 0 || x >= c.width { continue }
                let src = staticInput.base! + (y * c.width + x) * cin
                let w = k + (ky * c.kernelWidth + kx) * cin * cout
                for i in 0..<cin {
                  let v = src[i]
                  if v == 0 { continue }
                  let row = w + i * cout
                  for o in 0..<cout { out[o] += v * row[o] }
                }
              }
            }
          }
        }
      }
      counters.forwardMACs += c.targetCount * c.inChannels * c.kernelHeight * c.kernelWidth
    case .dense(let d):
      d.weights.withUnsafeBufferPointer { w in
        for i in 0..<d.sourceCount {
          let v = staticInput[i]
          if v == 0 { continue }
          let row = w.baseAddress! + i * n
          for o in 0..<n { drive[o] += v * row[o] }
        }
      }
      counters.forwardMACs += d.synapseCount
    case .sparse:
      preconditionFailure("SRM layers are convolutional or dense")
    }
  }

  /// Layer 0 with a static current: every neuron, every step.
  func staticStep(_ t: Int) {
    let state = layers[0]
    let p = network.propagators
    let isOutput = layers.count == 1
    for j in 0..<state.neuronCount {
      var x = GridSRM.Traces(m: state.m[j], s: state.s[j], g: state.g[j])
      let uPrevious = p.kappa * (x.m - x.s)
      let current = drive[j]
      let u = GridSRM.step(&x, current: current, p)
      if isOutput { outputCurrent[t * state.neuronCount + j] = current }
      if u >= p.threshold {
        emit(layer: 0, neuron: j, step: t, du: u - uPrevious, g: x.g)
        x = GridSRM.Traces()
      }
      state.m[j] = x.m
      state.s[j] = x.s
      state.g[j] = x.g
      state.last[j] = Int32(t)
    }
    counters.neuronUpdates += state.neuronCount
  }

  /// Delivers layer `l`'s non-zero input cells of step t into the neurons' currents.
  func deliver(layer l: Int, step t: Int) {
    let state = layers[l]
    let list = state.cellLists[t]
    if list.count == 0 { return }
    let values = state.cellValue.base! + t * state.cellCount
    let current = state.current.base!
    switch network.layers[l].connectivity {
    case .convolution(let c):
      let cout = c.outChannels
      var events = 0
      c.kernel.withUnsafeBufferPointer { kernel in
        let k = kernel.baseAddress!
        for n in 0..<list.count {
          let cell = Int(list[n])
          let v = values[cell]
          c.forEachRun(of: cell) { first, offset, count in
            let out = current + first
            let w = k + offset
            for o in 0..<count { out[o] += v * w[o] }
            let pixel = first / cout
            if state.pixelStep[pixel] != Int32(t) {
              state.pixelStep[pixel] = Int32(t)
              state.touched.append(Int32(pixel))
            }
            events += count
          }
        }
      }
      counters.forwardSynapticEvents += events
      counters.layerSynapticEvents[l] += events
    case .dense(let d):
      let n = d.targetCount
      d.weights.withUnsafeBufferPointer { w in
        for k in 0..<list.count {
          let cell = Int(list[k])
          let v = values[cell]
          let row = w.baseAddress! + cell * n
          for o in 0..<n { current[o] += v * row[o] }
        }
      }
      state.allTouched = true
      counters.forwardSynapticEvents += list.count * n
      counters.layerSynapticEvents[l] += list.count * n
    case .sparse:
      preconditionFailure("SRM layers are convolutional or dense")
    }
  }

  /// Evaluates layer `l`'s candidates at step t: neurons with input, then predicted ones.
  func updateCandidates(layer l: Int, step t: Int) {
    let state = layers[l]
    if state.allTouched {
      for j in 0..<state.neuronCount { update(layer: l, state, neuron: j, step: t) }
      state.allTouched = false
    } else if state.touched.count > 0 {
      let cout = network.layers[l].output.channels
      for k in 0..<state.touched.count {
        let first = Int(state.touched[k]) * cout
        for j in first..<(first + cout) { update(layer: l, state, neuron: j, step: t) }
      }
      state.touched.removeAll()
    }
    let time = timeBase + t
    while let key = state.queue.minimumKey, key.time == time {
      let (_, j) = state.queue.pop()!
      if state.predictedStep[Int(j)] == Int32(t) {
        update(layer: l, state, neuron: Int(j), step: t)
      }
    }
  }

  @inline(__always)
  func update(layer l: Int, _ state: LayerState, neuron j: Int, step t: Int) {
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
    if l == layers.count - 1 { outputCurrent[t * state.neuronCount + j] = current }
    state.predictedStep[j] = -1
    if u >= p.threshold {
      emit(layer: l, neuron: j, step: t, du: u - uPrevious, g: x.g)
      x = GridSRM.Traces()
    } else if t + 1 < network.timeSteps,
      let k = GridSRM.stepsToThreshold(
        m: x.m, s: x.s, propagators: p, limit: network.timeSteps - 1 - t)
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
  func emit(layer l: Int, neuron j: Int, step t: Int, du: Float, g: Float) {
    let state = layers[l]
    counters.spikes[l] += 1
    var cell: Int32 = -1
    if l + 1 < layers.count {
      let next = network.layers[l + 1]
      let source = next.source
      let c = j % source.channels
      let pixel = j / source.channels
      let y = pixel / source.width / next.pool
      let x = pixel % source.width / next.pool
      if y < next.cells.height && x < next.cells.width {
        let cellPixel = y * next.cells.width + x
        let index = cellPixel * next.cells.channels + c
        cell = Int32(index)
        let target = layers[l + 1]
        let slot = t * target.cellCount + index
        if target.cellValue[slot] == 0 {
          target.cellLists[t].append(Int32(index))
          target.cellPixelNonzero[t * target.cellPixels + cellPixel] += 1
        }
        target.cellValue[slot] += 1
      }
    }
    state.spikes.neuron.append(Int32(j))
    state.spikes.step.append(Int32(t))
    state.spikes.previousStep.append(state.lastSpike[j])
    state.spikes.du.append(du)
    state.spikes.g.append(g)
    state.spikes.cell.append(cell)
    state.spikes.gradient.append(0)
    state.spikes.forced.append(false)
    state.lastSpike[j] = Int32(t)
  }

  // MARK: Output layer

  /// Spike counts of the output neurons (forced spikes included).
  public func outputCounts() -> [Int] {
    let out = layers.last!
    var counts = [Int](repeating: 0, count: out.neuronCount)
    for k in 0..<out.spikes.count { counts[Int(out.spikes.neuron[k])] += 1 }
    return counts
  }

  /// The decoded scores Σ_t o_k[t]·(1.1 − t/(10T)) of the forward spikes (forced ones
  /// excluded), spec A2.
  public func outputScores() -> [Double] {
    let out = layers.last!
    let T = Double(network.timeSteps)
    var scores = [Double](repeating: 0, count: out.neuronCount)
    for k in 0..<out.spikes.count where !out.spikes.forced[k] {
      scores[Int(out.spikes.neuron[k])] += 1.1 - Double(out.spikes.step[k]) / (10 * T)
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
    out.spikes.neuron.append(Int32(label))
    out.spikes.step.append(Int32(target))
    out.spikes.previousStep.append(-1)
    out.spikes.du.append(trajectory.du[target])
    out.spikes.g.append(trajectory.g[target])
    out.spikes.cell.append(-1)
    out.spikes.gradient.append(0)
    out.spikes.forced.append(true)
    // Windows of the label neuron's spikes, in step order.
    var mine: [Int] = []
    for k in 0..<out.spikes.count where out.spikes.neuron[k] == Int32(label) { mine.append(k) }
    mine.sort { out.spikes.step[$0] < out.spikes.step[$1] }
    var previous: Int32 = -1
    for k in mine {
      out.spikes.previousStep[k] = previous
      previous = out.spikes.step[k]
    }
    return true
  }

  /// Sets dL/dt of every output spike to `gradients[neuron]`.
  public func setOutputGradients(_ gradients: [Float]) {
    let out = layers.last!
    precondition(gradients.count == out.neuronCount)
    for k in 0..<out.spikes.count {
      out.spikes.gradient[k] = gradients[Int(out.spikes.neuron[k])]
    }
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
