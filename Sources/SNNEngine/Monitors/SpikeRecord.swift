/// Recorded spikes: parallel arrays of times (ms) and global neuron IDs, in emission order
/// (which is time order).
public struct SpikeRecord: Sendable, Equatable {
  public var times: [Double] = []
  public var neurons: [Int32] = []

  public init() {}

  public var count: Int { times.count }

  @inlinable
  public mutating func append(time: Double, neuron: Int) {
    times.append(time)
    neurons.append(Int32(truncatingIfNeeded: neuron))
  }

  /// A 64-bit FNV-1a checksum of every (time bit pattern, neuron) pair: equal checksums
  /// mean bit-identical spike trains (with overwhelming probability).
  public var checksum: UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    @inline(__always) func mix(_ v: UInt64) {
      var x = v
      for _ in 0..<8 {
        h ^= x & 0xff
        h = h &* 0x100_0000_01b3
        x >>= 8
      }
    }
    for k in times.indices {
      mix(times[k].bitPattern)
      mix(UInt64(UInt32(bitPattern: neurons[k])))
    }
    return h
  }

  /// Spike times of each neuron in `range` (global IDs), in order.
  public func trains(for range: Range<Int>) -> [[Double]] {
    var out = Array(repeating: [Double](), count: range.count)
    for k in times.indices {
      let n = Int(neurons[k])
      if range.contains(n) { out[n - range.lowerBound].append(times[k]) }
    }
    return out
  }
}

/// Samples of membrane potentials at regular times.
public struct StateProbeRecord: Sendable {
  /// The probed neurons (global IDs).
  public var neurons: [Int]
  /// Sample times (ms).
  public var times: [Double] = []
  /// `values[k][i]`: neuron `neurons[i]` at `times[k]` (mV).
  public var values: [[Double]] = []
}
