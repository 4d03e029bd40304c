/// Accumulated time and work of a run, across resumed segments.
public struct TrainingTiming: Equatable, Sendable {
  /// Wall-clock seconds of all segments (training, evaluation, checkpoints).
  public var wallSeconds = 0.0
  /// Seconds inside training batches (loading included).
  public var trainSeconds = 0.0
  /// Seconds inside evaluation passes.
  public var testSeconds = 0.0
  /// Training samples processed.
  public var trainSamples = 0
  /// Seconds inside the training batches of the epoch in progress.
  public var currentEpochTrainSeconds = 0.0

  public init() {}
}
