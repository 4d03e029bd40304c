import SNNBase

/// Multi-step leaky integrate-and-fire neurons over all T steps of a time-major tensor,
/// with full BPTT in `backward`.
///
/// Input: currents I `[T, B, …]` (one neuron per element of a step); output: spikes S of
/// the same shape. Per neuron (see ``LIFKernel`` for the derivative):
///
///     H[t] = a·V[t−1] + c·I[t]          (charge; see ``Charge``)
///     S[t] = Θ(H[t] − V_th), Θ(0) = 1   (fire)
///     V[t] = H[t] − V_th·S[t]           (soft reset)   or
///     V[t] = H[t]·(1 − S[t]) + V_reset·S[t]   (hard reset)
///
/// Options: `detachReset` stops the gradient through S in the reset (SpikingJelly's
/// `detach_reset`); `detachMembrane` stops it through V[t−1] in the charge (NDOT/OTTT,
/// which makes the steps independent in backward); `primitiveMode` replaces Θ by the
/// surrogate's smooth primitive so that finite differences of the forward match backward.
///
/// Presets: SpikingJelly's `LIFNode` defaults (τ = 2, `decay_input`, V_th = 1, hard reset
/// to 0, reset not detached, sigmoid a = 4) are ``spikingJellyDefault(name:)``; LSG is
/// ``lsg(name:initialBeta:vThreshold:)``.
///
/// The forward pass keeps H `[T, B, …]` and the spikes (the output itself) for backward,
/// 2 floats per neuron and step; the surrogate derivative is recomputed from H. Neurons are
/// processed in cache blocks across all T steps at once, split over threads in fixed
/// chunks (results do not depend on the thread count except for the order of the leak
/// gradient's partial sums).
public final class LIF: DenseLayer {
  /// How the membrane charges: H = a·V[t−1] + c·I[t].
  public enum Charge: Hashable, Sendable {
    /// H = λ·V + I (a = λ, c = 1): the method specs' form (Rate-BP λ = 0.2, NDOT λ = 0.5).
    case leaky(lambda: Float)
    /// H = V + (I − V)/τ (a = 1 − 1/τ, c = 1/τ): SpikingJelly's `decay_input=True`.
    case decayInput(tau: Float)
    /// H = β·V + I with β = sigmoid(b) and b a trainable scalar per layer (LSG, Lian et al.
    /// IJCAI 2023; β = 0.2 at init ⇒ b = ln 0.25). ∂L/∂b = β(1 − β)·Σ ∂L/∂H[t]·V[t−1].
    case learnableLeak(initialBeta: Float)
    /// H = V + I (a = c = 1): the IF neuron.
    case integrate
  }

  /// What a spike does to the membrane.
  public enum Reset: String, Hashable, Sendable, CaseIterable {
    /// V = H·(1 − S) + V_reset·S.
    case hard
    /// V = H − V_th·S.
    case soft
  }

  public let name: String
  public let charge: Charge
  public var vThreshold: Float
  public var vReset: Float
  public var reset: Reset
  public var detachReset: Bool
  public var detachMembrane: Bool
  public var surrogate: Surrogate
  public var primitiveMode = false
  public var isTraining = true
  /// Threads for the neuron loop.
  public var threads: Int
  /// b of ``Charge/learnableLeak(initialBeta:)`` (shape `[1]`), else nil.
  public let leakLogit: Parameter?

  /// V[−1] for the next forward (`[B, …]`), or nil for the resting value (V_reset for hard
  /// reset, 0 for soft). Online methods set it to ``finalMembrane`` between single steps.
  public var initialMembrane: Tensor?
  /// V[T−1] after the last forward.
  public private(set) var finalMembrane = Tensor(shape: [0])
  /// ∂L/∂V[−1] after the last backward (meaningful when ``initialMembrane`` was set).
  public private(set) var gradInitialMembrane = Tensor(shape: [0])
  /// LSG's diagnostic for the last forward: the fraction of (t, sample, neuron) with
  /// |H − V_th| < w/2 for the surrogate's window width w; nil for sigmoid/atan.
  public private(set) var gradAvailableRatio: Double?
  /// The fraction of (t, sample, neuron) that spiked in the last forward.
  public var spikeRate: Double { output.nonzeroFraction }
  /// The surrogate of the last forward with LSG's width resolved.
  public private(set) var resolvedSurrogate: Surrogate

