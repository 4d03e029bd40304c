import SNNBase
import SNNTensor

/// `lsg`: learnable surrogate gradients (Lian et al., "Learnable Surrogate Gradient for
/// Direct Training Spiking Neural Networks", IJCAI 2023).
///
/// Each hidden layer n has one trainable leak logit b_n, β_n = sigmoid(b_n) (β₀ = 0.2), and
/// u^t = β_n·u^{t−1}(1 − o^{t−1}) + Ī^t, o^t = Θ(u^t − v_th), v_th = 0.5, with the reset
/// gradient not detached. The surrogate is a rectangle of width α_n = 2·v_th·√(1 + β_n²),
/// recomputed from β_n at every forward and held constant in backward; b_n learns through
/// the forward dynamics only: ∂L/∂b_n = β_n(1 − β_n)·Σ ∂L/∂u^t·u^{t−1}(1 − o^{t−1}). Ī is
/// tdBN of the synaptic current. The fraction of potentials inside the window,
/// `grad_available_ratio/<layer>`, is reported for every epoch.
///
/// Defaults: T = 2 (the spec's MNIST proposal; also run at 4), the `conv` model, SGD
/// (momentum 0.9) at 0.1 with weight decay 5·10⁻⁴ on weights only (not on b_n), cosine.
public enum LSGMethod {
  public static let options: [MethodOption] = [
    MethodOption(
      name: "beta", valueName: "X", help: "Initial leak β₀ of every layer (b = ln(β₀/(1 − β₀))).",
      kind: .number(0.001...0.999), defaultValue: 0.2),
    .vThreshold(default: 0.5),
    .reset(default: "hard"),
    .detachReset,
    MethodOption(
      name: "surrogate", valueName: "learnable-width|rectangle",
      help: "lsg: learnable-width is α = 2·V_th·√(1 + β²); rectangle keeps --width fixed "
        + "(the \"learn β, fixed α\" ablation).",
      kind: .choice(["learnable-width", "rectangle"]), defaultValue: "learnable-width"),
    .surrogateWidth,
    .norm(default: "tdbn"),
  ]

  public static let descriptor = TrainingMethodDescriptor(
    name: "lsg",
    summary: "learnable surrogate gradient (Lian et al. 2023): learnable leak, width from β, tdBN",
    backend: .dense, options: options,
    defaults: MethodDefaults(
      timeSteps: 2, model: "conv", optimizer: .sgd, learningRate: 0.1, weightDecay: 5e-4)
  ) { setup in
    let o = setup.options
    return try SurrogateGradientMethod(
      name: "lsg", setup: setup, neuron: neuron(o),
      normalization: BPTTMethod.normalization(o, "norm"))
  }

  /// The neuron the options describe.
  static func neuron(_ o: MethodOptionValues) -> DenseModel.NeuronConfiguration {
    DenseModel.NeuronConfiguration(
      charge: .learnableLeak(initialBeta: Float(o.double("beta"))),
      vThreshold: Float(o.double("v-threshold")),
      reset: o.string("reset") == "soft" ? .soft : .hard, detachReset: o.bool("detach-reset"),
      surrogate: o.string("surrogate") == "rectangle"
        ? .rectangle(width: Float(o.double("width"))) : .learnableWidth)
  }
}
