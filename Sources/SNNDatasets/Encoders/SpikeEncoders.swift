import SNNBase

// Encoders that turn static inputs (pixel intensities in [0, 1]) into spike trains of T
// steps. Every output is Float, time-major: `[T, N]` for N inputs (`[T, 2, N]` for the ON/OFF
// channels of delta modulation), row-major, so step t of input i is `out[t * N + i]`.

/// Direct (analog current) coding: the input value itself at every step,
/// out[t, i] = x[i]. The first layer of the network turns current into spikes.
public struct DirectEncoder: Sendable, Equatable {
  public init() {}

  /// `[T, N]` with every row equal to `input`.
  public func encode(_ input: [Float], steps: Int) -> [Float] {
    precondition(steps >= 1, "steps must be at least 1")
    var out = [Float]()
    out.reserveCapacity(steps * input.count)
    for _ in 0..<steps { out += input }
    return out
  }
}

/// Rate coding with Bernoulli trials (the discrete-time Poisson process): at every step,
/// input i spikes with probability p_i = clamp(x_i · maxProbability, 0, 1), independently.
///
/// The expected spike count over T steps is T·p_i. With a step of Δt ms, a maximum rate of
/// r Hz corresponds to `maxProbability = r · Δt / 1000` (``init(maxRate:stepMilliseconds:)``).
///
/// Randomness: uniforms are drawn step by step, input by input; each 64-bit draw of the
/// generator supplies two 32-bit uniforms u (low half first), and a spike is emitted when
/// u < p · 2^32. The same generator state gives the same spikes on every platform.
public struct RateEncoder: Sendable, Equatable {
  /// The spike probability per step at intensity 1.
  public var maxProbability: Float

  /// - Parameter maxProbability: p_max, the spike probability per step at intensity 1.
  public init(maxProbability: Float = 1) {
    precondition(maxProbability >= 0 && maxProbability <= 1, "maxProbability must lie in [0, 1]")
    self.maxProbability = maxProbability
  }

  /// p = maxRate (Hz) × step (ms) / 1000.
  public init(maxRate: Double, stepMilliseconds: Double) {
    self.init(maxProbability: Float(min(1, max(0, maxRate * stepMilliseconds / 1000))))
  }

  /// `[T, N]` spikes (0 or 1) drawn from `generator`, step by step, input by input.
  public func encode(
    _ input: [Float], steps: Int, using generator: inout some RandomNumberGenerator
  ) -> [Float] {
    precondition(steps >= 1, "steps must be at least 1")
    let n = input.count
    // Integer thresholds: spike when a 32-bit uniform is below p · 2^32.
    let thresholds: [UInt64] = input.map { x in
      let p = Double(min(1, max(0, x * maxProbability)))
      return UInt64((p * 4_294_967_296).rounded(.down))
    }
    var out = [Float](repeating: 0, count: steps * n)
    var spare: UInt64 = 0
    var haveSpare = false
    out.withUnsafeMutableBufferPointer { o in
      thresholds.withUnsafeBufferPointer { th in
        for t in 0..<steps {
          let row = o.baseAddress! + t * n
          for i in 0..<n {
            let u: UInt64
            if haveSpare {
              u = spare >> 32
              haveSpare = false
            } else {
              let word = generator.next()
              u = word & 0xFFFF_FFFF
              spare = word
              haveSpare = true
            }
            if u < th[i] { row[i] = 1 }
          }
        }
      }
    }
    return out
  }

  /// Encodes with a fresh xoshiro256** generator seeded with `seed`.
  public func encode(_ input: [Float], steps: Int, seed: UInt64) -> [Float] {
    var generator = Xoshiro256StarStar(seed: seed)
    return encode(input, steps: steps, using: &generator)
  }
}

