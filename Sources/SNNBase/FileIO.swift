// Whole-file reads and atomic writes without Foundation, for the numeric modules
// (checkpoints, caches). Writes go to a temporary file in the same directory, are flushed
// to disk, and are renamed over the destination: a reader sees the old file or the new
// one, never half of one.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

public enum FileIO {
  /// Reads a whole file.
  public static func read(_ path: String) throws(FileError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw systemError(path, .open) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw systemError(path, .stat) }
    if (info.st_mode & S_IFMT) == S_IFDIR {
      throw FileError(path: path, operation: .read, code: EISDIR, reason: "is a directory")
    }
    var bytes = [UInt8]()
    bytes.reserveCapacity(Int(info.st_size))
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        throw systemError(path, .read)
      }
      if n == 0 { break }
      bytes.append(contentsOf: chunk[0..<n])
    }
    return bytes
  }

  /// Writes `bytes` to `path` atomically (temporary file, fsync, rename).
  public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(FileError) {
    let temporary = path + ".tmp-\(getpid())"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    // Reported as a failure to write `path` (exit code "cannot create"), naming the file asked for.
    guard fd >= 0 else { throw systemError(path, .write) }
    var written = 0
    var failure: FileError?
    bytes.withUnsafeBytes { buffer in
      while written < buffer.count {
        let n = systemWrite(fd, buffer.baseAddress! + written, buffer.count - written)
        if n < 0 {
          if errno == EINTR { continue }
          failure = systemError(path, .write)
          return
        }
        written += n
      }
    }
    if failure == nil, fsync(fd) != 0 { failure = systemError(path, .sync) }
    close(fd)
    if failure == nil, rename(temporary, path) != 0 { failure = systemError(path, .rename) }
    if let failure {
      unlink(temporary)
      throw failure
    }
  }

  /// Writes UTF-8 text to `path` atomically.
  public static func writeAtomically(_ text: String, to path: String) throws(FileError) {
    try writeAtomically(Array(text.utf8), to: path)
  }

  /// Whether something exists at `path`.
  public static func exists(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0
  }

  /// Whether `path` is a directory.
  public static func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
  }

  static func systemError(_ path: String, _ operation: FileError.Operation) -> FileError {
    let code = errno
    let reason = strerror(code).map { String(cString: $0) } ?? "error \(code)"
    return FileError(path: path, operation: operation, code: code, reason: reason)
  }
}

// Inside `FileIO`, `read` names the static method; these reach the system calls.
@inline(__always) private func systemRead(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int) -> Int {
  read(fd, p, n)
}
@inline(__always) private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int {
  write(fd, p, n)
}
