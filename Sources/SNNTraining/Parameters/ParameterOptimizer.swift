import SNNBase

/// SGD, Adam and AdamW over a ``ParameterStore``'s flat arrays, with the optimizer state
/// exposed for checkpoints.
///
/// Updates follow PyTorch's definitions, per parameter with gradient g and value w (λ the
/// weight decay when the parameter's group is in ``OptimizerSettings/weightDecayGroups``,
/// else 0):
/// - SGD: `d = g + λw`; with momentum μ > 0, `b ← μb + d` and `d = b` (Nesterov:
///   `d = d + μb`); `w ← w − η·d`.
/// - Adam: `d = g + λw`; `m ← β₁m + (1−β₁)d`, `v ← β₂v + (1−β₂)d²`;
///   `w ← w − (η/(1−β₁ᵗ))·m/(√v/√(1−β₂ᵗ) + ε)`.
/// - AdamW: `w ← w·(1 − ηλ)` first, then Adam with `d = g`.
///
/// Gradient clipping (``OptimizerSettings/gradientClipNorm``) rescales all gradients
/// before the update. The state is the step count (JSON) and the moment buffers (blobs
/// `optimizer/<parameter>.momentum`, `.m`, `.v`), so a restored optimizer continues bit for
/// bit.
public struct ParameterOptimizer: Sendable {
  public let settings: OptimizerSettings
  /// Optimizer steps taken (Adam's t).
  public private(set) var stepCount = 0
  private let names: [String]
  private let shapes: [[Int]]
  private let decays: [Bool]
  private var first: [[Float]]
  private var second: [[Float]]

  /// An optimizer for the parameters currently in `parameters` (add parameters first).
  public init(settings: OptimizerSettings, parameters: ParameterStore) {
    self.settings = settings
    names = parameters.parameters.map(\.name)
    shapes = parameters.parameters.map(\.shape)
    decays = parameters.parameters.map { settings.weightDecayGroups.contains($0.group) }
    let zeros = parameters.parameters.map { [Float](repeating: 0, count: $0.count) }
    switch settings.kind {
    case .sgd:
      first = settings.momentum > 0 ? zeros : parameters.parameters.map { _ in [] }
      second = parameters.parameters.map { _ in [] }
    case .adam, .adamw:
      first = zeros
      second = zeros
    }
  }

  /// Clips the gradients if configured, then updates every parameter with its gradient at
  /// `learningRate`. Returns the global gradient norm before clipping when clipping is on,
  /// else nil.
  @discardableResult
  public mutating func step(_ store: inout ParameterStore, learningRate: Double) -> Double? {
    precondition(
      store.names == names, "the store's parameters changed since the optimizer was made")
    var norm: Double?
    if let clip = settings.gradientClipNorm {
      let n = store.gradientNorm()
      norm = n
      if n > clip { store.scaleGradients(by: Float(clip / (n + 1e-6))) }
    }
    stepCount += 1
    let lr = Float(learningRate)
    for i in names.indices {
      let wd = decays[i] ? Float(settings.weightDecay) : 0
      switch settings.kind {
      case .sgd: sgd(&store, i, lr: lr, wd: wd)
      case .adam: adam(&store, i, lr: learningRate, wd: wd, decoupled: false)
      case .adamw: adam(&store, i, lr: learningRate, wd: wd, decoupled: true)
      }
    }
    return norm
  }

  private mutating func sgd(_ store: inout ParameterStore, _ i: Int, lr: Float, wd: Float) {
    let mu = Float(settings.momentum)
    let nesterov = settings.nesterov
    let hasMomentum = !first[i].isEmpty
    store.withValuesAndGradients(i) { w, g in
      if hasMomentum {
        first[i].withUnsafeMutableBufferPointer { b in
          for j in 0..<w.count {
            var d = g[j] + wd * w[j]
            b[j] = mu * b[j] + d
            d = nesterov ? d + mu * b[j] : b[j]
            w[j] -= lr * d
          }
        }
      } else {
        for j in 0..<w.count { w[j] -= lr * (g[j] + wd * w[j]) }
      }
    }
  }

