import SNNBase

/// The non-leaky integrate-and-fire neuron in continuous time: `dV/dt = I` between inputs,
/// delta synapses add their weight to V, and at `vThreshold` the neuron spikes and V is set
/// to `vReset` (or reduced by `vThreshold − vReset` with `subtractiveReset`), then held for
/// `tauRefractory`. With a constant drive the next crossing is `(V_th − V)/I` away, so it is
/// scheduled exactly.
public enum IF {
  public struct Parameters: Hashable, Sendable {
    /// Threshold (mV).
    public var vThreshold: Double
    /// Reset potential (mV), < vThreshold.
    public var vReset: Double
    /// Constant drive (mV/ms).
    public var drive: Double
    /// Refractory period (ms), ≥ 0.
    public var tauRefractory: Double
    /// Subtract `vThreshold − vReset` at a spike instead of setting V to vReset.
    public var subtractiveReset: Bool

    public init(vThreshold: Double = 1, vReset: Double = 0, drive: Double = 0, tauRefractory: Double = 0, subtractiveReset: Bool = false) {
      self.vThreshold = vThreshold
      self.vReset = vReset
      self.drive = drive
      self.tauRefractory = tauRefractory
      self.subtractiveReset = subtractiveReset
    }

    public func validate(prefix: String = "") throws(ConfigurationError) {
      try ConfigurationError.requireFinite(vThreshold, prefix + "vThreshold")
      try ConfigurationError.requireFinite(vReset, prefix + "vReset")
      try ConfigurationError.requireFinite(drive, prefix + "drive")
      try ConfigurationError.requireNonNegative(tauRefractory, prefix + "tauRefractory", unit: "ms")
      guard vReset < vThreshold else {
        throw .invalid(field: prefix + "vReset", value: "\(vReset)", expected: "a value below vThreshold (\(vThreshold))")
      }
    }
  }
}