  var potential = Tensor(shape: [0])
  var output = Tensor(shape: [0])
  var gradInput = Tensor(shape: [0])
  var startMembrane = Tensor(shape: [0])
  var lastKernel: LIFKernel<Float>? = nil
  var staticInput = false
  let carry = ScratchBuffer()

  public init(
    name: String = "lif", charge: Charge = .leaky(lambda: 0.5), vThreshold: Float = 1,
    reset: Reset = .hard, vReset: Float = 0, detachReset: Bool = false,
    detachMembrane: Bool = false, surrogate: Surrogate = .sigmoid(alpha: 4),
    threads: Int = Parallel.defaultThreads
  ) {
    switch charge {
    case .leaky(let l): precondition(l >= 0 && l <= 1, "LIF: λ must be in [0, 1]")
    case .decayInput(let tau): precondition(tau >= 1, "LIF: τ must be ≥ 1")
    case .learnableLeak(let b0): precondition(b0 > 0 && b0 < 1, "LIF: initial β must be in (0, 1)")
    case .integrate: break
    }
    precondition(vThreshold > 0, "LIF: V_th must be positive")
    self.name = name
    self.charge = charge
    self.vThreshold = vThreshold
    self.vReset = vReset
    self.reset = reset
    self.detachReset = detachReset
    self.detachMembrane = detachMembrane
    self.surrogate = surrogate
    self.threads = max(1, threads)
    self.resolvedSurrogate = surrogate
    if case .learnableLeak(let b0) = charge {
      let logit = Float(Math.log(Double(b0) / (1 - Double(b0))))
      leakLogit = Parameter(
        name: name + ".leakLogit", role: .neuron, value: Tensor(shape: [1], scalars: [logit]))
    } else {
      leakLogit = nil
    }
  }

  /// SpikingJelly's `LIFNode()` defaults: τ = 2 with `decay_input`, V_th = 1, hard reset
  /// to 0, reset not detached, sigmoid surrogate a = 4 (the BPTT baseline of the specs).
  public static func spikingJellyDefault(name: String = "lif") -> LIF {
    LIF(
      name: name, charge: .decayInput(tau: 2), vThreshold: 1, reset: .hard,
      surrogate: .sigmoid(alpha: 4))
  }

  /// LSG's neuron (Lian et al., IJCAI 2023): learnable leak β (init 0.2), V_th = 0.5, hard
  /// multiplicative reset not detached, rectangular surrogate of width 2·V_th·√(1 + β²).
  public static func lsg(name: String = "lsg", initialBeta: Float = 0.2, vThreshold: Float = 0.5)
    -> LIF
  {
    LIF(
      name: name, charge: .learnableLeak(initialBeta: initialBeta), vThreshold: vThreshold,
      reset: .hard, detachReset: false, surrogate: .learnableWidth)
  }

  public var parameters: [Parameter] { leakLogit.map { [$0] } ?? [] }

  /// (a, c) of the charge equation with the current parameter values.
  public var chargeCoefficients: (decay: Float, inputScale: Float) {
    switch charge {
    case .leaky(let l): return (l, 1)
    case .decayInput(let tau): return (1 - 1 / tau, 1 / tau)
    case .integrate: return (1, 1)
    case .learnableLeak:
      let b = Double(leakLogit!.value.scalars[0])
      return (Float(1 / (1 + Math.exp(-b))), 1)
    }
  }

  /// The kernel for the current settings (LSG's width resolved from the current leak).
  public func makeKernel() -> LIFKernel<Float> {
    let (a, c) = chargeCoefficients
    let sg = surrogate.resolved(beta: Double(a), vThreshold: Double(vThreshold))
    return LIFKernel<Float>(
      decay: a, inputScale: c, vThreshold: vThreshold, vReset: vReset, hardReset: reset == .hard,
      detachReset: detachReset, detachMembrane: detachMembrane, primitive: primitiveMode,
      surrogate: sg.kernel(Float.self))
  }

