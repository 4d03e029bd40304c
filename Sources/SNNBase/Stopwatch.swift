#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Wall-clock intervals from the monotonic clock, in seconds.
public struct Stopwatch: Sendable {
  private var start: ContinuousClock.Instant

  public init() { start = ContinuousClock.now }

  /// Seconds since creation or the last `restart()`.
  public var elapsedSeconds: Double {
    let d = ContinuousClock.now - start
    let parts = d.components
    return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
  }

  public mutating func restart() { start = ContinuousClock.now }

  /// Runs `body` and returns its result with the seconds it took.
  public static func measure<T>(_ body: () throws -> T) rethrows -> (result: T, seconds: Double) {
    let watch = Stopwatch()
    let result = try body()
    return (result, watch.elapsedSeconds)
  }
}

/// Process resource usage.
public enum ResourceUsage {
  /// The peak resident set size of this process so far, in bytes (Linux: `VmHWM`, via
  /// `getrusage`'s `ru_maxrss`).
  public static func peakResidentBytes() -> Int {
    var usage = rusage()
    #if os(Linux)
      let who = __rusage_who_t(RUSAGE_SELF.rawValue)
    #else
      let who = RUSAGE_SELF
    #endif
    guard getrusage(who, &usage) == 0 else { return 0 }
    #if canImport(Darwin)
      return Int(usage.ru_maxrss)  // bytes on Darwin
    #else
      return Int(usage.ru_maxrss) * 1024  // kilobytes on Linux
    #endif
  }

  /// The current resident set size in bytes (Linux `/proc/self/statm`; 0 where unknown).
  public static func currentResidentBytes() -> Int {
    #if os(Linux)
      guard let bytes = try? FileIO.read("/proc/self/statm") else { return 0 }
      let fields = String(decoding: bytes, as: UTF8.self).split(separator: " ")
      guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
      return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    #else
      return 0
    #endif
  }

  /// The number of CPU cores available to this process.
  public static var processorCount: Int {
    Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
  }
}

/// CPU time consumed, from the kernel's per-thread and per-process clocks. On a shared
/// machine, CPU time is a steadier measure of work than wall-clock time (another process
/// taking the core does not count), so benchmarks report both.
public enum CPUTime {
  /// Seconds of CPU time used by the calling thread.
  public static func threadSeconds() -> Double { seconds(CLOCK_THREAD_CPUTIME_ID) }

  /// Seconds of CPU time used by all threads of the process.
  public static func processSeconds() -> Double { seconds(CLOCK_PROCESS_CPUTIME_ID) }

  static func seconds(_ clock: clockid_t) -> Double {
    var spec = timespec()
    guard clock_gettime(clock, &spec) == 0 else { return 0 }
    return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
  }
}
