import SNNBase

/// The leaky integrate-and-fire neuron in continuous time, integrated exactly between
/// events.
///
/// `τ_m dV/dt = (V_rest + I − V) + Σ_k g_k`, `dg_k/dt = −g_k / τ_k` for exponential
/// channels; a delta channel adds its weight to V directly. When V reaches `vThreshold` the
/// neuron spikes, V is held at `vReset` for `tauRefractory`, and integration resumes. All
/// voltages in mV, times in ms; `iOffset` is a constant drive in mV (R·I).
///
/// Between events the state follows a closed form, so nothing depends on a time step. The
/// next threshold crossing is predicted from that closed form: a cheap lower bound first,
/// then an exact root when the bound comes close (see ``ThresholdCrossing``).
public enum LIF {
  /// Up to this many synaptic channels per neuron (kept inline in the state).
  public static let maximumChannels = 4

  /// Validated parameters.
  public struct Parameters: Hashable, Sendable {
    /// Membrane time constant τ_m (ms), > 0.
    public var tauMem: Double
    /// Resting potential V_rest (mV): where V relaxes without input.
    public var vRest: Double
    /// Reset potential after a spike (mV), < vThreshold.
    public var vReset: Double
    /// Firing threshold (mV).
    public var vThreshold: Double
    /// Absolute refractory period (ms), ≥ 0: V is clamped at vReset.
    public var tauRefractory: Double
    /// Constant drive R·I (mV): V relaxes to vRest + iOffset.
    public var iOffset: Double
    /// The synaptic channels; a projection names one by index.
    public var channels: [SynapseChannel]

    public init(
      tauMem: Double = 20, vRest: Double = -70, vReset: Double = -70, vThreshold: Double = -50,
      tauRefractory: Double = 2, iOffset: Double = 0,
      channels: [SynapseChannel] = [.exponential(tau: 5), .exponential(tau: 10)]
    ) {
      self.tauMem = tauMem
      self.vRest = vRest
      self.vReset = vReset
      self.vThreshold = vThreshold
      self.tauRefractory = tauRefractory
      self.iOffset = iOffset
      self.channels = channels
    }

    /// Checks every field; the error names the field and what was expected.
    public func validate(prefix: String = "") throws(ConfigurationError) {
      try ConfigurationError.requirePositive(tauMem, prefix + "tauMem", unit: "ms")
      try ConfigurationError.requireFinite(vRest, prefix + "vRest")
      try ConfigurationError.requireFinite(vReset, prefix + "vReset")
      try ConfigurationError.requireFinite(vThreshold, prefix + "vThreshold")
      try ConfigurationError.requireNonNegative(tauRefractory, prefix + "tauRefractory", unit: "ms")
      try ConfigurationError.requireFinite(iOffset, prefix + "iOffset")
      guard vReset < vThreshold else {
        throw .invalid(field: prefix + "vReset", value: "\(vReset)", expected: "a value below vThreshold (\(vThreshold))")
      }
      guard channels.count <= LIF.maximumChannels else {
        throw .invalid(field: prefix + "channels", value: "\(channels.count) channels", expected: "at most \(LIF.maximumChannels)")
      }
      for (k, channel) in channels.enumerated() {
        if case .exponential(let tau) = channel {
          try ConfigurationError.requirePositive(tau, prefix + "channels[\(k)].tau", unit: "ms")
          // τ_k = τ_m makes the closed form degenerate (a t·e^{-t/τ} term); refuse it
          // rather than integrate it inexactly.
          guard abs(tau - tauMem) > 1e-9 * tauMem else {
            throw .invalid(field: prefix + "channels[\(k)].tau", value: "\(tau)", expected: "a value different from tauMem (\(tauMem))")
          }
        }
      }
    }
  }

  /// Constants derived once from the parameters.
  public struct Propagators: Sendable {
    /// V_∞ = vRest + iOffset.
    public let vInfinity: Double
    public let rateMem: Double
    /// 1/τ_k per channel (0 for delta channels and unused lanes).
    public let channelRates: SIMD4<Double>
    /// c_k = τ_k / (τ_k − τ_m): a current jump w on channel k moves the V-trajectory by
    /// w · c_k · (e^{−t/τ_k} − e^{−t/τ_m}).
    public let channelGains: SIMD4<Double>
    /// Lanes that hold an exponential channel.
    public let exponentialMask: SIMD4<Double>
    public let isDelta: [Bool]

    public init(_ p: Parameters) {
      vInfinity = p.vRest + p.iOffset
      rateMem = 1 / p.tauMem
      var rates = SIMD4<Double>(repeating: 0), gains = rates, mask = rates
      var delta = [Bool](repeating: false, count: p.channels.count)
      for (k, channel) in p.channels.enumerated() {
        switch channel {
        case .delta: delta[k] = true
        case .exponential(let tau):
          rates[k] = 1 / tau
          gains[k] = tau / (tau - p.tauMem)
          mask[k] = 1
        }
      }
      channelRates = rates
      channelGains = gains
      exponentialMask = mask
      isDelta = delta
    }
  }
}
