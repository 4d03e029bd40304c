import SNNBase

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Read-only bytes of a file mapped into memory (large archives are not copied), or of an
/// in-memory array (tests, fuzzing).
final class ByteSource: @unchecked Sendable {
  let bytes: UnsafeRawBufferPointer
  private let mapped: Bool

  /// Maps the file at `path` read-only.
  init(mapping path: String) throws(FileError) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ByteSource.systemError(path, .open) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw ByteSource.systemError(path, .stat) }
    if (info.st_mode & S_IFMT) == S_IFDIR {
      throw FileError(path: path, operation: .read, code: EISDIR, reason: "is a directory")
    }
    let size = Int(info.st_size)
    if size == 0 {
      bytes = UnsafeRawBufferPointer(start: nil, count: 0)
      mapped = false
      return
    }
    guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
      throw ByteSource.systemError(path, .read)
    }
    bytes = UnsafeRawBufferPointer(start: address, count: size)
    mapped = true
  }

  /// Copies `array`.
  init(copying array: [UInt8]) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(
      byteCount: max(array.count, 1), alignment: 16)
    array.withUnsafeBytes { buffer.copyMemory(from: $0) }
    bytes = UnsafeRawBufferPointer(start: buffer.baseAddress, count: array.count)
    mapped = false
  }

  deinit {
    if mapped {
      munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
    } else if let base = bytes.baseAddress {
      base.deallocate()
    }
  }

  var count: Int { bytes.count }

  private static func systemError(_ path: String, _ operation: FileError.Operation) -> FileError {
    let code = errno
    let reason = strerror(code).map { String(cString: $0) } ?? "error \(code)"
    return FileError(path: path, operation: operation, code: code, reason: reason)
  }
}

/// Directory listing without Foundation.
enum Directory {
  struct Item: Equatable {
    var name: String
    var isDirectory: Bool
  }

  /// The entries of `path` except `.` and `..`, in no particular order.
  static func list(_ path: String) throws(FileError) -> [Item] {
    guard let dir = opendir(path) else {
      let code = errno
      throw FileError(
        path: path, operation: .open, code: code,
        reason: strerror(code).map { String(cString: $0) } ?? "error \(code)")
    }
    defer { closedir(dir) }
    var items: [Item] = []
    while let entry = readdir(dir) {
      let name = withUnsafePointer(to: &entry.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
      }
      if name == "." || name == ".." { continue }
      items.append(Item(name: name, isDirectory: FileIO.isDirectory(path + "/" + name)))
    }
    return items
  }

  /// Deletes a file, or a folder with everything below it. Returns whether nothing is left at
  /// `path` (a missing path counts as removed). Symbolic links are removed, not followed.
  @discardableResult
  static func removeTree(_ path: String) -> Bool {
    var info = stat()
    guard lstat(path, &info) == 0 else { return errno == ENOENT }
    if (info.st_mode & S_IFMT) == S_IFDIR {
      for item in (try? list(path)) ?? [] { removeTree(path + "/" + item.name) }
      return rmdir(path) == 0
    }
    return unlink(path) == 0
  }
}

/// The names in a directory (for tools that need to look at a dataset folder).
public enum DirectoryListing {
  /// The entry names of `path` (without `.` and `..`), sorted.
  public static func names(_ path: String) throws(FileError) -> [String] {
    try Directory.list(path).map(\.name).sorted()
  }
}
