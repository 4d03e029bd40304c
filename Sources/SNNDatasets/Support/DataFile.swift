import SNNBase

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Whole-file reads for the loaders, with errors mapped to ``DatasetError``.
enum DataFile {
  /// Reads a whole file with one allocation of its size (N-MNIST has 70,000 small files,
  /// so per-file overhead matters).
  static func readBytes(_ path: String) throws(FileError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw systemError(path, .open) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw systemError(path, .stat) }
    if (info.st_mode & S_IFMT) == S_IFDIR {
      throw FileError(path: path, operation: .read, code: EISDIR, reason: "is a directory")
    }
    var capacity = Int(info.st_size) + 1
    var bytes = [UInt8]()
    while true {
      // Read up to the size plus one byte, to notice a file that grew since fstat.
      var failure: FileError? = nil
      let chunk = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
        var got = 0
        while got < buffer.count {
          let n = systemRead(fd, buffer.baseAddress! + got, buffer.count - got)
          if n < 0 {
            if errno == EINTR { continue }
            failure = systemError(path, .read)
            break
          }
          if n == 0 { break }
          got += n
        }
        initialized = got
      }
      if let failure { throw failure }
      if bytes.isEmpty { bytes = chunk } else { bytes += chunk }
      if chunk.count < capacity { return bytes }
      capacity *= 2
    }
  }

  static func read(_ path: String) throws(DatasetError) -> [UInt8] {
    do {
      return try readBytes(path)
    } catch {
      throw .file(error)
    }
  }

  /// Reads a file and, when it starts with the gzip magic bytes, decompresses it.
  static func readDecompressed(_ path: String, limit: Int = Deflate.defaultLimit)
    throws(DatasetError)
    -> [UInt8]
  {
    let bytes = try read(path)
    guard GZip.hasMagic(bytes) else { return bytes }
    do {
      return try GZip.decompress(bytes, path: path, limit: limit)
    } catch {
      throw .malformed(error)
    }
  }

  static func systemError(_ path: String, _ operation: FileError.Operation) -> FileError {
    let code = errno
    let reason = strerror(code).map { String(cString: $0) } ?? "error \(code)"
    return FileError(path: path, operation: operation, code: code, reason: reason)
  }
}

@inline(__always) private func systemRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int)
  -> Int
{
  read(fd, p, n)
}
