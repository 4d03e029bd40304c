import SNNBase

extension SPIDEMethod {
  /// `spide` in the method registry.
  static let descriptor = TrainingMethodDescriptor(
    name: "spide",
    summary: "SPIDE: spike-based implicit differentiation of feedback SNNs (Xiao et al. 2023)",
    backend: .event, options: SPIDESettings.options,
    defaults: MethodDefaults(
      timeSteps: 30, model: "15C5p2-AP2-40C5p2-AP2-300-10", readout: .linear,
      optimizer: .sgd, learningRate: 0.1, weightDecay: 5e-4)
  ) { setup in try SPIDEMethod(setup) }
}
