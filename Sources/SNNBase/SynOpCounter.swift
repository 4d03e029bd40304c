/// Exact counts of the operations a spiking network performs, per layer.
///
/// Both backends report into this one type so that energy estimates are comparable:
/// - an **accumulate** (AC) is one synaptic event delivered: a binary spike reaching one
///   target adds the weight to the target's input (no multiply);
/// - a **multiply-accumulate** (MAC) is one weighted contribution of a non-binary input
///   (an analog pixel injected as current, a readout of real-valued rates);
/// - a **neuron update** is one state update of one neuron (one decay / integration step);
/// - **spikes** are emitted spikes.
///
/// Engines increment the counters once per delivered spike with its real fan-out, not
/// once per synapse, so counting stays cheap. Counts are exact integers, never estimates.
public struct SynOpCounter: Sendable, Equatable {
  /// A name for each layer (population or connection), in network order.
  public private(set) var layerNames: [String]
  public var accumulates: [UInt64]
  public var multiplyAccumulates: [UInt64]
  public var neuronUpdates: [UInt64]
  public var spikes: [UInt64]

  public init(layerNames: [String]) {
    self.layerNames = layerNames
    let zeros = [UInt64](repeating: 0, count: layerNames.count)
    accumulates = zeros
    multiplyAccumulates = zeros
    neuronUpdates = zeros
    spikes = zeros
  }

  public var layerCount: Int { layerNames.count }

  @inlinable public mutating func addAccumulates(_ n: Int, layer: Int) {
    accumulates[layer] &+= UInt64(n)
  }
  @inlinable public mutating func addMultiplyAccumulates(_ n: Int, layer: Int) {
    multiplyAccumulates[layer] &+= UInt64(n)
  }
  @inlinable public mutating func addNeuronUpdates(_ n: Int, layer: Int) {
    neuronUpdates[layer] &+= UInt64(n)
  }
  @inlinable public mutating func addSpikes(_ n: Int, layer: Int) {
    spikes[layer] &+= UInt64(n)
  }

  public var totalAccumulates: UInt64 { accumulates.reduce(0, &+) }
  public var totalMultiplyAccumulates: UInt64 { multiplyAccumulates.reduce(0, &+) }
  public var totalNeuronUpdates: UInt64 { neuronUpdates.reduce(0, &+) }
  public var totalSpikes: UInt64 { spikes.reduce(0, &+) }

  /// Adds another counter of the same layers (for reducing per-thread counters in a fixed
  /// order).
  public mutating func merge(_ other: SynOpCounter) {
    precondition(other.layerNames == layerNames, "merging counters of different layers")
    for i in 0..<layerNames.count {
      accumulates[i] &+= other.accumulates[i]
      multiplyAccumulates[i] &+= other.multiplyAccumulates[i]
      neuronUpdates[i] &+= other.neuronUpdates[i]
      spikes[i] &+= other.spikes[i]
    }
  }

  /// Sets every count to zero, keeping the layers.
  public mutating func reset() {
    self = SynOpCounter(layerNames: layerNames)
  }
}
