import SNNBase

/// Sums of ``BatchMetrics`` over a pass (a training epoch or an evaluation), kept as raw
/// sums so that a checkpoint restores them exactly and derived values are recomputed.
public struct MetricsAccumulator: Equatable, Sendable {
  public private(set) var sampleCount = 0
  public private(set) var lossSum = 0.0
  public private(set) var correctCount = 0
  public private(set) var operations: SynOpCounter?
  public private(set) var extraKeys: [String] = []
  public private(set) var extraSums: [Double] = []

  public init() {}

  /// Adds one batch (in batch order: floating-point sums depend on the order).
  public mutating func add(_ batch: BatchMetrics) {
    sampleCount += batch.sampleCount
    lossSum += batch.lossSum
    correctCount += batch.correctCount
    if let counter = batch.operations {
      if operations == nil {
        operations = counter
      } else {
        operations!.merge(counter)
      }
    }
    for (key, value) in batch.extraSums {
      if let i = extraKeys.firstIndex(of: key) {
        extraSums[i] += value
      } else {
        extraKeys.append(key)
        extraSums.append(value)
      }
    }
  }

  /// Mean loss per sample (NaN before any sample).
  public var loss: Double { sampleCount > 0 ? lossSum / Double(sampleCount) : .nan }
  /// Fraction of correct predictions, in [0, 1].
  public var accuracy: Double {
    sampleCount > 0 ? Double(correctCount) / Double(sampleCount) : .nan
  }

  /// Per layer with neuron updates: `spikes / neuronUpdates` (spikes per neuron per step).
  public var firingRates: [(layer: String, rate: Double)] {
    guard let ops = operations else { return [] }
    return (0..<ops.layerCount).compactMap { i in
      ops.neuronUpdates[i] > 0
        ? (ops.layerNames[i], Double(ops.spikes[i]) / Double(ops.neuronUpdates[i])) : nil
    }
  }

  /// All spikes over all neuron updates (a neuron-weighted mean rate), or nil without counts.
  public var meanFiringRate: Double? {
    guard let ops = operations, ops.totalNeuronUpdates > 0 else { return nil }
    return Double(ops.totalSpikes) / Double(ops.totalNeuronUpdates)
  }

  /// Synaptic accumulates (delivered spike events) per sample.
  public var synapticOperationsPerSample: Double? {
    guard let ops = operations, sampleCount > 0 else { return nil }
    return Double(ops.totalAccumulates) / Double(sampleCount)
  }

  /// Multiply-accumulates (analog inputs, readouts) per sample.
  public var multiplyAccumulatesPerSample: Double? {
    guard let ops = operations, sampleCount > 0 else { return nil }
    return Double(ops.totalMultiplyAccumulates) / Double(sampleCount)
  }

  /// The method's extra sums divided by the sample count.
  public var extraPerSample: [(key: String, value: Double)] {
    guard sampleCount > 0 else { return [] }
    return zip(extraKeys, extraSums).map { ($0, $1 / Double(sampleCount)) }
  }

  /// Derived values for summaries: loss, accuracy, rates, operation counts per sample.
  public func summary(prefix: String) -> [(key: String, value: JSONValue)] {
    var out: [(key: String, value: JSONValue)] = [
      (prefix + "loss", number(loss)), (prefix + "accuracy", number(accuracy)),
      (prefix + "samples", JSONValue(sampleCount)),
      (prefix + "mean_firing_rate", meanFiringRate.map(number) ?? .null),
      (prefix + "synaptic_operations_per_sample", synapticOperationsPerSample.map(number) ?? .null),
    ]
    if !extraKeys.isEmpty {
      out.append(
        (prefix + "extra_per_sample", .object(extraPerSample.map { ($0.key, number($0.value)) })))
    }
    return out
  }

  // MARK: Raw JSON (checkpoints)

  /// The raw sums, exactly (doubles print as shortest round-trip decimals; non-finite
  /// values as null).
  public var json: JSONValue {
    var value: JSONValue = [
      "samples": JSONValue(sampleCount), "loss_sum": number(lossSum),
      "correct": JSONValue(correctCount),
    ]
    if let ops = operations {
      value.set(
        "operations",
        [
          "layers": .array(ops.layerNames.map { JSONValue($0) }),
          "accumulates": .array(ops.accumulates.map { JSONValue($0) }),
          "multiply_accumulates": .array(ops.multiplyAccumulates.map { JSONValue($0) }),
          "neuron_updates": .array(ops.neuronUpdates.map { JSONValue($0) }),
          "spikes": .array(ops.spikes.map { JSONValue($0) }),
        ])
    } else {
      value.set("operations", .null)
    }
    value.set("extra_sums", .object(zip(extraKeys, extraSums).map { ($0, number($1)) }))
    return value
  }

  public init(json: JSONValue, field: String) throws(ConfigurationError) {
    var r = try JSONObjectReader(json, path: field)
    sampleCount = try r.int("samples", in: 0...Int.max)
    lossSum = try MetricsAccumulator.readNumber(
      try r.value("loss_sum", expected: "a number"), r.field("loss_sum"))
    correctCount = try r.int("correct", in: 0...sampleCount)
    let opsValue = try r.value("operations", expected: "an object or null")
    if opsValue != .null {
      var o = try JSONObjectReader(opsValue, path: r.field("operations"))
      let layers = try o.array("layers").enumerated().map {
        (i, v) throws(ConfigurationError) -> String in
        guard let s = v.stringValue else {
          throw .invalid(
            field: "\(o.field("layers"))[\(i)]", value: v.kindName, expected: "a string")
        }
        return s
      }
      var counter = SynOpCounter(layerNames: layers)
      func counts(_ key: String, _ o: inout JSONObjectReader) throws(ConfigurationError) -> [UInt64]
      {
        let values = try o.array(key)
        guard values.count == layers.count else {
          throw .invalid(
            field: o.field(key), value: "\(values.count) counts",
            expected: "\(layers.count), one per layer")
        }
        return try values.enumerated().map { (i, v) throws(ConfigurationError) -> UInt64 in
          UInt64(try JSONObjectReader.int(v, field: "\(o.field(key))[\(i)]", in: 0...Int.max))
        }
      }
      counter.accumulates = try counts("accumulates", &o)
      counter.multiplyAccumulates = try counts("multiply_accumulates", &o)
      counter.neuronUpdates = try counts("neuron_updates", &o)
      counter.spikes = try counts("spikes", &o)
      try o.finish()
      operations = counter
    }
    var e = try r.object("extra_sums")
    for key in e.keys {
      extraKeys.append(key)
      extraSums.append(try MetricsAccumulator.readNumber(e.optional(key)!, e.field(key)))
    }
    try e.finish()
    try r.finish()
  }

  /// A number, or null read back as NaN (non-finite values are written as null).
  static func readNumber(_ v: JSONValue, _ field: String) throws(ConfigurationError) -> Double {
    if v == .null { return .nan }
    guard let d = v.doubleValue else {
      throw .invalid(field: field, value: v.kindName, expected: "a number or null")
    }
    return d
  }

  /// Whether both hold the same sums, bit for bit.
  public func isBitIdentical(to other: MetricsAccumulator) -> Bool {
    sampleCount == other.sampleCount && lossSum.bitPattern == other.lossSum.bitPattern
      && correctCount == other.correctCount && operations == other.operations
      && extraKeys == other.extraKeys
      && zip(extraSums, other.extraSums).allSatisfy { $0.bitPattern == $1.bitPattern }
  }
}

/// A number as JSON (non-finite → null).
func number(_ d: Double) -> JSONValue { d.isFinite ? .number(d) : .null }
