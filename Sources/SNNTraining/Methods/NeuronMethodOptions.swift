import SNNBase

/// The neuron options that several dense methods share (`bptt`, `lsg`, `rate`, `ndot`,
/// `ottt`), declared once so that their names, ranges and help read the same in every
/// method. Each method still picks its own defaults.
extension MethodOption {
  /// `--v-threshold X`: the firing threshold V_th.
  static func vThreshold(default value: Double) -> MethodOption {
    MethodOption(
      name: "v-threshold", valueName: "X", help: "Firing threshold V_th.",
      kind: .number(1e-3...100), defaultValue: JSONValue(value))
  }

  /// `--reset hard|soft`: V ← 0 or V ← V − V_th after a spike.
  static func reset(default value: String) -> MethodOption {
    MethodOption(
      name: "reset", valueName: "hard|soft",
      help: "Reset after a spike: hard sets V to 0, soft subtracts V_th.",
      kind: .choice(["hard", "soft"]), defaultValue: JSONValue(value))
  }

  /// `--detach-reset`: no gradient through the spike in the reset.
  static let detachReset = MethodOption(
    name: "detach-reset", valueName: "",
    help: "Stop the gradient through the spike in the reset (SpikingJelly detach_reset).",
    kind: .flag, defaultValue: false)

  /// `--width X`: the window width of the rectangle and triangle surrogates.
  static let surrogateWidth = MethodOption(
    name: "width", valueName: "X",
    help: "Window width of the rectangle or triangle surrogate (lsg: the fixed width of "
      + "--surrogate rectangle).",
    kind: .number(1e-3...100), defaultValue: 1.0)

  /// `--alpha X`: the sharpness a of the sigmoid surrogate (`help` names the surrogates
  /// that use it).
  static func surrogateAlpha(help: String = "Sharpness a of the sigmoid surrogate.")
    -> MethodOption
  {
    MethodOption(
      name: "alpha", valueName: "X", help: help, kind: .number(1e-3...1_000), defaultValue: 4.0)
  }

  /// `--leak X`: λ of the leaky charge H = λ·V + I.
  static func leak(default value: Double) -> MethodOption {
    MethodOption(
      name: "leak", valueName: "X", help: "Leak λ of H = λ·V + I.",
      kind: .number(0...1), defaultValue: JSONValue(value))
  }

  /// `--norm none|bn|tdbn`: the normalization before each hidden layer's neurons.
  static func norm(default value: String) -> MethodOption {
    MethodOption(
      name: "norm", valueName: "none|bn|tdbn",
      help: "Normalization before each hidden layer's neurons: BN over T·B, or tdBN (BN "
        + "scaled by V_th).",
      kind: .choice(["none", "bn", "tdbn"]), defaultValue: JSONValue(value))
  }
}
