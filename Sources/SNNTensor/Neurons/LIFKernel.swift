/// The multi-step leaky integrate-and-fire update and its exact reverse-mode derivative,
/// generic over the scalar type so that one implementation serves the `Float` layers and
/// the `Double` gradient checks.
///
/// Per neuron, for t = 0..T−1 (V[−1] is the initial membrane):
///
///     charge   H[t] = a·V̂[t−1] + c·I[t]        V̂ = stopgrad(V) if detachMembrane
///     fire     S[t] = Θ(H[t] − V_th), Θ(0) = 1  (P(H[t] − V_th) in primitive mode)
///     soft     V[t] = H[t] − V_th·S̃[t]
///     hard     V[t] = H[t]·(1 − S̃[t]) + V_reset·S̃[t]   S̃ = stopgrad(S) if detachReset
///
/// With a = λ, c = 1 this is the LIF of the method specs (H = λV + I); SpikingJelly's
/// `decay_input` form H = V + (I − V)/τ is a = 1 − 1/τ, c = 1/τ; IF is a = c = 1.
///
/// Backward (full BPTT through time), with g_V[T−1] given (normally 0) and h the surrogate:
///
///     g_S = ∂L/∂S[t] + g_V[t]·∂V/∂S    (the second term only if the reset is not detached)
///     g_H[t] = g_S·h(H[t] − V_th) + g_V[t]·∂V/∂H
///     ∂L/∂I[t] = c·g_H[t],  ∂L/∂a += g_H[t]·V[t−1],  g_V[t−1] = a·g_H[t] (0 if detached)
///
/// with ∂V/∂H = 1, ∂V/∂S = −V_th (soft) and ∂V/∂H = 1 − S, ∂V/∂S = V_reset − H (hard).
/// For binary spikes the hard-reset factor is LSG's ∂u^{t+1}/∂u^t = β(1 − o^t) and
/// ∂u^{t+1}/∂o^t = −β·u^t (Lian et al., IJCAI 2023).
///
/// Buffers are time-major with `stride` neurons per step; a call processes the neurons in
/// `range`, so disjoint ranges may run on different threads.
@frozen
public struct LIFKernel<S: DenseScalar>: Sendable {
  /// a: the factor on V[t−1] (λ, 1 − 1/τ, or 1 for IF).
  public var decay: S
  /// c: the factor on the input current (1, or 1/τ for `decay_input`).
  public var inputScale: S
  public var vThreshold: S
  public var vReset: S
  public var hardReset: Bool
  public var detachReset: Bool
  public var detachMembrane: Bool
  /// Replace Θ by the surrogate's primitive in the forward pass (for gradient checks).
  public var primitive: Bool
  public var surrogate: SurrogateKernel<S>

  @inlinable
  public init(
    decay: S, inputScale: S = 1, vThreshold: S, vReset: S = 0, hardReset: Bool,
    detachReset: Bool, detachMembrane: Bool, primitive: Bool = false,
    surrogate: SurrogateKernel<S>
  ) {
    self.decay = decay
    self.inputScale = inputScale
    self.vThreshold = vThreshold
    self.vReset = vReset
    self.hardReset = hardReset
    self.detachReset = detachReset
    self.detachMembrane = detachMembrane
    self.primitive = primitive
    self.surrogate = surrogate
  }

  /// Neurons per cache block: the inner loop runs over a block for every t, so the block's
  /// membrane state stays in L1 while H, S and I stream through.
  public static var blockSize: Int { 4096 }

  /// `p` as a `Float` pointer (only called when `S` is `Float`).
  @inlinable @inline(__always)
  static func floats(_ p: UnsafePointer<S>) -> UnsafePointer<Float> {
    UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
  }

