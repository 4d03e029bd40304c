import SNNBase
import SNNTensor

/// One time step of rate-based backpropagation's spike pass (Yu et al., "Advancing Training
/// Efficiency of Deep Spiking Neural Networks through Rate-based Backpropagation", NeurIPS
/// 2024) for a range of neurons, with no graph: only the per-neuron sums that the rate-level
/// backward pass needs are kept.
///
/// Per neuron, at step t = 0, 1, … (V[−1] = 0 for a soft reset, V_reset for a hard one;
/// e[0] = 1):
///
///     H[t] = λ·V[t−1] + I[t],   S[t] = Θ(H[t] − V_th),   sg[t] = h(H[t] − V_th)
///     Σr  += S[t]                         (rate r = Σr / T)
///     Σκ  += sg[t]·e[t]                   (κ = Σκ / T)
///     e[t+1] = 1 + ρ[t]·e[t]
///     V[t] = H[t] − V_th·S[t]  (soft)   or   H[t]·(1 − S[t]) + V_reset·S[t]  (hard)
///
/// where ρ[t] = ∂H[t+1]/∂H[t] = λ·∂V[t]/∂H[t] is
///
///     soft, reset detached:      λ
///     soft, reset not detached:  λ·(1 − V_th·sg[t])
///     hard, reset detached:      λ·(1 − S[t])
///     hard, reset not detached:  λ·((1 − S[t]) + (V_reset − H[t])·sg[t])
///
/// e[t] is dH[t]/dĪ for a constant input Ī, so κ = dr/dĪ exactly under constant input: the
/// diagonal Jacobian the rate pass uses in place of the spiking layer. (The reference code
/// writes the not-detached soft factor with V_th = 1 and uses the not-detached hard factor
/// whatever `detach_reset` says; here each factor is the exact derivative of its reset.)
///
/// Generic over the scalar so that tests can run it in `Double`; branch-free, so the loops
/// vectorize for `Float`.
@frozen
public struct RateNeuronKernel<S: DenseScalar>: Sendable {
  /// λ: the factor on V[t−1] (0.2 in the reference: `decay = 0.2`, τ = 1.25).
  public var leak: S
  public var vThreshold: S
  public var vReset: S
  public var hardReset: Bool
  public var detachReset: Bool
  public var surrogate: SurrogateKernel<S>

  @inlinable
  public init(
    leak: S, vThreshold: S, vReset: S = 0, hardReset: Bool, detachReset: Bool,
    surrogate: SurrogateKernel<S>
  ) {
    self.leak = leak
    self.vThreshold = vThreshold
    self.vReset = vReset
    self.hardReset = hardReset
    self.detachReset = detachReset
    self.surrogate = surrogate
  }

  /// The membrane value before the first step.
  @inlinable public var restingMembrane: S { hardReset ? vReset : 0 }

  /// One step for the neurons in `range`.
  ///
  /// - `current`: I[t] (already normalized); `spikes` receives S[t].
  /// - `membrane`: V[t−1] on entry, V[t] on return; `spikeSum` accumulates S[t].
  /// - `factor` (e[t] on entry, e[t+1] on return) and `kappaSum` (accumulates sg[t]·e[t]):
  ///   nil in evaluation, when no backward pass follows.
  @inlinable
  public func step(
    range: Range<Int>, current: UnsafePointer<S>, membrane: UnsafeMutablePointer<S>,
    spikes: UnsafeMutablePointer<S>, spikeSum: UnsafeMutablePointer<S>,
    factor: UnsafeMutablePointer<S>?, kappaSum: UnsafeMutablePointer<S>?
  ) {
    guard let factor, let kappaSum else {
      let a = leak, vth = vThreshold, vr = vReset, hard = hardReset
      for i in range {
        let h = a * membrane[i] + current[i]
        let fired = h >= vth
        let s: S = fired ? 1 : 0
        spikes[i] = s
        spikeSum[i] += s
        membrane[i] = hard ? (fired ? vr : h) : h - vth * s
      }
      return
    }
    let p = surrogate.parameter
    switch surrogate.kind {
    case .sigmoid:
      loop(SigmoidShape.self, p, range, current, membrane, spikes, spikeSum, factor, kappaSum)
    case .atan:
      loop(ATanShape.self, p, range, current, membrane, spikes, spikeSum, factor, kappaSum)
    case .rectangle:
      loop(RectangleShape.self, p, range, current, membrane, spikes, spikeSum, factor, kappaSum)
    case .triangle:
      loop(TriangleShape.self, p, range, current, membrane, spikes, spikeSum, factor, kappaSum)
    }
  }

  @inlinable @inline(__always)
  func loop<Shape: SurrogateShape>(
    _: Shape.Type, _ parameter: S, _ range: Range<Int>, _ current: UnsafePointer<S>,
    _ membrane: UnsafeMutablePointer<S>, _ spikes: UnsafeMutablePointer<S>,
    _ spikeSum: UnsafeMutablePointer<S>, _ factor: UnsafeMutablePointer<S>,
    _ kappaSum: UnsafeMutablePointer<S>
  ) {
    let a = leak, vth = vThreshold, vr = vReset
    // ρ = λ·(c0 + c1·S + sg·(c2 + c3·H)) covers the four resets without branches.
    let detached: S = detachReset ? 0 : 1
    let c0: S = 1
    let c1: S = hardReset ? -1 : 0
    let c2: S = hardReset ? detached * vr : -detached * vth
    let c3: S = hardReset ? -detached : 0
    let hard = hardReset
    for i in range {
      let h = a * membrane[i] + current[i]
      let fired = h >= vth
      let s: S = fired ? 1 : 0
      let sg = Shape.derivative(h - vth, parameter)
      let e = factor[i]
      kappaSum[i] += sg * e
      spikeSum[i] += s
      factor[i] = 1 + a * (c0 + c1 * s + sg * (c2 + c3 * h)) * e
      spikes[i] = s
      membrane[i] = hard ? (fired ? vr : h) : h - vth * s
    }
  }
}
