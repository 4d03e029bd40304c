import SNNBase
import SNNTensor

/// `ndot` (Jiang et al., ICML 2024) and `ottt` (Xiao et al., NeurIPS 2022): online training
/// with presynaptic traces; see ``OnlineTrainingMethod``.
///
/// Defaults follow the reference code (OTTT-SNN, SNN-NDOT): LIF with H = 0.5·V + I (τ = 2),
/// V_th = 1, soft reset, V[t−1] and the reset detached, sigmoid surrogate a = 4; no BN;
/// scaled weight standardization on the hidden layers and ×2.74 after every spiking layer;
/// per-step loss with α = 0.05; gradients accumulated over the T steps (`accumulate`, the
/// spec's MNIST proposal NDOT_A); NDOT's factor in the paper's form. T = 4, the `conv`
/// model, SGD (momentum 0.9) at 0.1 without weight decay, cosine.
public enum OnlineMethods {
  static func commonOptions() -> [MethodOption] {
    [
      MethodOption(
        name: "update-schedule", valueName: "online|accumulate",
        help: "online steps the optimizer after every time step (T steps per batch); "
          + "accumulate sums the T steps' gradients and steps once per batch. Also accepted "
          + "as --schedule online|accumulate.",
        kind: .choice(["online", "accumulate"]), defaultValue: "accumulate"),
      MethodOption(
        name: "loss-alpha", valueName: "X",
        help: "α of the per-step loss [(1 − α)·CE + α·MSE]/T.",
        kind: .number(0...1), defaultValue: 0.05),
      MethodOption(
        name: "spike-scale", valueName: "X",
        help: "Factor after every spiking layer (the reference VGG's Scale(2.74); 1 for none).",
        kind: .number(1e-3...100), defaultValue: 2.74),
      MethodOption(
        name: "weight-standardization", valueName: "scaled|none",
        help: "Scaled weight standardization of the hidden layers' weights, "
          + "Ŵ = g·(W − mean)/√(fan-in·var + 1e-4), with a learnable gain g per output.",
        kind: .choice(["scaled", "none"]), defaultValue: "scaled"),
      MethodOption(
        name: "trace-input", valueName: "",
        help: "Trace the input too (factor λ) for the first layer's weight gradient (the "
          + "reference codes use x[t]).",
        kind: .flag, defaultValue: false),
      .leak(default: 0.5),
      .vThreshold(default: 1.0),
      .surrogateAlpha(),
    ]
  }

  public static let ndotOptions: [MethodOption] =
    [
      MethodOption(
        name: "trace", valueName: "paper|reference",
        help: "NDOT's trace factor: paper, P = clip(q[t−1]/q[t−2]) with q = H − V_th·S (the "
          + "ratio of successive post-reset potentials); reference, the code's "
          + "clip((V[t] − V_th·S[t])/(V[t−1] − V_th·S[t−1])) on post-reset V. Both clipped to "
          + "[−λ, λ], λ on a zero denominator.",
        kind: .choice(["paper", "reference"]), defaultValue: "paper")
    ] + commonOptions()

  public static let otttOptions: [MethodOption] = commonOptions()

  static let defaults = MethodDefaults(
    timeSteps: 4, model: "conv", optimizer: .sgd, learningRate: 0.1, weightDecay: 0)

  public static let ndotDescriptor = TrainingMethodDescriptor(
    name: "ndot",
    summary: "neuronal-dynamics online training (Jiang et al. 2024): data-dependent traces, no "
      + "graph across time",
    backend: .dense, options: ndotOptions, defaults: defaults
  ) { setup in
    let o = setup.options
    return try OnlineTrainingMethod(
      name: "ndot", setup: setup,
      settings: settings(o, trace: o.string("trace") == "reference" ? .reference : .paper),
      neuron: neuron(o))
  }

  public static let otttDescriptor = TrainingMethodDescriptor(
    name: "ottt",
    summary: "online training through time (Xiao et al. 2022): λ-decaying traces, no graph "
      + "across time",
    backend: .dense, options: otttOptions, defaults: defaults
  ) { setup in
    let o = setup.options
    return try OnlineTrainingMethod(
      name: "ottt", setup: setup, settings: settings(o, trace: .constant), neuron: neuron(o))
  }

  static func settings(_ o: MethodOptionValues, trace: PresynapticTraceRule)
    -> OnlineTrainingMethod.Settings
  {
    OnlineTrainingMethod.Settings(
      trace: trace,
      schedule: o.string("update-schedule") == "online" ? .online : .accumulate,
      lossAlpha: o.double("loss-alpha"), spikeScale: Float(o.double("spike-scale")),
      weightStandardization: o.string("weight-standardization") == "scaled",
      traceInput: o.bool("trace-input"))
  }

  static func neuron(_ o: MethodOptionValues) -> DenseModel.NeuronConfiguration {
    DenseModel.NeuronConfiguration(
      charge: .leaky(lambda: Float(o.double("leak"))),
      vThreshold: Float(o.double("v-threshold")), reset: .soft, detachReset: true,
      detachMembrane: true, surrogate: .sigmoid(alpha: Float(o.double("alpha"))))
  }
}
