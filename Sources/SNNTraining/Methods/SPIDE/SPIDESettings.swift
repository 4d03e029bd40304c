import SNNBase
import SNNEngine

/// The method options of `spide`, resolved.
struct SPIDESettings: Sendable {
  /// T_b.
  var backwardTimeSteps: Int
  /// s: the loss is multiplied by s and every learning rate divided by it.
  var scaleFactor: Double
  var neuron: SPIDENeuronModel
  /// Dropout probability of the input current of conv layers (and of a feedback into a
  /// conv layer), and of hidden linear layers (and of a feedback into one).
  var convDropout: Double
  var linearDropout: Double
  var normCap: FeedbackNormCap
  /// The feedback weight starts at Kaiming-normal × this.
  var feedbackInitScale: Double

  init(_ options: MethodOptionValues) {
    backwardTimeSteps = options.int("T-backward")
    scaleFactor = options.double("scale-factor")
    neuron = SPIDENeuronModel(
      vThreshold: options.double("v-threshold"),
      reset: SPIDENeuronModel.Reset(rawValue: options.string("reset"))!,
      leak: options.double("leak"), vBackward: options.double("v-backward"))
    convDropout = options.double("dropout")
    linearDropout = options.double("dropout-fc")
    normCap = FeedbackNormCap(
      cap: options.double("fb-norm-cap"), projections: options.int("fb-norm-projections"))
    feedbackInitScale = options.double("fb-init-scale")
  }

  /// The method's options as `snn train` offers them.
  static let options: [MethodOption] = [
    MethodOption(
      name: "T-backward", valueName: "N",
      help: "Steps T_b of the spike-based backward phase (ternary neurons on the transposed graph).",
      kind: .integer(1...100_000), defaultValue: 100),
    MethodOption(
      name: "scale-factor", valueName: "S",
      help: "Loss scale s: the loss is multiplied by s and the learning rate divided by it, so "
        + "per-sample gradients stay above the backward spike resolution A/T_b.",
      kind: .number(1e-6...1e9), defaultValue: 100),
    MethodOption(
      name: "v-threshold", valueName: "V", help: "Forward firing threshold V_th.",
      kind: .number(1e-6...1e6), defaultValue: 1),
    MethodOption(
      name: "v-backward", valueName: "V",
      help: "Backward threshold V_b of the ternary neurons (spike amplitude A = 2·V_b).",
      kind: .number(1e-6...1e6), defaultValue: 0.5),
    MethodOption(
      name: "reset", valueName: "spide|ide",
      help: "Forward reset: spide subtracts 2·V_th (u_rest = −V_th, rounding rates), ide "
        + "subtracts V_th (u_rest = 0, flooring rates).",
      kind: .choice(["spide", "ide"]), defaultValue: "spide"),
    MethodOption(
      name: "leak", valueName: "λ",
      help: "Leak factor per step of the forward and backward neurons; 1 is IF, < 1 LIF "
        + "with λ-weighted rates.",
      kind: .number(0.01...1), defaultValue: 1),
    MethodOption(
      name: "dropout", valueName: "P",
      help: "Variational dropout (one mask per sample for all steps) on the input current of "
        + "conv layers and of a feedback into a conv layer.",
      kind: .number(0...0.95), defaultValue: 0),
    MethodOption(
      name: "dropout-fc", valueName: "P",
      help: "Variational dropout on the input current of hidden linear layers and of a "
        + "feedback into a linear layer.",
      kind: .number(0...0.95), defaultValue: 0.5),
    MethodOption(
      name: "fb-norm-cap", valueName: "C",
      help: "Cap on the Frobenius norm of the feedback weight: W = W̃·min(‖W̃‖, C)/‖W̃‖.",
      kind: .number(1e-6...1e6), defaultValue: 2),
    MethodOption(
      name: "fb-norm-projections", valueName: "K",
      help:
        "Gaussian probes estimating ‖W̃‖_F before every forward pass, as the reference code "
        + "does (64 there); 0 computes the exact norm, which is cheaper and keeps ‖W‖_F ≤ C.",
      kind: .integer(0...100_000), defaultValue: 0),
    MethodOption(
      name: "fb-init-scale", valueName: "X",
      help: "The feedback weight starts at Kaiming-normal times X.",
      kind: .number(0...100), defaultValue: 0.1),
  ]
}
