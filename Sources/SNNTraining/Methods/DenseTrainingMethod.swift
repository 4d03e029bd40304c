import SNNBase
import SNNTensor

/// A training method on the dense backend: a ``DenseModel`` and a ``ParameterOptimizer``
/// over its ``DenseModel/parameters``.
///
/// Conforming gives, for free: ``parameterCount``, the standard ``evaluateBatch(_:context:)``
/// (forward in evaluation mode, softmax cross-entropy, operation counts), and the state
/// contract (``exportState()`` / ``restoreState(_:)``: parameters `param/…`, optimizer
/// moments `optimizer/…` and step count, BN running statistics `state/…`). A method then
/// only writes ``TrainingMethod/trainBatch(_:context:)``; ``trainStandardStep(_:context:)``
/// is the surrogate-gradient BPTT step (forward, loss, backward, update) for methods whose
/// gradient is the model's own backward pass. A method with more state (its own
/// generators, counters, traces that survive a batch) implements the two state functions
/// itself, calling ``exportDenseState(json:)`` / ``restoreDenseState(_:)`` for the common
/// part.
public protocol DenseTrainingMethod: TrainingMethod {
  /// The compiled network and its parameters.
  var model: DenseModel { get }
  /// The optimizer over `model.parameters`.
  var optimizer: ParameterOptimizer { get set }
}

extension DenseTrainingMethod {
  public var parameterCount: Int { model.parameters.scalarCount }

  /// Forward, softmax cross-entropy on the time-averaged readout, backward (BPTT through
  /// the model), one optimizer step at `context.learningRate`. The metrics (loss, correct
  /// count, operation counts of the forward pass, LSG's gradient-window ratios) are those
  /// of the parameters before the update.
  public func trainStandardStep(_ batch: Batch, context: StepContext) -> BatchMetrics {
    model.isTraining = true
    let logits = model.forward(batch)
    let loss = SoftmaxCrossEntropy(logits: logits, labels: batch.labels)
    let metrics = denseMetrics(batch, loss)
    model.parameters.zeroGradients()
    model.backward(loss.gradient)
    optimizer.step(&model.parameters, learningRate: context.learningRate)
    return metrics
  }

  /// Forward in evaluation mode (BN running statistics) and the softmax cross-entropy.
  public func evaluateBatch(_ batch: Batch, context: EvaluationContext) throws -> BatchMetrics {
    model.isTraining = false
    defer { model.isTraining = true }
    let logits = model.forward(batch)
    return denseMetrics(
      batch, SoftmaxCrossEntropy(logits: logits, labels: batch.labels, computeGradient: false))
  }

  /// The metrics of the model's last forward pass on `batch` with `loss`: loss sum, correct
  /// count, operation counts, and for every neuron layer whose surrogate has a window, the
  /// extra sum `grad_available_ratio/<layer>` = ratio × batch size (so the per-sample mean
  /// over an epoch is the sample-weighted mean ratio).
  public func denseMetrics(_ batch: Batch, _ loss: SoftmaxCrossEntropy) -> BatchMetrics {
    var extras: [(key: String, value: Double)] = []
    for stage in model.spikingStages {
      if let ratio = stage.neuron?.gradAvailableRatio, let name = stage.layer?.name {
        extras.append(("grad_available_ratio/" + name, ratio * Double(batch.count)))
      }
    }
    return BatchMetrics(
      sampleCount: batch.count, lossSum: loss.lossSum, correctCount: loss.correctCount,
      operations: model.operations, extraSums: extras)
  }

  public func exportState() -> MethodState { exportDenseState(json: [:]) }

  public func restoreState(_ state: MethodState) throws(CheckpointError) {
    try restoreDenseState(state)
  }

  /// The common state: `json` plus `"optimizer"` (kind and step count), blobs `param/…`,
  /// `optimizer/…` and `state/…`.
  public func exportDenseState(json: JSONValue) -> MethodState {
    var object = json
    object.set("optimizer", optimizer.stateJSON)
    return MethodState(
      json: object,
      blobs: model.parameters.blobs() + optimizer.stateBlobs + model.stateBlobs())
  }

  /// Restores what ``exportDenseState(json:)`` saved; validates everything (every blob
  /// must be a parameter, optimizer buffer or state blob of this model) and changes nothing
  /// unless all of it loads.
  public func restoreDenseState(_ state: MethodState) throws(CheckpointError) {
    for blob in state.blobs
    where !["param/", "optimizer/", "state/"].contains(where: { blob.name.hasPrefix($0) }) {
      throw CheckpointError(
        .unexpectedBlob, field: "blob '\(blob.name)'",
        expected: "parameters (param/), optimizer buffers (optimizer/) or model state (state/)",
        found: "a blob this method does not use")
    }
    guard let optimizerJSON = state.json["optimizer"] else {
      throw CheckpointError(
        .invalidHeader, field: "header.method_state.optimizer", expected: "the optimizer state",
        found: "nothing")
    }
    var parameters = model.parameters
    try parameters.load(state.blobs)
    var restored = optimizer
    try restored.restore(
      blobs: state.blobs, json: optimizerJSON, field: "header.method_state.optimizer")
    try model.loadState(state.blobs)  // validates before it changes anything
    model.parameters = parameters
    optimizer = restored
  }
}