  func chunkCount(_ n: Int) -> Int { max(1, min(threads, n / 4096)) }

  public func forward(_ input: Tensor) -> Tensor {
    precondition(input.rank >= 2, "\(name): expected [T, B, ...], got \(input.shape)")
    return run(input, steps: input.shape[0], inputIsStatic: false)
  }

  /// Static-input forward: `current` `[B, …]` is the same input at each of `steps` steps
  /// (the output of a first layer fed a constant image). Returns spikes `[steps, B, …]`;
  /// the next ``backward(_:)`` returns Σ_t ∂L/∂I[t] with the shape of `current`, which is
  /// the whole gradient of a time-constant input. Identical mathematics to repeating the
  /// current over time, without materializing or re-reading T copies.
  public func forward(staticCurrent current: Tensor, steps: Int) -> Tensor {
    precondition(current.rank >= 1, "\(name): expected [B, ...], got \(current.shape)")
    precondition(steps > 0, "\(name): steps must be positive")
    return run(current.reshaped([1] + current.shape), steps: steps, inputIsStatic: true)
  }

  private func run(_ input: Tensor, steps: Int, inputIsStatic: Bool) -> Tensor {
    let n = input.elementsPerStep
    let stateShape = Array(input.shape.dropFirst())
    let outputShape = [steps] + stateShape
    staticInput = inputIsStatic
    let kernel = makeKernel()
    lastKernel = kernel
    resolvedSurrogate = surrogate.resolved(
      beta: Double(kernel.decay), vThreshold: Double(vThreshold))
    // V[−1] into startMembrane (kept for the leak gradient) and finalMembrane (evolved in
    // place); both buffers are reused from call to call.
    startMembrane.prepare(shape: stateShape)
    if let v0 = initialMembrane {
      precondition(
        v0.shape == stateShape, "\(name): initial membrane \(v0.shape), expected \(stateShape)")
      v0.withUnsafeBufferPointer { src in
        startMembrane.withUnsafeMutableBufferPointer {
          $0.baseAddress!.update(from: src.baseAddress!, count: n)
        }
      }
    } else {
      startMembrane.fill(reset == .hard ? vReset : 0)
    }
    finalMembrane.prepare(shape: stateShape)
    startMembrane.withUnsafeBufferPointer { src in
      finalMembrane.withUnsafeMutableBufferPointer {
        $0.baseAddress!.update(from: src.baseAddress!, count: n)
      }
    }
    potential.prepare(shape: outputShape)
    output.prepare(shape: outputShape)
    let chunks = chunkCount(n)
    var counts = [Int](repeating: 0, count: chunks)
    let window = resolvedSurrogate.windowWidth != nil
    input.withUnsafeBufferPointer { x in
      finalMembrane.withUnsafeMutableBufferPointer { v in
        potential.withUnsafeMutableBufferPointer { h in
          output.withUnsafeMutableBufferPointer { s in
            counts.withUnsafeMutableBufferPointer { cnt in
              let xb = UncheckedSendable(x.baseAddress!), vb = UncheckedSendable(v.baseAddress!)
              let hb = UncheckedSendable(h.baseAddress!), sb = UncheckedSendable(s.baseAddress!)
              let cb = UncheckedSendable(cnt.baseAddress!)
              Parallel.forEachChunk(count: n, chunks: chunks) { chunk, range in
                cb.value[chunk] = kernel.forward(
                  steps: steps, stride: n, range: range, input: xb.value, membrane: vb.value,
                  potential: hb.value, spikes: sb.value, countWindow: window,
                  inputIsStatic: inputIsStatic)
              }
            }
          }
        }
      }
    }
    gradAvailableRatio =
      window && steps * n > 0
      ? Double(counts.reduce(0, +)) / Double(steps * n) : nil
    return output
  }

