import SNN

/// Exit codes of `snn` (BSD sysexits where one fits).
public enum ExitCode {
  public static let success: Int32 = 0
  /// An unexpected failure.
  public static let failure: Int32 = 1
  /// The command line or a configuration value is wrong (EX_USAGE).
  public static let usage: Int32 = 64
  /// An input file exists but its contents are wrong (EX_DATAERR).
  public static let dataError: Int32 = 65
  /// An input file cannot be opened (EX_NOINPUT).
  public static let noInput: Int32 = 66
  /// An output file cannot be written (EX_CANTCREAT).
  public static let cannotCreate: Int32 = 73
  /// Reading or writing failed midway (EX_IOERR).
  public static let ioError: Int32 = 74
  /// Stopped by Ctrl-C (128 + SIGINT).
  public static let interrupted: Int32 = 130

  /// The exit code for an error thrown by a command. New error types of the library map
  /// here, in one place.
  public static func code(for error: any Error) -> Int32 {
    switch error {
    case is CommandLineError: return usage
    case is ConfigurationError: return usage
    case is JSONSyntaxError: return dataError
    case let error as FileError:
      switch error.operation {
      case .open, .stat: return error.code == 2 /* ENOENT */ ? noInput : ioError
      case .read: return ioError
      case .write, .sync, .rename, .remove: return cannotCreate
      }
    case let error as CheckpointError:
      if error.kind == .unreadable, let fileError = error.fileError { return code(for: fileError) }
      return dataError
    case is InterruptedError: return interrupted
    case let error as ChildProcessError: return error.exitCode ?? failure
    case is DataFormatError: return dataError
    case is DataVerificationFailure: return dataError
    case let error as DatasetError:
      switch error {
      case .notFound: return noInput
      case .file(let e): return code(for: e)
      case .malformed: return dataError
      }
    case let error as InputFileError:
      return error.underlying is ConfigurationError ? dataError : code(for: error.underlying)
    default: return failure
    }
  }

  /// The one-line message for an error.
  public static func message(for error: any Error) -> String {
    // `description` when the error has one (every typed error here does), else the default.
    String(describing: error)
  }
}

/// An error that happened while reading a named input file: prefixes the file's path to
/// the underlying message (e.g. a JSON syntax error or a configuration error in a network
/// file).
public struct InputFileError: Error, CustomStringConvertible {
  public var path: String
  public var underlying: any Error

  public init(path: String, underlying: any Error) {
    self.path = path
    self.underlying = underlying
  }

  public var description: String { "\(path): \(ExitCode.message(for: underlying))" }
}
