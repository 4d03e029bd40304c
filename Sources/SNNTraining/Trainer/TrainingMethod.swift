import SNNBase

/// A training method: owns a model's parameters and state and performs one optimization
/// step on a batch. Everything else (epochs, order, evaluation schedule, metrics,
/// progress, checkpoints, resume, summaries) belongs to the ``Trainer``.
///
/// The contract that makes resuming exact: ``exportState()`` returns *everything* that
/// influences future steps (parameters, optimizer moments and step counts, BN running
/// statistics, learnable neuron constants, any generator the method owns, any counters),
/// and ``restoreState(_:)`` puts a freshly made method (same ``MethodSetup``) into exactly
/// that state. Randomness that depends only on the step should come from
/// ``StepContext/random`` (a generator derived from the seed and the step number), which
/// needs no saving.
///
/// Methods are classes so that they can keep preallocated buffers across steps; the
/// trainer calls them from one thread (they may parallelize internally with `Parallel`).
public protocol TrainingMethod: AnyObject {
  /// The registry name, e.g. `bptt`.
  var name: String { get }

  /// The number of trainable scalars (for the summary).
  var parameterCount: Int { get }

  /// Forward, backward and update on one training batch. Returns the batch's metrics
  /// (computed with the parameters *before* the update, as usual).
  func trainBatch(_ batch: Batch, context: StepContext) throws -> BatchMetrics

  /// Forward only, no state change (evaluation mode: no dropout, running BN statistics).
  func evaluateBatch(_ batch: Batch, context: EvaluationContext) throws -> BatchMetrics

  /// Called after each training epoch (before the checkpoint is written): per-epoch
  /// diagnostics for the history (e.g. LSG's `grad_available_ratio`), and any
  /// once-per-epoch state change. Default: nothing.
  func epochDidEnd(epoch: Int) -> [(key: String, value: JSONValue)]

  /// Free-form entries for the run summary's `extra` map (e.g. EDBP's
  /// `forward_synaptic_events_per_sample`). Default: none.
  func summaryExtras() -> [(key: String, value: JSONValue)]

  /// The complete state, for checkpoints.
  func exportState() -> MethodState

  /// Restores a state written by ``exportState()`` of a method made with the same setup.
  /// Must validate everything (names, shapes, JSON fields) and change nothing unless all
  /// of it loads.
  func restoreState(_ state: MethodState) throws(CheckpointError)
}

extension TrainingMethod {
  public func epochDidEnd(epoch: Int) -> [(key: String, value: JSONValue)] { [] }
  public func summaryExtras() -> [(key: String, value: JSONValue)] { [] }
}
