import SNNBase

/// The outcome of a training run, printed as text or JSON by `snn train`.
///
/// JSON keys, in order:
/// - `method`, `model` (notation), `dataset`, `T`, `epochs`, `epochs_completed`,
///   `completed` (false when stopped early), `batch_size`, `seed`, `optimizer`,
///   `method_options`;
/// - `test_accuracy`, `test_loss` (after the last completed epoch; null without a test
///   set), `train_accuracy`, `train_loss` (running values over the last completed epoch);
/// - `wall_seconds`, `train_seconds`, `test_seconds`, `train_samples_per_second`
///   (training samples over seconds inside training batches, all segments of the run);
/// - `mean_firing_rate` (all spikes / all neuron updates in the last test evaluation, or
///   the last training epoch without a test set; null when the method counts nothing),
///   `firing_rates` (per layer), `synaptic_operations_per_sample`,
///   `multiply_accumulates_per_sample` (same pass), `energy` (that pass's ``EnergyReport``
///   with the fp32 table: `synaptic_ops_per_sample`, `energy_pj_per_sample`,
///   `ann_energy_pj_per_sample`, `layers`, …; null when the method counts nothing);
/// - `parameter_count`, `dense_macs_per_step` (the model's ANN-equivalent MACs of one time
///   step of one sample), `peak_resident_bytes`;
/// - `history` (one object per epoch), `extra` (the method's free-form map).
public struct RunSummary: Sendable {
  public var configuration: RunConfiguration
  public var completed: Bool
  public var epochsCompleted: Int
  public var history: [EpochRecord]
  public var timing: TrainingTiming
  public var parameterCount: Int
  public var analysis: ModelAnalysis
  public var extra: [(key: String, value: JSONValue)]
  public var peakResidentBytes: Int

  public init(
    configuration: RunConfiguration, completed: Bool, epochsCompleted: Int,
    history: [EpochRecord], timing: TrainingTiming, parameterCount: Int, analysis: ModelAnalysis,
    extra: [(key: String, value: JSONValue)]
  ) {
    self.configuration = configuration
    self.completed = completed
    self.epochsCompleted = epochsCompleted
    self.history = history
    self.timing = timing
    self.parameterCount = parameterCount
    self.analysis = analysis
    self.extra = extra
    peakResidentBytes = ResourceUsage.peakResidentBytes()
  }

  /// The last completed epoch's test metrics.
  public var finalTest: MetricsAccumulator? { history.last?.test }
  /// The last completed epoch's training metrics.
  public var finalTrain: MetricsAccumulator? { history.last?.train }
  /// Training samples per second over all segments.
  public var trainSamplesPerSecond: Double {
    timing.trainSeconds > 0 ? Double(timing.trainSamples) / timing.trainSeconds : 0
  }

  /// The pass whose spike counts the summary reports: the last test evaluation, else the
  /// last training epoch.
  public var countedPass: MetricsAccumulator? { finalTest ?? finalTrain }

  /// The energy of ``countedPass`` with the fp32 table (nil when nothing was counted).
  public var energyReport: EnergyReport? {
    countedPass?.energyReport(analysis: analysis, timeSteps: configuration.timeSteps)
  }

  public var json: JSONValue {
    let counted = countedPass
    let members: [(key: String, value: JSONValue)] = [
      ("method", JSONValue(configuration.method)),
      ("model", JSONValue(configuration.model.notation)),
      ("dataset", JSONValue(configuration.dataset)),
      ("T", JSONValue(configuration.timeSteps)),
      ("epochs", JSONValue(configuration.epochs)),
      ("epochs_completed", JSONValue(epochsCompleted)),
      ("completed", JSONValue(completed)),
      ("batch_size", JSONValue(configuration.batchSize)),
      ("seed", JSONValue(configuration.seed)),
      ("optimizer", configuration.optimizer.json),
      ("method_options", configuration.methodOptions.json),
      ("test_accuracy", finalTest.map { number($0.accuracy) } ?? .null),
      ("test_loss", finalTest.map { number($0.loss) } ?? .null),
      ("train_accuracy", finalTrain.map { number($0.accuracy) } ?? .null),
      ("train_loss", finalTrain.map { number($0.loss) } ?? .null),
      ("wall_seconds", number(timing.wallSeconds)),
      ("train_seconds", number(timing.trainSeconds)),
      ("test_seconds", number(timing.testSeconds)),
      ("train_samples_per_second", number(trainSamplesPerSecond)),
      ("mean_firing_rate", counted?.meanFiringRate.map(number) ?? .null),
      ("firing_rates", .object((counted?.firingRates ?? []).map { ($0.layer, number($0.rate)) })),
      ("synaptic_operations_per_sample", counted?.synapticOperationsPerSample.map(number) ?? .null),
      (
        "multiply_accumulates_per_sample",
        counted?.multiplyAccumulatesPerSample.map(number) ?? .null
      ),
      ("energy", energyReport?.json ?? .null),
      ("parameter_count", JSONValue(parameterCount)),
      ("dense_macs_per_step", JSONValue(analysis.macsPerStep)),
      ("peak_resident_bytes", JSONValue(peakResidentBytes)),
      ("history", .array(history.map(\.summaryJSON))),
      ("extra", .object(extra)),
    ]
    return .object(members)
  }
}
