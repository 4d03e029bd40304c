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

/// What the trainer tells a method about the step it runs.
public struct StepContext: Sendable {
  /// The epoch, from 0, and the number of epochs of the run.
  public var epoch: Int
  public var epochs: Int
  /// The batch within the epoch, from 0, and the number of batches per epoch.
  public var batchIndex: Int
  public var batchesPerEpoch: Int
  /// Optimizer steps (batches) before this one, over the whole run.
  public var globalStep: Int
  /// The learning rate of this step from the run's schedule (with warm-up).
  public var learningRate: Double
  /// A generator for this step only: stream `("train-step", globalStep)` of the run seed.
  public var random: Xoshiro256StarStar

  public init(
    epoch: Int, epochs: Int, batchIndex: Int, batchesPerEpoch: Int, globalStep: Int,
    learningRate: Double, random: Xoshiro256StarStar
  ) {
    self.epoch = epoch
    self.epochs = epochs
    self.batchIndex = batchIndex
    self.batchesPerEpoch = batchesPerEpoch
    self.globalStep = globalStep
    self.learningRate = learningRate
    self.random = random
  }
}

/// What the trainer tells a method about an evaluation batch.
public struct EvaluationContext: Sendable {
  /// The batch within the evaluation pass, from 0.
  public var batchIndex: Int
  /// Stream `("evaluation", batchIndex)` of the run seed: the same in every evaluation
  /// pass, so a test accuracy can be reproduced from a checkpoint.
  public var random: Xoshiro256StarStar

  public init(batchIndex: Int, random: Xoshiro256StarStar) {
    self.batchIndex = batchIndex
    self.random = random
  }
}

/// What a method measured on one batch. The trainer sums these over an epoch.
public struct BatchMetrics: Sendable {
  public var sampleCount: Int
  /// The sum over the batch of each sample's loss (the mean is `lossSum / sampleCount`).
  public var lossSum: Double
  /// Samples whose prediction equals the label.
  public var correctCount: Int
  /// Operation counts of the forward pass(es) on this batch (per layer: synaptic
  /// accumulates, MACs, neuron updates, spikes), when the method counts them. The firing
  /// rate of a layer is `spikes / neuronUpdates`. Layer names must stay the same from batch
  /// to batch.
  public var operations: SynOpCounter?
  /// Method-specific additive quantities, summed over batches and reported per sample
  /// (divided by the sample count), e.g. `("backward_events", 1.2e6)`.
  public var extraSums: [(key: String, value: Double)]

  public init(
    sampleCount: Int, lossSum: Double, correctCount: Int, operations: SynOpCounter? = nil,
    extraSums: [(key: String, value: Double)] = []
  ) {
    self.sampleCount = sampleCount
    self.lossSum = lossSum
    self.correctCount = correctCount
    self.operations = operations
    self.extraSums = extraSums
  }
}

/// A method's complete state: JSON for scalars, blobs for arrays, generators by name.
public struct MethodState: Sendable {
  /// A JSON object (step counters, optimizer kind, flags…).
  public var json: JSONValue
  /// Arrays: parameters (`param/<name>`, see ``ParameterStore/blobs(prefix:)``), optimizer
  /// moments (`optimizer/…`), anything else. Names must be unique.
  public var blobs: [TensorBlob]
  /// Generators the method owns, saved as their four state words.
  public var generators: [(name: String, state: Xoshiro256StarStar)]

  public init(
    json: JSONValue = [:], blobs: [TensorBlob] = [],
    generators: [(name: String, state: Xoshiro256StarStar)] = []
  ) {
    self.json = json
    self.blobs = blobs
    self.generators = generators
  }

  /// The generator saved under `name`, or a `missingBlob`-style error naming it.
  public func generator(_ name: String) throws(CheckpointError) -> Xoshiro256StarStar {
    guard let g = generators.first(where: { $0.name == name }) else {
      throw CheckpointError(
        .invalidHeader, field: "header.random_states.\(name)",
        expected: "the state of generator '\(name)'",
        found: "nothing")
    }
    return g.state
  }

  /// Whether two states hold the same JSON, bit-identical blobs and the same generators.
  public func isBitIdentical(to other: MethodState) -> Bool {
    json == other.json && blobs.count == other.blobs.count
      && zip(blobs, other.blobs).allSatisfy { $0.isBitIdentical(to: $1) }
      && generators.count == other.generators.count
      && zip(generators, other.generators).allSatisfy { $0.name == $1.name && $0.state == $1.state }
  }
}
