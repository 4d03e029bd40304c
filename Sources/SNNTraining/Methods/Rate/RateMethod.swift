import SNNBase
import SNNTensor

/// `rate`: rate-based backpropagation (Yu et al., NeurIPS 2024), variants M and S; see
/// ``RateBackpropagationMethod``.
///
/// Defaults follow the reference code: LIF with H = 0.2·V + I (`decay = 0.2`), V_th = 1,
/// soft reset with the reset detached, sigmoid surrogate a = 4, BN before every hidden
/// layer's neurons, loss gradient × 1/T; variant S (the memory-flat one); T = 4; the `conv`
/// model; SGD (momentum 0.9) at 0.1 with weight decay 5·10⁻⁴ on weights only, cosine.
public enum RateMethod {
  public static let options: [MethodOption] = [
    MethodOption(
      name: "variant", valueName: "M|S",
      help: "rate_M runs one layer at a time over all T steps (BN statistics over T·B; "
        + "memory grows with T for one layer); rate_S one step at a time through all layers "
        + "(per-step BN statistics; memory flat in T).",
      kind: .choice(["M", "S"]), defaultValue: "S"),
    MethodOption(
      name: "loss-scale", valueName: "inverse-t|none",
      help: "Scale of the loss gradient entering the rate pass: inverse-t multiplies it by 1/T "
        + "as the reference code does; none is the plain time-averaged cross-entropy.",
      kind: .choice(["inverse-t", "none"]), defaultValue: "inverse-t"),
    MethodOption(
      name: "bn-statistics", valueName: "intended|last-step",
      help: "rate_S: BN statistics of the rate pass: intended (mean of per-step means, "
        + "harmonic mean of per-step σ² + ε) or last-step (the reference code's behaviour).",
      kind: .choice(["intended", "last-step"]), defaultValue: "intended"),
    .leak(default: 0.2),
    .vThreshold(default: 1.0),
    .reset(default: "soft"),
    MethodOption(
      name: "reset-gradient", valueName: "detached|attached",
      help: "Whether the spike in the reset is detached from the gradient; picks the factor ρ "
        + "of κ (soft: λ, or λ(1 − V_th·sg); hard: λ(1 − S), or λ(1 − S − H·sg)).",
      kind: .choice(["detached", "attached"]), defaultValue: "detached"),
    .surrogateAlpha(),
    MethodOption(
      name: "norm", valueName: "none|bn",
      help: "Normalization before each hidden layer's neurons (rate: BN with spike-pass "
        + "statistics, straight-through in the rate pass).",
      kind: .choice(["none", "bn"]), defaultValue: "bn"),
  ]

  public static let descriptor = TrainingMethodDescriptor(
    name: "rate",
    summary: "rate-based backpropagation (Yu et al. 2024): graph-free spike pass, one rate-level "
      + "backward",
    backend: .dense, options: options,
    defaults: MethodDefaults(
      timeSteps: 4, model: "conv", optimizer: .sgd, learningRate: 0.1, weightDecay: 5e-4)
  ) { setup in
    let o = setup.options
    return try RateBackpropagationMethod(
      setup: setup, settings: settings(o), neuron: neuron(o),
      normalization: o.string("norm") == "bn" ? .batchNorm : .none)
  }

  /// The settings the options describe.
  static func settings(_ o: MethodOptionValues) -> RateBackpropagationMethod.Settings {
    RateBackpropagationMethod.Settings(
      variant: o.string("variant") == "M" ? .multiStep : .singleStep,
      lossScale: o.string("loss-scale") == "none" ? .none : .inverseT,
      statistics: o.string("bn-statistics") == "last-step" ? .lastStep : .intended)
  }

  /// The neuron the options describe.
  static func neuron(_ o: MethodOptionValues) -> DenseModel.NeuronConfiguration {
    DenseModel.NeuronConfiguration(
      charge: .leaky(lambda: Float(o.double("leak"))),
      vThreshold: Float(o.double("v-threshold")),
      reset: o.string("reset") == "hard" ? .hard : .soft,
      detachReset: o.string("reset-gradient") == "detached",
      surrogate: .sigmoid(alpha: Float(o.double("alpha"))))
  }
}
