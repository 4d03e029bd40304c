import SNNBase

/// Learning rate as a function of a step counter t = 0, 1, 2, … (epochs or iterations, as
/// the caller counts). Computed in Double; the result is rounded to Float once.
public indirect enum LearningRateSchedule: Hashable, Sendable {
  /// η(t) = base.
  case constant(Float)
  /// η(t) = base·γ^k, k = the number of milestones ≤ t (PyTorch's `MultiStepLR`).
  case step(base: Float, milestones: [Int], gamma: Float)
  /// η(t) = floor + (base − floor)·(1 + cos(π·min(t, T_max)/T_max))/2: from base down to
  /// `floor` over `periods` = T_max steps, then constant (PyTorch's `CosineAnnealingLR`
  /// with `eta_min = floor`, without restarts).
  case cosine(base: Float, periods: Int, floor: Float = 0)
  /// Linear warm-up composed with another schedule: for t < W,
  /// η(t) = inner(0)·(s + (1 − s)·t/W) with s = `startFactor`; afterwards
  /// η(t) = inner(t − W), so the inner schedule starts when the warm-up ends.
  case warmup(steps: Int, startFactor: Float, then: LearningRateSchedule)

  /// η(t).
  public func learningRate(at t: Int) -> Float {
    precondition(t >= 0, "schedule step must be non-negative")
    return Float(value(at: t))
  }

  func value(at t: Int) -> Double {
    switch self {
    case .constant(let v):
      return Double(v)
    case .step(let base, let milestones, let gamma):
      let k = milestones.filter { $0 <= t }.count
      return Double(base) * Math.pow(Double(gamma), Double(k))
    case .cosine(let base, let periods, let floor):
      precondition(periods > 0, "cosine schedule needs a positive period")
      let progress = Double(min(t, periods)) / Double(periods)
      return Double(floor) + (Double(base) - Double(floor)) * (1 + Math.cos(Math.pi * progress)) / 2
    case .warmup(let steps, let start, let inner):
      if t < steps {
        let f = Double(start) + (1 - Double(start)) * Double(t) / Double(steps)
        return inner.value(at: 0) * f
      }
      return inner.value(at: t - steps)
    }
  }
}
