import SNNBase
import SNNEngine

/// The settings of an EDBP run (spec A1–A5), resolved from the method options and the
/// dataset's defaults.
///
/// Per dataset (spec A5; other names get MNIST's):
///
/// | | MNIST, Fashion-MNIST | N-MNIST |
/// |---|---|---|
/// | τ_m, τ_s, τ_g | 5, 3, 2.5 | 8, 4, 3 |
/// | target counts (label / other) | 5 / 1 | 15 / 2 |
/// | `avg_spike_init` | 0.5 | 2 |
/// | random horizontal flip | Fashion-MNIST only | no |
public struct EDBPSettings: Sendable, Equatable {
  public var neuron: GridSRM.Parameters
  /// τ for the label neuron and for the others (spikes per sample).
  public var desiredCount: Double
  public var undesiredCount: Double
  /// The scale search's firing target (spec A4).
  public var averageSpikeInit: Double
  public var backward: SRMSimulator.BackwardOptions
  public var supervisoryTrick: Bool
  /// Δu threshold of the supervisory trick (0.05).
  public var trickThreshold: Float
  public var standardizationBackward: WeightStandardization.Backward
  public var horizontalFlip: Bool
  public var scaleSearch: Bool

  /// The defaults for a dataset.
  public static func defaults(dataset: String) -> EDBPSettings {
    let nmnist = dataset == "nmnist"
    return EDBPSettings(
      neuron: nmnist
        ? GridSRM.Parameters(tauM: 8, tauS: 4, tauG: 3)
        : GridSRM.Parameters(tauM: 5, tauS: 3, tauG: 2.5),
      desiredCount: nmnist ? 15 : 5, undesiredCount: nmnist ? 2 : 1,
      averageSpikeInit: nmnist ? 2 : 0.5, backward: SRMSimulator.BackwardOptions(),
      supervisoryTrick: true, trickThreshold: 0.05, standardizationBackward: .exact,
      horizontalFlip: dataset == "fashion-mnist", scaleSearch: true)
  }

  /// Resolves the settings of a run: dataset defaults, then the model's neuron constants
  /// (kind `srm`: `tauM`, `tauS`, `tauG`, `vThreshold`), then the method options.
  public init(setup: MethodSetup) throws(ConfigurationError) {
    self = EDBPSettings.defaults(dataset: setup.configuration.dataset)
    let spec = setup.model.neuron
    if spec.kind == "srm" {
      neuron = GridSRM.Parameters(
        tauM: spec.value("tauM", default: neuron.tauM),
        tauS: spec.value("tauS", default: neuron.tauS),
        tauG: spec.value("tauG", default: neuron.tauG),
        threshold: spec.value("vThreshold", default: neuron.threshold))
    }
    try neuron.validate(prefix: "model.neuron.parameters.")
    let o = setup.options
    if let v = o["desired-count"]?.doubleValue { desiredCount = v }
    if let v = o["undesired-count"]?.doubleValue { undesiredCount = v }
    if let v = o["avg-spike-init"]?.doubleValue { averageSpikeInit = v }
    if let v = o["layer-decay"]?.doubleValue { backward.layerDecay = Float(v) }
    if let v = o["du-clip"]?.doubleValue { backward.duInverseClip = Float(v) }
    if let v = o["dudt-clip"]?.doubleValue { backward.dudtInverseClip = Float(v) }
    if let v = o["supervisory-trick"]?.stringValue { supervisoryTrick = v == "on" }
    if let v = o["ws-backward"]?.stringValue, let kind = WeightStandardization.Backward(rawValue: v)
    {
      standardizationBackward = kind
    }
    if let v = o["flip"]?.stringValue, v != "auto" { horizontalFlip = v == "on" }
    if let v = o["scale-search"]?.stringValue { scaleSearch = v == "on" }
  }

  init(
    neuron: GridSRM.Parameters, desiredCount: Double, undesiredCount: Double,
    averageSpikeInit: Double, backward: SRMSimulator.BackwardOptions, supervisoryTrick: Bool,
    trickThreshold: Float, standardizationBackward: WeightStandardization.Backward,
    horizontalFlip: Bool, scaleSearch: Bool
  ) {
    self.neuron = neuron
    self.desiredCount = desiredCount
    self.undesiredCount = undesiredCount
    self.averageSpikeInit = averageSpikeInit
    self.backward = backward
    self.supervisoryTrick = supervisoryTrick
    self.trickThreshold = trickThreshold
    self.standardizationBackward = standardizationBackward
    self.horizontalFlip = horizontalFlip
    self.scaleSearch = scaleSearch
  }

  /// The method options `snn train --method edbp` offers (defaults `null` mean "the
  /// dataset's", see the table above).
  public static let options: [MethodOption] = [
    MethodOption(
      name: "layer-decay", valueName: "X",
      help: "Factor on gradients sent one layer down (the reference's 0.85).",
      kind: .number(0...1), defaultValue: 0.85),
    MethodOption(
      name: "du-clip", valueName: "X",
      help: "Clip of -1/du at a spike to [-X, 0] (dL/du = D * that).",
      kind: .number(0...1e12), defaultValue: 4),
    MethodOption(
      name: "dudt-clip", valueName: "X",
      help: "Clip of -1/G to [-X, 0] for the gradients sent down (max_dudt_inv).",
      kind: .number(0...1e30), defaultValue: 1.23e8),
    MethodOption(
      name: "desired-count", valueName: "N",
      help: "Target spike count of the label neuron (default: 5; N-MNIST 15).",
      kind: .number(0...1e6), defaultValue: .null),
    MethodOption(
      name: "undesired-count", valueName: "N",
      help: "Target spike count of the other output neurons (default: 1; N-MNIST 2).",
      kind: .number(0...1e6), defaultValue: .null),
    MethodOption(
      name: "avg-spike-init", valueName: "X",
      help: "Firing target of the initial scale search (default: 0.5; N-MNIST 2).",
      kind: .number(0...1e6), defaultValue: .null),
    MethodOption(
      name: "supervisory-trick", valueName: "on|off",
      help: "Force a gradient-carrying spike on the label neuron at its last du > 0.05.",
      kind: .choice(["on", "off"]), defaultValue: "on"),
    MethodOption(
      name: "ws-backward", valueName: "exact|diagonal",
      help: "Weight-standardisation backward: exact, or the reference's diagonal-only term.",
      kind: .choice(["exact", "diagonal"]), defaultValue: "exact"),
    MethodOption(
      name: "flip", valueName: "auto|on|off",
      help: "Random horizontal flip of training images (auto: Fashion-MNIST only).",
      kind: .choice(["auto", "on", "off"]), defaultValue: "auto"),
    MethodOption(
      name: "scale-search", valueName: "on|off",
      help: "Initial per-layer gain search on the first mini-batch (spec A4).",
      kind: .choice(["on", "off"]), defaultValue: "on"),
  ]
}
