import SNNBase

/// Operation counts per layer and per sample, and the energy they cost under a cost table.
///
/// Two conventions:
/// - **exact** (the default): the counts as measured — every spike times its real
///   fan-out (conv borders exact, pools routed), analog inputs as MACs;
/// - **rate × T × FLOPs** (as many papers estimate): for a layer fed by spikes,
///   `SOPs = r_in · T · FLOPs`, with `r_in` the firing rate (spikes per neuron per step) of
///   the layer's input neurons and FLOPs its dense MACs per step; MAC layers as counted.
///   It is labelled as such wherever it is printed, for comparison with published numbers.
///
/// The ANN baseline is the same network as a non-spiking network: its dense MACs, once per
/// sample. Layers are the model analysis' weighted layers, matched to the counter by name
/// (a counter layer called "readout" stands for the analysis' readout), followed by any
/// layer the method counts that the analysis does not list (SPIDE's spiking layers after
/// pools), with its counts as measured in both conventions and no ANN share.
public struct EnergyReport: Sendable {
  public struct Layer: Sendable {
    public var name: String
    public var synapticOpsPerSample: Double
    public var macsPerSample: Double
    /// The layer's MACs as an ANN, once per sample.
    public var denseMACsPerSample: Double
    public var neuronUpdatesPerSample: Double
    public var spikesPerSample: Double
    /// Spikes per neuron per step (0 for the readout).
    public var firingRate: Double
    /// The rate convention's synaptic operations (`r_in · T · FLOPs`), or the counted MACs
    /// for a layer fed by an analog input.
    public var rateConventionOpsPerSample: Double
    public var energyPicojoulesPerSample: Double
    public var annEnergyPicojoulesPerSample: Double

    /// A layer fed an analog input: it performs MACs and no accumulates.
    public var isAnalogInput: Bool { macsPerSample > 0 && synapticOpsPerSample == 0 }
  }

  public let model: EnergyModel
  public let timeSteps: Int
  public let samples: Int
  public let layers: [Layer]

  /// A report from a counter accumulated over `samples` samples of a network analysed as
  /// `analysis`, run for `timeSteps` steps per sample.
  public init(counter: SynOpCounter, samples: Int, analysis: ModelAnalysis, timeSteps: Int, model: EnergyModel) {
    precondition(samples > 0, "energy report of no samples")
    self.model = model
    self.timeSteps = timeSteps
    self.samples = samples
    let n = Double(samples)
    var layers: [Layer] = []
    var previousRate: Double? = nil
    var matched = Set<Int>()
    for info in analysis.layers {
      // A method may call its readout "readout" rather than by the analysis' name.
      let i =
        counter.layerNames.firstIndex(of: info.name)
        ?? (info.isReadout ? counter.layerNames.firstIndex(of: "readout") : nil)
      if let i { matched.insert(i) }
      let acs = i.map { Double(counter.accumulates[$0]) / n } ?? 0
      let macs = i.map { Double(counter.multiplyAccumulates[$0]) / n } ?? 0
      let updates = i.map { Double(counter.neuronUpdates[$0]) / n } ?? 0
      let spikes = i.map { Double(counter.spikes[$0]) / n } ?? 0
      let neurons = Double(info.output.elementCount)
      let rate = info.isReadout ? 0 : spikes / (neurons * Double(timeSteps))
      let flops = Double(info.macsPerStep)
      // Spike-fed layers get r_in·T·FLOPs; a layer with analog input keeps its MACs.
      let rateOps = macs > 0 && acs == 0 ? macs : (previousRate ?? 0) * Double(timeSteps) * flops
      layers.append(
        Layer(
          name: info.name, synapticOpsPerSample: acs, macsPerSample: macs, denseMACsPerSample: flops,
          neuronUpdatesPerSample: updates, spikesPerSample: spikes, firingRate: rate,
          rateConventionOpsPerSample: rateOps,
          energyPicojoulesPerSample: model.energy(accumulates: acs, macs: macs),
          annEnergyPicojoulesPerSample: model.annEnergy(denseMACs: flops)))
      if !info.isReadout { previousRate = rate }
    }
    // Layers a method counts that the model analysis does not list (e.g. SPIDE's spiking
    // layers after average pools): their counts, so that totals are complete.
    for (i, name) in counter.layerNames.enumerated() where !matched.contains(i) {
      let acs = Double(counter.accumulates[i]) / n
      let macs = Double(counter.multiplyAccumulates[i]) / n
      let updates = Double(counter.neuronUpdates[i]) / n
      let spikes = Double(counter.spikes[i]) / n
      layers.append(
        Layer(
          name: name, synapticOpsPerSample: acs, macsPerSample: macs, denseMACsPerSample: 0,
          neuronUpdatesPerSample: updates, spikesPerSample: spikes,
          firingRate: updates > 0 ? spikes / updates : 0, rateConventionOpsPerSample: acs + macs,
          energyPicojoulesPerSample: model.energy(accumulates: acs, macs: macs),
          annEnergyPicojoulesPerSample: 0))
    }
    self.layers = layers
  }