/// Latency (time-to-first-spike) coding: each input spikes at most once, brighter inputs
/// earlier; inputs at or below `threshold` never spike.
///
/// - ``Kind/linear``: t_i = round((1 − x_i) · (T − 1)), so x = 1 fires at step 0.
/// - ``Kind/logarithmic(tau:)``: the firing time of an RC membrane driven by constant
///   current x toward threshold θ, V(t) = x·(1 − e^(−t/τ)) = θ, t_i = τ · ln(x_i / (x_i − θ))
///   (τ in steps), rounded; inputs whose time is ≥ T do not spike within the window.
///   (Requires θ > 0.)
public struct LatencyEncoder: Sendable, Equatable {
  public enum Kind: Sendable, Equatable {
    case linear
    case logarithmic(tau: Float)
  }

  public var kind: Kind
  /// Inputs with x ≤ threshold never spike.
  public var threshold: Float

  public init(kind: Kind = .linear, threshold: Float = 0.01) {
    if case .logarithmic(let tau) = kind {
      precondition(tau > 0, "tau must be positive")
      precondition(threshold > 0, "the logarithmic code needs a positive threshold")
    }
    self.kind = kind
    self.threshold = threshold
  }

  /// The firing step of an input of intensity `x` for T = `steps`, or nil if it does not fire.
  public func firingStep(_ x: Float, steps: Int) -> Int? {
    guard x > threshold else { return nil }
    let v = min(x, 1)
    switch kind {
    case .linear:
      return Int(((1 - v) * Float(steps - 1)).rounded())
    case .logarithmic(let tau):
      let t = (tau * Math.log(v / (v - threshold))).rounded()
      guard t.isFinite, t < Float(steps) else { return nil }
      return Int(t)
    }
  }

  /// `[T, N]`: one spike at ``firingStep(_:steps:)`` for each input that fires.
  public func encode(_ input: [Float], steps: Int) -> [Float] {
    precondition(steps >= 1, "steps must be at least 1")
    let n = input.count
    var out = [Float](repeating: 0, count: steps * n)
    for i in 0..<n {
      if let t = firingStep(input[i], steps: steps) { out[t * n + i] = 1 }
    }
    return out
  }
}

/// Delta modulation for sequences: an ON spike when a signal rises by more than
/// `threshold` relative to its reference, an OFF spike when it falls by more than that.
///
/// Input `[T, N]` (T steps of N signals), output `[T, 2, N]`: channel 0 OFF, channel 1 ON
/// (the polarity order of ``EventFraming``). The reference starts at `initialReference`
/// (0 by default, so a bright first frame gives ON spikes) and then is
/// - ``Reference/previousSample``: the previous sample (spike when |x_t − x_{t−1}| > θ), or
/// - ``Reference/lastSpike``: the value at the input's last spike (a classic delta
///   modulator: slow drifts add up until they cross the threshold).
public struct DeltaEncoder: Sendable, Equatable {
  public enum Reference: Sendable, Equatable {
    case previousSample
    case lastSpike
  }

  public var threshold: Float
  public var reference: Reference
  public var initialReference: Float

  public init(threshold: Float, reference: Reference = .previousSample, initialReference: Float = 0)
  {
    precondition(threshold >= 0, "threshold must be non-negative")
    self.threshold = threshold
    self.reference = reference
    self.initialReference = initialReference
  }

  /// Encodes `sequence` (`steps × signals` values, time-major).
  public func encode(_ sequence: [Float], steps: Int) -> [Float] {
    precondition(
      steps >= 1 && sequence.count % steps == 0, "sequence length must be a multiple of steps")
    let n = sequence.count / steps
    var out = [Float](repeating: 0, count: steps * 2 * n)
    var ref = [Float](repeating: initialReference, count: n)
    for t in 0..<steps {
      for i in 0..<n {
        let x = sequence[t * n + i]
        let change = x - ref[i]
        var spiked = false
        if change > threshold {
          out[(t * 2 + 1) * n + i] = 1
          spiked = true
        } else if -change > threshold {
          out[(t * 2) * n + i] = 1
          spiked = true
        }
        if reference == .previousSample || spiked { ref[i] = x }
      }
    }
    return out
  }
}
