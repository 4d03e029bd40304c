import SNNBase
import SNNTensor

extension DenseModel {
  /// The parameters of `analysis` compiled with `configuration`, in store order:
  /// - the spec's weights and biases (``ModelAnalysis/parameterLayout``: Kaiming-normal
  ///   fan-in weights with gain √2, zero biases; `fc` weights `[out, in]`, conv weights
  ///   `[out, in, k, k]`);
  /// - for every hidden layer with normalization: `<layer>.norm.gamma` (ones) and
  ///   `<layer>.norm.beta` (zeros), shape `[channels]`, group `normalization`;
  /// - for every hidden layer with LSG's learnable leak: `<layer>.neuron.leak_logit`, shape
  ///   `[1]`, b = ln(β₀/(1 − β₀)), group `neuron` (no weight decay by default);
  /// - the method's own ``Configuration/extraParameters``.
  public static func parameterLayout(analysis: ModelAnalysis, configuration: Configuration)
    -> [ParameterDescriptor]
  {
    var layout = analysis.parameterLayout
    for layer in analysis.layers where layer.isSpiking {
      let channels = layer.output.channels
      if configuration.normalization != .none {
        layout.append(
          ParameterDescriptor(
            name: layer.name + ".norm.gamma", shape: [channels], group: .normalization,
            initializer: .constant(1)))
        layout.append(
          ParameterDescriptor(
            name: layer.name + ".norm.beta", shape: [channels], group: .normalization,
            initializer: .zeros))
      }
      if case .learnableLeak(let beta0) = configuration.neuron.charge {
        let logit = Float(Math.log(Double(beta0) / (1 - Double(beta0))))
        layout.append(
          ParameterDescriptor(
            name: layer.name + ".neuron.leak_logit", shape: [1], group: .neuron,
            initializer: .constant(logit)))
      }
    }
    return layout + configuration.extraParameters
  }

  /// A store with ``parameterLayout(analysis:configuration:)``, each parameter initialized
  /// from stream `init/<name>` of `seed`.
  public static func makeParameters(spec: ModelSpec, configuration: Configuration, seed: UInt64)
    throws(ConfigurationError) -> ParameterStore
  {
    var store = ParameterStore()
    for descriptor in parameterLayout(analysis: try spec.analyze(), configuration: configuration) {
      store.add(descriptor, seed: seed)
    }
    return store
  }

  // MARK: State (BN running statistics)

  /// The running statistics of every normalization layer as blobs
  /// `state/<layer>.norm.running_mean` and `state/<layer>.norm.running_var` (`[channels]`).
  public func stateBlobs() -> [TensorBlob] {
    var blobs: [TensorBlob] = []
    for stage in stages {
      guard let norm = stage.norm else { continue }
      blobs.append(
        TensorBlob(
          name: "state/\(norm.name).running_mean", shape: [norm.channelCount],
          values: norm.runningMean.scalars))
      blobs.append(
        TensorBlob(
          name: "state/\(norm.name).running_var", shape: [norm.channelCount],
          values: norm.runningVariance.scalars))
    }
    return blobs
  }

  /// Loads what ``stateBlobs()`` saved: every expected blob must be present with its shape
  /// and no other `state/` blob may exist. Nothing changes unless all of it loads.
  public func loadState(_ blobs: [TensorBlob]) throws(CheckpointError) {
    let expected = stateBlobs()
    var byName: [String: TensorBlob] = [:]
    for blob in blobs where blob.name.hasPrefix("state/") {
      guard expected.contains(where: { $0.name == blob.name }) else {
        throw CheckpointError(
          .unexpectedBlob, field: "blob '\(blob.name)'",
          expected: "only the normalization statistics of this model", found: "a state blob")
      }
      byName[blob.name] = blob
    }
    for blob in expected {
      guard let found = byName[blob.name] else {
        throw CheckpointError(
          .missingBlob, field: "blob '\(blob.name)'", expected: "shape \(blob.shape)",
          found: "no such blob")
      }
      guard found.shape == blob.shape else {
        throw CheckpointError(
          .incompatible, field: "blob '\(blob.name)'", expected: "shape \(blob.shape)",
          found: "shape \(found.shape)")
      }
    }
    for stage in stages {
      guard let norm = stage.norm else { continue }
      let c = norm.channelCount
      norm.runningMean = Tensor(
        shape: [c], scalars: byName["state/\(norm.name).running_mean"]!.values)
      norm.runningVariance = Tensor(
        shape: [c], scalars: byName["state/\(norm.name).running_var"]!.values)
    }
  }
}
