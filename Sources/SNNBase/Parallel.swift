import Dispatch

/// Data-parallel loops over the machine's cores.
///
/// Work is split into a fixed number of contiguous chunks that depends only on the item
/// count and `threads`, never on scheduling, so that any per-chunk reduction done in chunk
/// order is reproducible bit for bit.
public enum Parallel {
  /// The default number of worker threads: the number of online cores, unless changed by
  /// ``setDefaultThreads(_:)`` (the command line's `--threads`).
  nonisolated(unsafe) public private(set) static var defaultThreads: Int = ResourceUsage.processorCount

  /// Sets the default thread count for the process (the command line's `--threads`).
  public static func setDefaultThreads(_ n: Int) {
    precondition(n >= 1, "threads must be at least 1")
    defaultThreads = n
  }

  /// Runs `body(chunk, range)` for `chunks` contiguous, near-equal ranges covering
  /// `0..<count`, on up to `threads` threads. With one chunk, runs inline.
  @inlinable
  public static func forEachChunk(
    count: Int, chunks requested: Int = defaultThreads,
    _ body: (_ chunk: Int, _ range: Range<Int>) -> Void
  ) {
    guard count > 0 else { return }
    let chunks = max(1, min(requested, count))
    if chunks == 1 {
      body(0, 0..<count)
      return
    }
    // The body runs only while this call is on the stack; callers share unsafe buffers
    // across chunks, which is why it is not required to be `@Sendable`.
    withoutActuallyEscaping(body) { body in
      let unchecked = UncheckedSendable(body)
      DispatchQueue.concurrentPerform(iterations: chunks) { c in
        unchecked.value(c, chunkRange(c, of: chunks, count: count))
      }
    }
  }

  /// Runs `body(i)` for i in 0..<iterations on up to `threads` threads (inline when 1).
  @inlinable
  public static func forEach(iterations: Int, threads: Int = defaultThreads, _ body: (Int) -> Void) {
    guard iterations > 0 else { return }
    if threads <= 1 || iterations == 1 {
      for i in 0..<iterations { body(i) }
      return
    }
    withoutActuallyEscaping(body) { body in
      let unchecked = UncheckedSendable(body)
      DispatchQueue.concurrentPerform(iterations: iterations) { unchecked.value($0) }
    }
  }

  /// The `chunk`-th of `chunks` contiguous near-equal ranges of `0..<count`.
  @inlinable
  public static func chunkRange(_ chunk: Int, of chunks: Int, count: Int) -> Range<Int> {
    let base = count / chunks, extra = count % chunks
    let start = chunk * base + min(chunk, extra)
    return start..<(start + base + (chunk < extra ? 1 : 0))
  }
}

/// Wraps a value that is shared across threads under the caller's own synchronization
/// (disjoint writes, or a join before any read).
public struct UncheckedSendable<Value>: @unchecked Sendable {
  public var value: Value
  @inlinable public init(_ value: Value) { self.value = value }
}
