import SNNBase

/// Timing for `snn bench` commands: warm-up runs, then repeated timed samples, reported
/// as median and best.
///
/// The machine is shared, so a single run means little: the median is the figure to
/// quote, the best shows what the code does when nothing else runs. A sample that would
/// take less than `minimumSampleSeconds` repeats the body several times and divides, so
/// that clock resolution and call overhead do not dominate tiny kernels.
public struct BenchmarkTimer {
  public var warmup: Int
  public var samples: Int
  public var minimumSampleSeconds: Double

  public init(warmup: Int = 2, samples: Int = 10, minimumSampleSeconds: Double = 0.002) {
    precondition(samples >= 1, "at least one sample")
    self.warmup = warmup
    self.samples = samples
    self.minimumSampleSeconds = minimumSampleSeconds
  }

  /// The seconds per call of `body` in each sample.
  public struct Result: Sendable {
    /// Seconds per call, one entry per sample, in the order measured.
    public var seconds: [Double]
    /// Calls per sample.
    public var callsPerSample: Int

    public var median: Double {
      let sorted = seconds.sorted()
      let mid = sorted.count / 2
      return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    public var best: Double { seconds.min() ?? .nan }
  }

  /// Times `body`.
  public func measure(_ body: () -> Void) -> Result {
    for _ in 0..<warmup { body() }
    // Calibrate: how many calls make one sample long enough.
    var calls = 1
    while true {
      let watch = Stopwatch()
      for _ in 0..<calls { body() }
      let elapsed = watch.elapsedSeconds
      if elapsed >= minimumSampleSeconds || calls >= 1 << 20 { break }
      calls *= max(2, min(16, Int(minimumSampleSeconds / max(elapsed, 1e-9))))
    }
    var seconds: [Double] = []
    seconds.reserveCapacity(samples)
    for _ in 0..<samples {
      let watch = Stopwatch()
      for _ in 0..<calls { body() }
      seconds.append(watch.elapsedSeconds / Double(calls))
    }
    return Result(seconds: seconds, callsPerSample: calls)
  }
}
