/// Firing statistics of recorded spikes.
public enum SpikeStatistics {
  /// The mean firing rate in Hz of `neuronCount` neurons that emitted `spikeCount` spikes
  /// in `duration` ms.
  public static func meanRate(spikeCount: Int, neuronCount: Int, duration: Double) -> Double {
    guard neuronCount > 0, duration > 0 else { return 0 }
    return Double(spikeCount) / Double(neuronCount) / (duration / 1000)
  }

  /// The coefficient of variation of inter-spike intervals (standard deviation / mean),
  /// computed per neuron over neurons with at least three spikes and averaged; NaN when no
  /// neuron qualifies.
  public static func meanISICV(_ record: SpikeRecord, neurons: Range<Int>) -> Double {
    var last = [Double](repeating: .nan, count: neurons.count)
    var n = [Int](repeating: 0, count: neurons.count)
    var sum = [Double](repeating: 0, count: neurons.count)
    var sumSquares = [Double](repeating: 0, count: neurons.count)
    for k in record.times.indices {
      let i = Int(record.neurons[k]) - neurons.lowerBound
      guard i >= 0 && i < neurons.count else { continue }
      let t = record.times[k]
      if !last[i].isNaN {
        let isi = t - last[i]
        n[i] += 1
        sum[i] += isi
        sumSquares[i] += isi * isi
      }
      last[i] = t
    }
    var total = 0.0, counted = 0
    for i in 0..<neurons.count where n[i] >= 2 {
      let mean = sum[i] / Double(n[i])
      let variance = max(0, sumSquares[i] / Double(n[i]) - mean * mean)
      guard mean > 0 else { continue }
      total += variance.squareRoot() / mean
      counted += 1
    }
    return counted > 0 ? total / Double(counted) : .nan
  }
}