  /// Full BPTT over the T steps of the last forward; accumulates ∂L/∂b for a learnable
  /// leak; returns ∂L/∂I (`[T, B, …]`, or Σ_t ∂L/∂I[t] `[B, …]` after a static-input
  /// forward). `gradFinalMembrane` (∂L/∂V[T−1], default zero) lets a caller chain
  /// chunks of time.
  public func backward(_ gradOutput: Tensor) -> Tensor {
    backward(gradOutput, gradFinalMembrane: nil)
  }

  public func backward(_ gradOutput: Tensor, gradFinalMembrane: Tensor?) -> Tensor {
    precondition(
      gradOutput.shape == output.shape,
      "\(name): gradient \(gradOutput.shape), expected \(output.shape)")
    return backward(gradOutput, gradientIsStatic: false, gradFinalMembrane: gradFinalMembrane)
  }

  /// Full BPTT when ∂L/∂S[t] is the same `[B, …]` tensor at every step (a readout averaged
  /// over time: ∂L/∂S[t] = ∂L/∂mean/T): identical to passing T copies, without making them.
  public func backward(timeConstantGradient gradient: Tensor) -> Tensor {
    precondition(
      gradient.shape == Array(output.shape.dropFirst()),
      "\(name): time-constant gradient \(gradient.shape), expected \(Array(output.shape.dropFirst()))")
    return backward(gradient, gradientIsStatic: true, gradFinalMembrane: nil)
  }

  private func backward(_ gradOutput: Tensor, gradientIsStatic: Bool, gradFinalMembrane: Tensor?)
    -> Tensor
  {
    guard let kernel = lastKernel else { preconditionFailure("\(name): backward before forward") }
    let steps = output.shape[0], n = output.elementsPerStep
    let isStatic = staticInput
    gradInput.prepare(shape: isStatic ? Array(output.shape.dropFirst()) : output.shape)
    let gv = carry.reserve(n)
    if let gf = gradFinalMembrane {
      precondition(
        gf.count == n, "\(name): final-membrane gradient has \(gf.count) values, expected \(n)")
      gf.withUnsafeBufferPointer { gv.update(from: $0.baseAddress!, count: n) }
    } else {
      gv.update(repeating: 0, count: n)
    }
    let chunks = chunkCount(n)
    let wantLeak = leakLogit != nil
    var leaks = [Float](repeating: 0, count: chunks)
    gradOutput.withUnsafeBufferPointer { g in
      potential.withUnsafeBufferPointer { h in
        output.withUnsafeBufferPointer { s in
          startMembrane.withUnsafeBufferPointer { v0 in
            gradInput.withUnsafeMutableBufferPointer { gi in
              leaks.withUnsafeMutableBufferPointer { lk in
                let gb = UncheckedSendable(g.baseAddress!), hb = UncheckedSendable(h.baseAddress!)
                let sb = UncheckedSendable(s.baseAddress!), vb = UncheckedSendable(v0.baseAddress!)
                let ib = UncheckedSendable(gi.baseAddress!), lb = UncheckedSendable(lk.baseAddress!)
                let cv = UncheckedSendable(gv)
                Parallel.forEachChunk(count: n, chunks: chunks) { chunk, range in
                  lb.value[chunk] = kernel.backward(
                    steps: steps, stride: n, range: range, gradSpikes: gb.value,
                    potential: hb.value, spikes: sb.value, initialMembrane: vb.value,
                    gradMembrane: cv.value, gradInput: ib.value, leakGradient: wantLeak,
                    inputIsStatic: isStatic, gradientIsStatic: gradientIsStatic)
                }
              }
            }
          }
        }
      }
    }
    if let b = leakLogit {
      var total: Double = 0
      for l in leaks { total += Double(l) }
      let beta = Double(kernel.decay)
      b.gradient.withUnsafeMutableBufferPointer { $0[0] += Float(beta * (1 - beta) * total) }
    }
    gradInitialMembrane.prepare(shape: finalMembrane.shape)
    gradInitialMembrane.withUnsafeMutableBufferPointer {
      $0.baseAddress!.update(from: gv, count: n)
    }
    return gradInput
  }
}