  @inlinable @inline(__always)
  static func mutableFloats(_ p: UnsafeMutablePointer<S>) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
  }

  /// Runs T steps for the neurons in `range`.
  ///
  /// - `membrane[i]` holds V[−1] on entry and V[T−1] on return (indexed by neuron).
  /// - `potential` and `spikes` receive H[t] and S[t] (`[T, stride]`).
  /// - Returns the number of (t, i) with |H − V_th| < w/2 for the surrogate's window width
  ///   w (0 when `countWindow` is false): the numerator of LSG's `gradAvailableRatio`.
  /// - `inputIsStatic`: `input` holds one step (`[stride]`) used at every t.
  @inlinable
  public func forward(
    steps: Int, stride: Int, range: Range<Int>, input: UnsafePointer<S>,
    membrane: UnsafeMutablePointer<S>, potential: UnsafeMutablePointer<S>,
    spikes: UnsafeMutablePointer<S>, countWindow: Bool, inputIsStatic: Bool = false
  ) -> Int {
    let a = decay, c = inputScale, vth = vThreshold, vr = vReset, hard = hardReset
    let halfWindow: S =
      surrogate.kind == .rectangle || surrogate.kind == .triangle
      ? surrogate.parameter / 2 : 0
    var windowCount = 0
    var blockStart = range.lowerBound
    while blockStart < range.upperBound {
      let blockEnd = Swift.min(blockStart + Self.blockSize, range.upperBound)
      for t in 0..<steps {
        let base = t * stride
        let x = inputIsStatic ? input : input + base, h = potential + base, s = spikes + base
        if primitive {
          let sg = surrogate
          for i in blockStart..<blockEnd {
            let hv = a * membrane[i] + c * x[i]
            let sv = sg.primitive(hv - vth)
            h[i] = hv
            s[i] = sv
            membrane[i] = hard ? hv * (1 - sv) + vr * sv : hv - vth * sv
          }
        } else if S.self == Float.self {
          // Eight lanes at a time (bit-identical to the loops below).
          LIFFloatSIMD.forwardStep(
            count: blockEnd - blockStart, hard: hard, a: unsafeBitCast(a, to: Float.self),
            c: unsafeBitCast(c, to: Float.self), vth: unsafeBitCast(vth, to: Float.self),
            vr: unsafeBitCast(vr, to: Float.self),
            input: Self.floats(x + blockStart), membrane: Self.mutableFloats(membrane + blockStart),
            potential: Self.mutableFloats(h + blockStart), spikes: Self.mutableFloats(s + blockStart))
        } else if hard {
          for i in blockStart..<blockEnd {
            let hv = a * membrane[i] + c * x[i]
            let fired = hv >= vth
            h[i] = hv
            s[i] = fired ? 1 : 0
            membrane[i] = fired ? vr : hv
          }
        } else {
          for i in blockStart..<blockEnd {
            let hv = a * membrane[i] + c * x[i]
            let fired = hv >= vth
            h[i] = hv
            s[i] = fired ? 1 : 0
            membrane[i] = fired ? hv - vth : hv
          }
        }
        if countWindow && halfWindow > 0 {
          var n = 0
          for i in blockStart..<blockEnd where abs(h[i] - vth) < halfWindow { n += 1 }
          windowCount += n
        }
      }
      blockStart = blockEnd
    }
    return windowCount
  }

  /// Reverse pass over T steps for the neurons in `range`.
  ///
  /// - `gradSpikes`, `potential`, `spikes`: ∂L/∂S[t], H[t], S[t] (`[T, stride]`).
  /// - `initialMembrane[i]`: V[−1] (needed only for the leak gradient).
  /// - `gradMembrane[i]`: ∂L/∂V[T−1] on entry (0 unless the state feeds a later call),
  ///   ∂L/∂V[−1] on return.
  /// - `gradInput` receives ∂L/∂I[t] (`[T, stride]`), or with `inputIsStatic` the total
  ///   Σ_t ∂L/∂I[t] (`[stride]`) of an input that is the same at every step.
  /// - Returns ∂L/∂a summed over the range (when `leakGradient` is true, else 0).
  /// - `gradientIsStatic`: `gradSpikes` holds one step (`[stride]`), the same ∂L/∂S[t] at
  ///   every t (e.g. a readout averaged over time), so T copies need not be materialized.
  @inlinable
  public func backward(
    steps: Int, stride: Int, range: Range<Int>, gradSpikes: UnsafePointer<S>,
    potential: UnsafePointer<S>, spikes: UnsafePointer<S>, initialMembrane: UnsafePointer<S>,
    gradMembrane: UnsafeMutablePointer<S>, gradInput: UnsafeMutablePointer<S>,
    leakGradient: Bool, inputIsStatic: Bool = false, gradientIsStatic: Bool = false
  ) -> S {
    let p = surrogate.parameter
    switch surrogate.kind {
    case .sigmoid:
      return backwardLoop(
        SigmoidShape.self, p, steps, stride, range, gradSpikes, potential, spikes, initialMembrane,
        gradMembrane, gradInput, leakGradient, inputIsStatic, gradientIsStatic)
    case .atan:
      return backwardLoop(
        ATanShape.self, p, steps, stride, range, gradSpikes, potential, spikes, initialMembrane,
        gradMembrane, gradInput, leakGradient, inputIsStatic, gradientIsStatic)
    case .rectangle:
      return backwardLoop(
        RectangleShape.self, p, steps, stride, range, gradSpikes, potential, spikes,
        initialMembrane, gradMembrane, gradInput, leakGradient, inputIsStatic, gradientIsStatic)
    case .triangle:
      return backwardLoop(
        TriangleShape.self, p, steps, stride, range, gradSpikes, potential, spikes,
        initialMembrane, gradMembrane, gradInput, leakGradient, inputIsStatic, gradientIsStatic)
    }
  }

  @inlinable @inline(__always)
  func backwardLoop<Shape: SurrogateShape>(
    _: Shape.Type, _ parameter: S, _ steps: Int, _ stride: Int, _ range: Range<Int>,
    _ gs: UnsafePointer<S>,
    _ hp: UnsafePointer<S>, _ sp: UnsafePointer<S>, _ v0: UnsafePointer<S>,
    _ gv: UnsafeMutablePointer<S>, _ gi: UnsafeMutablePointer<S>, _ wantLeak: Bool,
    _ staticInput: Bool, _ staticGradient: Bool
  ) -> S {
    let a = decay, c = inputScale, vth = vThreshold, vr = vReset, hard = hardReset
    let reset: S = detachReset ? 0 : 1
    let carry: S = detachMembrane ? 0 : a
    var leak: S = 0
    // The surrogate derivative of a block is computed first in a separate two-pointer loop
    // (which vectorizes, exponential included), then the recurrence reads it.
    return withUnsafeTemporaryAllocation(of: S.self, capacity: Self.blockSize) { sgBuffer in
      let sg = sgBuffer.baseAddress!
      var blockStart = range.lowerBound
      while blockStart < range.upperBound {
        let blockEnd = Swift.min(blockStart + Self.blockSize, range.upperBound)
        let width = blockEnd - blockStart
        var t = steps - 1
        while t >= 0 {
          let base = t * stride + blockStart
          let g = staticGradient ? gs + blockStart : gs + base
          let hh = hp + base, ss = sp + base, gvb = gv + blockStart
          // ∂L/∂I[t] goes straight to the output or, for a static input, through the block
          // buffer into a sum over t (each h value is read before it is overwritten).
          let out = staticInput ? sg : gi + base
          for j in 0..<width { sg[j] = Shape.derivative(hh[j] - vth, parameter) }
          if hard && !primitive && S.self == Float.self {
            // S[t] = Θ(H[t] − V_th) recomputed from H exactly as the forward pass decided it
            // (the same Float comparison), which saves reading the spike tensor; eight lanes.
            LIFFloatSIMD.backwardHardStep(
              count: width, reset: unsafeBitCast(reset, to: Float.self),
              c: unsafeBitCast(c, to: Float.self), carry: unsafeBitCast(carry, to: Float.self),
              vth: unsafeBitCast(vth, to: Float.self), vr: unsafeBitCast(vr, to: Float.self),
              gradient: Self.floats(g), potential: Self.floats(hh), surrogate: Self.floats(UnsafePointer(sg)),
              gradMembrane: Self.mutableFloats(gvb), out: Self.mutableFloats(out))
          } else if hard && !primitive {
            for j in 0..<width {
              let hv = hh[j], gV = gvb[j]
              let sv: S = hv >= vth ? 1 : 0
              let gS = g[j] + reset * gV * (vr - hv)
              let gH = gS * sg[j] + gV * (1 - sv)
              out[j] = c * gH
              gvb[j] = carry * gH
            }
          } else if hard {
            for j in 0..<width {
              let hv = hh[j], sv = ss[j], gV = gvb[j]
              let gS = g[j] + reset * gV * (vr - hv)
              let gH = gS * sg[j] + gV * (1 - sv)
              out[j] = c * gH
              gvb[j] = carry * gH
            }
          } else if S.self == Float.self {
            LIFFloatSIMD.backwardSoftStep(
              count: width, reset: unsafeBitCast(reset, to: Float.self),
              c: unsafeBitCast(c, to: Float.self), carry: unsafeBitCast(carry, to: Float.self),
              vth: unsafeBitCast(vth, to: Float.self), gradient: Self.floats(g),
              surrogate: Self.floats(UnsafePointer(sg)), gradMembrane: Self.mutableFloats(gvb),
              out: Self.mutableFloats(out))
          } else {
            for j in 0..<width {
              let gV = gvb[j]
              let gS = g[j] - reset * gV * vth
              let gH = gS * sg[j] + gV
              out[j] = c * gH
              gvb[j] = carry * gH
            }
          }
          if wantLeak {
            // ∂L/∂a += g_H[t]·V[t−1]; g_H[t] = out/c is recovered from the stored ∂L/∂I.
            var acc: S = 0
            if t == 0 {
              let v0b = v0 + blockStart
              for j in 0..<width { acc += out[j] * v0b[j] }
            } else {
              let ph = hh - stride, ps = ss - stride
              for j in 0..<width {
                let hv = ph[j], sv = ps[j]
                let vPrev = hard ? hv * (1 - sv) + vr * sv : hv - vth * sv
                acc += out[j] * vPrev
              }
            }
            leak += acc / c
          }
          if staticInput {
            let total = gi + blockStart
            if t == steps - 1 {
              for j in 0..<width { total[j] = out[j] }
            } else {
              for j in 0..<width { total[j] += out[j] }
            }
          }
          t -= 1
        }
        blockStart = blockEnd
      }
      return leak
    }
  }
}
