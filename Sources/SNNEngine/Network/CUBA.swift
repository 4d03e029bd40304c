/// The current-based (CUBA) benchmark network of Vogels & Abbott (2005), as benchmark 2 of
/// Brette et al. (2007), "Simulation of networks of spiking neurons: a review of tools and
/// strategies", J. Comput. Neurosci. 23:349–398.
///
/// N LIF neurons, 80% excitatory and 20% inhibitory, randomly connected: probability 0.02
/// at N = 4,000, and a fixed mean fan-in of 80 (p = 80/N) for larger N. τ_m = 20 ms,
/// V_rest = −49 mV, V_th = −50 mV, V_reset = −60 mV, refractory 5 ms;
/// `τ_m dV/dt = g_e + g_i − (V − V_rest)` with exponential currents τ_e = 5 ms, τ_i = 10 ms;
/// weights w_e = 60·0.27/10 = 1.62 mV and w_i = −20·4.5/10 = −9 mV; no delays; initial V
/// uniform in [V_reset, V_th]. The network sustains its own activity (V_rest is above
/// threshold); no external input.
public enum CUBA {
  public static let excitatoryWeight = 60 * 0.27 / 10
  public static let inhibitoryWeight = -20 * 4.5 / 10

  public static let parameters = LIF.Parameters(
    tauMem: 20, vRest: -49, vReset: -60, vThreshold: -50, tauRefractory: 5, iOffset: 0,
    channels: [.exponential(tau: 5), .exponential(tau: 10)])

  /// The connection probability for `neurons` neurons.
  public static func connectionProbability(neurons: Int) -> Double {
    neurons <= 4000 ? 0.02 : 80 / Double(neurons)
  }

  /// The network description for `neurons` neurons.
  public static func spec(neurons: Int) -> NetworkSpec {
    precondition(neurons >= 5, "CUBA needs at least 5 neurons")
    let excitatory = neurons * 4 / 5
    let p = connectionProbability(neurons: neurons)
    let v0 = Distribution.uniform(parameters.vReset, parameters.vThreshold)
    var spec = NetworkSpec()
    spec.populations = [
      PopulationSpec(name: "excitatory", size: excitatory, model: .lif(parameters, initialPotential: v0)),
      PopulationSpec(name: "inhibitory", size: neurons - excitatory, model: .lif(parameters, initialPotential: v0)),
    ]
    for source in ["excitatory", "inhibitory"] {
      for target in ["excitatory", "inhibitory"] {
        let excitatorySource = source == "excitatory"
        spec.projections.append(
          ProjectionSpec(
            name: "\(source.prefix(1))->\(target.prefix(1))", source: source, target: target,
            rule: .fixedProbability(p, allowAutapses: true),
            weight: .constant(excitatorySource ? excitatoryWeight : inhibitoryWeight),
            delay: 0, channel: excitatorySource ? 0 : 1))
      }
    }
    return spec
  }
}
