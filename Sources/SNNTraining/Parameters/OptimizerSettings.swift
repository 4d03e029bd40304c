import SNNBase

/// The optimizer and learning-rate schedule of a run (`--optimizer`, `--lr`, `--schedule`,
/// …), as stored in checkpoints.
public struct OptimizerSettings: Equatable, Sendable {
  public enum Kind: String, Sendable, CaseIterable {
    /// SGD with optional (Nesterov) momentum and L2 weight decay added to the gradient.
    case sgd
    /// Adam (Kingma & Ba 2015) with L2 weight decay added to the gradient.
    case adam
    /// AdamW (Loshchilov & Hutter 2019): decoupled weight decay `w ← w·(1 − lr·wd)`.
    case adamw
  }

  /// The learning rate of epoch `e` (0-based) of `E`, before warm-up.
  public enum Schedule: Equatable, Sendable {
    /// `lr_e = lr`.
    case constant
    /// `lr_e = lr_min + (lr − lr_min)·½(1 + cos(π·e/E))`, stepped once per epoch (PyTorch's
    /// `CosineAnnealingLR` with `T_max = E`).
    case cosine(minimum: Double)
    /// `lr_e = lr·γ^k`, k = the number of milestones m ≤ e: after m completed epochs the
    /// rate drops by γ (PyTorch's `MultiStepLR`; SPIDE: milestones 20, 40, γ = 0.1).
    case step(milestones: [Int], gamma: Double)

    public var name: String {
      switch self {
      case .constant: return "constant"
      case .cosine: return "cosine"
      case .step: return "step"
      }
    }
  }

  public var kind: Kind
  /// Base learning rate η.
  public var learningRate: Double
  /// SGD momentum μ (ignored by Adam).
  public var momentum: Double
  /// Nesterov momentum for SGD.
  public var nesterov: Bool
  /// Weight decay λ, applied to the parameters of ``weightDecayGroups`` only.
  public var weightDecay: Double
  /// Adam β₁, β₂ and ε.
  public var beta1: Double
  public var beta2: Double
  public var epsilon: Double
  public var schedule: Schedule
  /// Linear warm-up over the first optimizer steps: factor `min(1, (step + 1)/warmupSteps)`.
  public var warmupSteps: Int
  /// When set, gradients are rescaled so that their global L2 norm is at most this value
  /// (`g ← g·c/(‖g‖ + 10⁻⁶)` when `‖g‖ > c`, as PyTorch's `clip_grad_norm_`).
  public var gradientClipNorm: Double?
  /// The groups that receive weight decay (default: `weight` only).
  public var weightDecayGroups: [ParameterGroup]

  public init(
    kind: Kind = .sgd, learningRate: Double = 0.1, momentum: Double = 0.9,
    nesterov: Bool = false, weightDecay: Double = 0, beta1: Double = 0.9,
    beta2: Double = 0.999, epsilon: Double = 1e-8, schedule: Schedule = .cosine(minimum: 0),
    warmupSteps: Int = 0, gradientClipNorm: Double? = nil,
    weightDecayGroups: [ParameterGroup] = [.weight]
  ) {
    self.kind = kind
    self.learningRate = learningRate
    self.momentum = momentum
    self.nesterov = nesterov
    self.weightDecay = weightDecay
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.schedule = schedule
    self.warmupSteps = warmupSteps
    self.gradientClipNorm = gradientClipNorm
    self.weightDecayGroups = weightDecayGroups
  }

  /// The learning rate for optimizer step `step` (0-based, counted over the whole run) in
  /// epoch `epoch` (0-based) of `epochs`: the schedule's rate times the warm-up factor.
  public func learningRate(epoch: Int, of epochs: Int, step: Int) -> Double {
    var rate: Double
    switch schedule {
    case .constant:
      rate = learningRate
    case .cosine(let minimum):
      let progress = epochs > 0 ? Double(epoch) / Double(epochs) : 0
      rate = minimum + (learningRate - minimum) * 0.5 * (1 + Math.cos(Math.pi * progress))
    case .step(let milestones, let gamma):
      rate = learningRate
      for m in milestones where m <= epoch { rate *= gamma }
    }
    if warmupSteps > 0, step < warmupSteps {
      rate *= Double(step + 1) / Double(warmupSteps)
    }
    return rate
  }

