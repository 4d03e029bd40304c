import SNNBase
import SNNTensor

/// `bptt`: surrogate-gradient backpropagation through time, the baseline of the dense
/// methods (Neftci, Mostafa & Zenke 2019; Wu et al., STBP 2018).
///
/// Defaults follow SpikingJelly's `LIFNode` and the method spec's MNIST proposal: LIF with
/// τ = 2 and `decay_input` (H = V + (I − V)/τ), V_th = 1, hard reset to 0 not detached,
/// sigmoid surrogate a = 4; BN (statistics over T·B) before every hidden layer's neurons;
/// T = 4; the `conv` model; SGD (momentum 0.9) at 0.1 with weight decay 5·10⁻⁴ on the
/// weights, cosine schedule.
public enum BPTTMethod {
  public static let options: [MethodOption] = [
    MethodOption(
      name: "charge", valueName: "decay-input|leaky",
      help: "Membrane charge: decay-input is H = V + (I − V)/τ (SpikingJelly decay_input), "
        + "leaky is H = (1 − 1/τ)·V + I.",
      kind: .choice(["decay-input", "leaky"]), defaultValue: "decay-input"),
    MethodOption(
      name: "tau", valueName: "X", help: "Membrane time constant τ in steps (leak 1 − 1/τ).",
      kind: .number(1...1_000), defaultValue: 2.0),
    .vThreshold(default: 1.0),
    .reset(default: "hard"),
    .detachReset,
    MethodOption(
      name: "surrogate", valueName: "sigmoid|atan|rectangle|triangle",
      help: "Surrogate derivative of the spike function (sigmoid and atan use --alpha, "
        + "rectangle and triangle --width).",
      kind: .choice(["sigmoid", "atan", "rectangle", "triangle"]), defaultValue: "sigmoid"),
    .surrogateAlpha(help: "Sharpness a of the sigmoid or atan surrogate."),
    .surrogateWidth,
    .norm(default: "bn"),
  ]

  public static let descriptor = TrainingMethodDescriptor(
    name: "bptt",
    summary: "surrogate-gradient BPTT (SpikingJelly LIF defaults, sigmoid surrogate)",
    backend: .dense, options: options,
    defaults: MethodDefaults(
      timeSteps: 4, model: "conv", optimizer: .sgd, learningRate: 0.1, weightDecay: 5e-4)
  ) { setup in
    let o = setup.options
    return try SurrogateGradientMethod(
      name: "bptt", setup: setup, neuron: neuron(o), normalization: normalization(o, "norm"))
  }

  /// The neuron the options describe.
  static func neuron(_ o: MethodOptionValues) -> DenseModel.NeuronConfiguration {
    let tau = Float(o.double("tau"))
    let charge: LIF.Charge =
      o.string("charge") == "leaky" ? .leaky(lambda: 1 - 1 / tau) : .decayInput(tau: tau)
    return DenseModel.NeuronConfiguration(
      charge: charge, vThreshold: Float(o.double("v-threshold")),
      reset: o.string("reset") == "soft" ? .soft : .hard, detachReset: o.bool("detach-reset"),
      surrogate: surrogate(o))
  }

  static func surrogate(_ o: MethodOptionValues) -> Surrogate {
    let alpha = Float(o.double("alpha")), width = Float(o.double("width"))
    switch o.string("surrogate") {
    case "atan": return .atan(alpha: alpha)
    case "rectangle": return .rectangle(width: width)
    case "triangle": return .triangle(width: width)
    default: return .sigmoid(alpha: alpha)
    }
  }

  static func normalization(_ o: MethodOptionValues, _ name: String) -> DenseModel.Normalization {
    switch o.string(name) {
    case "bn": return .batchNorm
    case "tdbn": return .thresholdDependent(eta: 1)
    default: return .none
    }
  }
}