  private mutating func adam(
    _ store: inout ParameterStore, _ i: Int, lr: Double, wd: Float, decoupled: Bool
  ) {
    // 1 − β in Double, then rounded once (as PyTorch computes it from Python floats):
    // Float(1) − Float(0.999) is 1.00005·10⁻³, off by 5·10⁻⁵ relative.
    let b1 = Float(settings.beta1), c1 = Float(1 - settings.beta1)
    let b2 = Float(settings.beta2), c2 = Float(1 - settings.beta2)
    let eps = Float(settings.epsilon)
    let t = Double(stepCount)
    let correction1 = 1 - Math.pow(settings.beta1, t)
    let correction2 = 1 - Math.pow(settings.beta2, t)
    let stepSize = Float(lr / correction1)
    let rootCorrection2 = Float(correction2.squareRoot())
    let decayFactor = Float(1 - lr * Double(wd))
    store.withValuesAndGradients(i) { w, g in
      first[i].withUnsafeMutableBufferPointer { m in
        second[i].withUnsafeMutableBufferPointer { v in
          for j in 0..<w.count {
            var d = g[j]
            if decoupled {
              w[j] *= decayFactor
            } else {
              d += wd * w[j]
            }
            m[j] = b1 * m[j] + c1 * d
            v[j] = b2 * v[j] + c2 * d * d
            let denominator = v[j].squareRoot() / rootCorrection2 + eps
            w[j] -= stepSize * m[j] / denominator
          }
        }
      }
    }
  }

  // MARK: Checkpoints

  /// The moment buffers as blobs (`optimizer/<name>.momentum` for SGD, `.m` and `.v` for
  /// Adam/AdamW).
  public var stateBlobs: [TensorBlob] {
    var blobs: [TensorBlob] = []
    for i in names.indices {
      switch settings.kind {
      case .sgd:
        if !first[i].isEmpty {
          blobs.append(
            TensorBlob(name: "optimizer/\(names[i]).momentum", shape: shapes[i], values: first[i]))
        }
      case .adam, .adamw:
        blobs.append(
          TensorBlob(name: "optimizer/\(names[i]).m", shape: shapes[i], values: first[i]))
        blobs.append(
          TensorBlob(name: "optimizer/\(names[i]).v", shape: shapes[i], values: second[i]))
      }
    }
    return blobs
  }

  /// The scalar state as JSON: `{"kind": "adam", "steps": 1234}`.
  public var stateJSON: JSONValue {
    ["kind": JSONValue(settings.kind.rawValue), "steps": JSONValue(stepCount)]
  }

  /// Restores the state saved by ``stateBlobs`` and ``stateJSON``. Every expected buffer
  /// must be present with its shape, and no other `optimizer/` blob may exist; nothing
  /// changes unless all of it loads.
  public mutating func restore(blobs: [TensorBlob], json: JSONValue, field: String)
    throws(CheckpointError)
  {
    let steps: Int
    do {
      var r = try JSONObjectReader(json, path: field)
      let kind = try r.string("kind")
      guard kind == settings.kind.rawValue else {
        throw CheckpointError(
          .incompatible, field: r.field("kind"), expected: "'\(settings.kind.rawValue)'",
          found: "'\(kind)'")
      }
      steps = try r.int("steps", in: 0...Int.max)
      try r.finish()
    } catch let error as ConfigurationError {
      throw CheckpointError(
        .invalidHeader, field: field, expected: "optimizer state", found: error.description)
    } catch let error as CheckpointError {
      throw error
    } catch {
      preconditionFailure("unexpected error \(error)")
    }
    let expected = stateBlobs
    var byName: [String: TensorBlob] = [:]
    for blob in blobs where blob.name.hasPrefix("optimizer/") { byName[blob.name] = blob }
    for blob in expected {
      guard let found = byName.removeValue(forKey: blob.name) else {
        throw CheckpointError(
          .missingBlob, field: "blob '\(blob.name)'",
          expected: "\(settings.kind.rawValue) state of shape \(blob.shape)",
          found: "no such blob")
      }
      guard found.shape == blob.shape else {
        throw CheckpointError(
          .incompatible, field: "blob '\(blob.name)'", expected: "shape \(blob.shape)",
          found: "shape \(found.shape)")
      }
      byName["loaded:" + blob.name] = found
    }
    if let extra = byName.keys.filter({ !$0.hasPrefix("loaded:") }).sorted().first {
      throw CheckpointError(
        .unexpectedBlob, field: "blob '\(extra)'",
        expected: "only the \(settings.kind.rawValue) state of this model's parameters",
        found: "an optimizer buffer nothing uses")
    }
    for i in names.indices {
      switch settings.kind {
      case .sgd:
        if !first[i].isEmpty { first[i] = byName["loaded:optimizer/\(names[i]).momentum"]!.values }
      case .adam, .adamw:
        first[i] = byName["loaded:optimizer/\(names[i]).m"]!.values
        second[i] = byName["loaded:optimizer/\(names[i]).v"]!.values
      }
    }
    stepCount = steps
  }
}