  public var synapticOpsPerSample: Double { layers.reduce(0) { $0 + $1.synapticOpsPerSample } }
  public var macsPerSample: Double { layers.reduce(0) { $0 + $1.macsPerSample } }
  public var denseMACsPerSample: Double { layers.reduce(0) { $0 + $1.denseMACsPerSample } }
  public var spikesPerSample: Double { layers.reduce(0) { $0 + $1.spikesPerSample } }
  public var energyPicojoulesPerSample: Double { layers.reduce(0) { $0 + $1.energyPicojoulesPerSample } }
  public var annEnergyPicojoulesPerSample: Double { layers.reduce(0) { $0 + $1.annEnergyPicojoulesPerSample } }

  /// The rate convention's energy: its synaptic operations as additions, MAC layers as MACs.
  public var rateConventionEnergyPicojoulesPerSample: Double {
    layers.reduce(0) { total, l in
      total + (l.isAnalogInput
        ? model.energy(accumulates: 0, macs: l.rateConventionOpsPerSample)
        : model.energy(accumulates: l.rateConventionOpsPerSample, macs: l.macsPerSample))
    }
  }

  public var rateConventionOpsPerSample: Double {
    layers.reduce(0) { $0 + ($1.isAnalogInput ? 0 : $1.rateConventionOpsPerSample) }
  }

  public var json: JSONValue {
    .object([
      ("cost_table", model.table.json),
      ("formula", .string(model.formula)),
      ("samples", JSONValue(samples)),
      ("T", JSONValue(timeSteps)),
      ("synaptic_ops_per_sample", .number(synapticOpsPerSample)),
      ("macs_per_sample", .number(macsPerSample)),
      ("dense_macs_per_sample", .number(denseMACsPerSample)),
      ("spikes_per_sample", .number(spikesPerSample)),
      ("energy_pj_per_sample", .number(energyPicojoulesPerSample)),
      ("ann_energy_pj_per_sample", .number(annEnergyPicojoulesPerSample)),
      ("energy_ratio_snn_to_ann", .number(energyRatio)),
      (
        "rate_x_T_x_flops_convention",
        .object([
          ("note", "SOPs = input firing rate × T × dense MACs per step, as many papers estimate; not a measurement"),
          ("synaptic_ops_per_sample", .number(rateConventionOpsPerSample)),
          ("energy_pj_per_sample", .number(rateConventionEnergyPicojoulesPerSample)),
        ])
      ),
      (
        "layers",
        .array(
          layers.map { l in
            .object([
              ("name", .string(l.name)),
              ("synaptic_ops_per_sample", .number(l.synapticOpsPerSample)),
              ("macs_per_sample", .number(l.macsPerSample)),
              ("dense_macs_per_sample", .number(l.denseMACsPerSample)),
              ("neuron_updates_per_sample", .number(l.neuronUpdatesPerSample)),
              ("spikes_per_sample", .number(l.spikesPerSample)),
              ("firing_rate", .number(l.firingRate)),
              ("rate_convention_ops_per_sample", .number(l.rateConventionOpsPerSample)),
              ("energy_pj_per_sample", .number(l.energyPicojoulesPerSample)),
              ("ann_energy_pj_per_sample", .number(l.annEnergyPicojoulesPerSample)),
            ])
          })
      ),
    ])
  }
}

extension EnergyReport {
  /// SNN energy over the ANN baseline's.
  public var energyRatio: Double {
    annEnergyPicojoulesPerSample > 0 ? energyPicojoulesPerSample / annEnergyPicojoulesPerSample : 0
  }
}

extension MetricsAccumulator {
  /// The energy report of this pass (its counted operations over its samples), or nil when
  /// the method counts nothing.
  public func energyReport(
    analysis: ModelAnalysis, timeSteps: Int, model: EnergyModel = EnergyModel()
  ) -> EnergyReport? {
    guard let operations, sampleCount > 0 else { return nil }
    return EnergyReport(
      counter: operations, samples: sampleCount, analysis: analysis, timeSteps: timeSteps,
      model: model)
  }
}