  /// Throws unless every value is in range; errors name the setting and its command-line
  /// option. `epochs` bounds the step schedule's milestones.
  public func validate(epochs: Int) throws(ConfigurationError) {
    try ConfigurationError.requirePositive(learningRate, "learning rate (--lr)")
    guard momentum.isFinite, momentum >= 0, momentum < 1 else {
      throw .invalid(
        field: "momentum (--momentum)", value: "\(momentum)", expected: "a number in [0, 1)")
    }
    if nesterov && (kind != .sgd || momentum == 0) {
      throw .invalid(
        field: "nesterov (--nesterov)", value: "on with \(kind.rawValue), momentum \(momentum)",
        expected: "SGD with a positive momentum")
    }
    try ConfigurationError.requireNonNegative(weightDecay, "weight decay (--weight-decay)")
    for (value, name) in [(beta1, "beta1"), (beta2, "beta2")] {
      guard value.isFinite, value >= 0, value < 1 else {
        throw .invalid(field: name, value: "\(value)", expected: "a number in [0, 1)")
      }
    }
    try ConfigurationError.requirePositive(epsilon, "epsilon")
    guard warmupSteps >= 0 else {
      throw .invalid(
        field: "warm-up steps (--warmup)", value: "\(warmupSteps)", expected: "an integer ≥ 0")
    }
    if let c = gradientClipNorm {
      try ConfigurationError.requirePositive(c, "gradient clip norm (--clip-grad-norm)")
    }
    switch schedule {
    case .constant: break
    case .cosine(let minimum):
      guard minimum.isFinite, minimum >= 0, minimum <= learningRate else {
        throw .invalid(
          field: "cosine minimum learning rate", value: "\(minimum)",
          expected: "a number in [0, \(learningRate)]")
      }
    case .step(let milestones, let gamma):
      guard !milestones.isEmpty, milestones.allSatisfy({ $0 >= 1 && $0 < max(epochs, 2) }),
        zip(milestones, milestones.dropFirst()).allSatisfy({ $0 < $1 })
      else {
        throw .invalid(
          field: "milestones (--milestones)",
          value: milestones.isEmpty ? "none" : milestones.map(String.init).joined(separator: ","),
          expected: "increasing epoch counts in 1..<\(epochs) for --schedule step")
      }
      guard gamma.isFinite, gamma > 0 else {
        throw .invalid(field: "gamma (--gamma)", value: "\(gamma)", expected: "a positive number")
      }
    }
  }

  // MARK: JSON

  /// The settings as JSON.
  public var json: JSONValue {
    var scheduleValue: JSONValue = ["type": JSONValue(schedule.name)]
    switch schedule {
    case .constant: break
    case .cosine(let minimum): scheduleValue.set("minimum", JSONValue(minimum))
    case .step(let milestones, let gamma):
      scheduleValue.set("milestones", JSONValue(milestones))
      scheduleValue.set("gamma", JSONValue(gamma))
    }
    return [
      "kind": JSONValue(kind.rawValue), "learning_rate": JSONValue(learningRate),
      "momentum": JSONValue(momentum), "nesterov": JSONValue(nesterov),
      "weight_decay": JSONValue(weightDecay), "beta1": JSONValue(beta1), "beta2": JSONValue(beta2),
      "epsilon": JSONValue(epsilon), "schedule": scheduleValue,
      "warmup_steps": JSONValue(warmupSteps),
      "gradient_clip_norm": gradientClipNorm.map { JSONValue($0) } ?? .null,
      "weight_decay_groups": .array(weightDecayGroups.map { JSONValue($0.name) }),
    ]
  }

  /// Reads the JSON form strictly.
  public init(json: JSONValue, field: String) throws(ConfigurationError) {
    var r = try JSONObjectReader(json, path: field)
    let kindName = try r.string("kind")
    guard let kind = Kind(rawValue: kindName) else {
      throw .unknown(
        field: r.field("kind"), value: kindName, allowed: Kind.allCases.map(\.rawValue))
    }
    var s = try r.object("schedule")
    let type = try s.string("type")
    let schedule: Schedule
    switch type {
    case "constant": schedule = .constant
    case "cosine": schedule = .cosine(minimum: try s.double("minimum"))
    case "step":
      let milestones = try s.array("milestones").enumerated().map {
        (i, v) throws(ConfigurationError) in
        try JSONObjectReader.int(v, field: "\(s.field("milestones"))[\(i)]")
      }
      schedule = .step(milestones: milestones, gamma: try s.double("gamma"))
    default:
      throw .unknown(field: s.field("type"), value: type, allowed: ["constant", "cosine", "step"])
    }
    try s.finish()
    let clip = try r.value("gradient_clip_norm", expected: "a number or null")
    let groups = try r.array("weight_decay_groups").enumerated().map {
      (i, v) throws(ConfigurationError) -> ParameterGroup in
      guard let name = v.stringValue else {
        throw .invalid(
          field: "\(field).weight_decay_groups[\(i)]", value: v.kindName, expected: "a string")
      }
      return ParameterGroup(name)
    }
    self.init(
      kind: kind, learningRate: try r.double("learning_rate"), momentum: try r.double("momentum"),
      nesterov: try r.bool("nesterov"), weightDecay: try r.double("weight_decay"),
      beta1: try r.double("beta1"), beta2: try r.double("beta2"), epsilon: try r.double("epsilon"),
      schedule: schedule, warmupSteps: try r.int("warmup_steps", in: 0...Int.max),
      gradientClipNorm: clip == .null
        ? nil : try JSONObjectReader.double(clip, field: r.field("gradient_clip_norm")),
      weightDecayGroups: groups)
    try r.finish()
  }
}
