import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Set by the SIGINT handler while a long command runs.
private let interruptRequested = Atomic<Bool>(false)

/// Ctrl-C handling for long commands: the first SIGINT sets a flag the command polls (e.g.
/// `snn train` stops at the next batch boundary and writes its checkpoint); the handler
/// then restores the default action, so a second Ctrl-C ends the process at once.
enum InterruptHandler {
  /// Installs the handler and clears the flag.
  static func install() {
    interruptRequested.store(false, ordering: .relaxed)
    signal(SIGINT) { _ in
      interruptRequested.store(true, ordering: .relaxed)
      signal(SIGINT, SIG_DFL)
    }
  }

  /// Restores the default action.
  static func uninstall() { signal(SIGINT, SIG_DFL) }

  /// Whether SIGINT arrived since ``install()``.
  static var requested: Bool { interruptRequested.load(ordering: .relaxed) }
}

/// A run stopped by Ctrl-C (exit code 130, as a shell reports a process ended by SIGINT).
public struct InterruptedError: Error, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}
