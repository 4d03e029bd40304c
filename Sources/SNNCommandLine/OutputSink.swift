#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A text destination: a file descriptor, or a string buffer in tests.
public protocol OutputSink: AnyObject {
  func write(_ text: String)
  func flush()
}

/// Writes to a file descriptor (1 = standard output, 2 = standard error), unbuffered so
/// that progress lines and errors appear at once and interleave correctly.
public final class FileDescriptorSink: OutputSink {
  public let descriptor: Int32

  public init(descriptor: Int32) { self.descriptor = descriptor }

  public func write(_ text: String) {
    var text = text
    text.withUTF8 { buffer in
      var offset = 0
      while offset < buffer.count {
        let n = systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
        if n <= 0 {
          if n < 0 && errno == EINTR { continue }
          return  // closed pipe: nothing sensible to do
        }
        offset += n
      }
    }
  }

  public func flush() {}

  /// Whether the descriptor is a terminal.
  public var isTerminal: Bool { isatty(descriptor) == 1 }
}

/// Collects everything written, for tests.
public final class StringSink: OutputSink {
  public private(set) var text = ""
  public init() {}
  public func write(_ text: String) { self.text += text }
  public func flush() {}
}

@inline(__always) private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
  write(fd, p, n)
}
