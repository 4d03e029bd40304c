import SNNBase

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A folder of decoded datasets, so that a second load skips decompression and parsing.
///
/// **Keys.** A cache entry is keyed by a 64-bit XXH64 digest of a description of its
/// inputs: the loader and its format version, the transform parameters (e.g. first saccade
/// only), and the identity of the source files — the XXH64 of the contents of each source
/// file (gzip files, ZIP archives), or, for a folder of many small files (the N-MNIST
/// `Train/` layout, where hashing would read every file and cost as much as loading), the
/// list of relative paths with their sizes and modification times. Any change of source or
/// parameters gives a new key, so a stale entry is never found.
///
/// **File format** (`<kind>-<key as 16 hex digits>.snncache`, little-endian):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 8 | magic `SNNCACHE` |
/// | 8 | 4 | format version (``formatVersion``) |
/// | 12 | 4 | zero |
/// | 16 | 8 | key digest |
/// | 24 | 8 | payload length in bytes |
/// | 32 | 8 | XXH64 of the payload |
/// | 40 | 8 | XXH64 of bytes 0..<40 |
/// | 48 | 16 | zero |
/// | 64 | … | payload |
///
/// Reading validates all of it; a file that fails any check is reported as rejected (and
/// the caller rebuilds and overwrites it), never trusted. Files are written atomically
/// (temporary file, fsync, rename), so a crash leaves the old entry or none.
public struct DatasetCache: Sendable, Equatable {
  public static let magic: [UInt8] = Array("SNNCACHE".utf8)
  /// Bumped whenever a payload layout changes; older files are then rejected.
  public static let formatVersion: UInt32 = 1
  public static let headerSize = 64
  /// The environment variable that overrides the default folder.
  public static let environmentVariable = "SNN_CACHE"

  /// The folder holding cache files.
  public var directory: String

  /// A cache in `directory` (created on the first write).
  public init(directory: String) {
    self.directory = DataRoot.trimmingTrailingSlashes(directory)
  }

  /// `SNN_CACHE` if set, else `$HOME/.snn/cache` (the data folder may be read-only).
  public static func defaultDirectory(environment: [String: String]) -> String {
    if let dir = environment[environmentVariable], !dir.isEmpty { return dir }
    let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "."
    return DataRoot.trimmingTrailingSlashes(home) + "/.snn/cache"
  }

  /// What a cache entry is for and the digest of its inputs.
  public struct Key: Sendable, Equatable, CustomStringConvertible {
    /// A file-name-safe label such as `mnist-train`.
    public var kind: String
    /// XXH64 of the description of the inputs.
    public var digest: UInt64

    public init(kind: String, digest: UInt64) {
      self.kind = kind
      self.digest = digest
    }

    /// Builds a key from a description of the inputs (one `name=value` line per item).
    public init(kind: String, description: String) {
      self.kind = kind
      self.digest = XXH64.hash(Array(("kind=\(kind)\n" + description).utf8))
    }

    public var description: String { "\(kind)-\(hex(digest, digits: 16).dropFirst(2))" }
  }

  /// What happened when a loader consulted the cache.
  public enum Outcome: Sendable, Equatable, CustomStringConvertible {
    /// The entry was valid and used.
    case hit
    /// The entry was missing or rejected (reason given) and was rebuilt and written.
    case rebuilt(reason: String)
    /// The data was rebuilt but the entry could not be written (reason given).
    case notWritten(reason: String)

    public var description: String {
      switch self {
      case .hit: return "cache hit"
      case .rebuilt(let reason): return "cache rebuilt (\(reason))"
      case .notWritten(let reason): return "cache not written (\(reason))"
      }
    }
  }

  /// The file of `key`.
  public func path(for key: Key) -> String { directory + "/" + key.description + ".snncache" }

  /// The payload of `key`'s entry, or the reason it cannot be used.
  public func read(_ key: Key) -> Result<[UInt8], CacheRejection> {
    validated(key).map {
      Array(UnsafeRawBufferPointer(rebasing: $0.bytes[DatasetCache.headerSize...]))
    }
  }

  /// The mapped file of `key`'s entry after every check passed.
  func validated(_ key: Key) -> Result<ByteSource, CacheRejection> {
    let path = path(for: key)
    guard FileIO.exists(path) else { return .failure(CacheRejection("no entry")) }
    let source: ByteSource
    do {
      source = try ByteSource(mapping: path)
    } catch {
      return .failure(CacheRejection("unreadable: \(error.reason)"))
    }
    let bytes = source.bytes
    guard bytes.count >= DatasetCache.headerSize else {
      return .failure(CacheRejection("truncated header (\(bytes.count) bytes)"))
    }
    var header = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[0..<DatasetCache.headerSize]))
    guard Array(header.take(8)!) == DatasetCache.magic else {
      return .failure(CacheRejection("bad magic"))
    }
    let version = header.u32()!
    guard version == DatasetCache.formatVersion else {
      return .failure(
        CacheRejection("format version \(version), expected \(DatasetCache.formatVersion)"))
    }
    _ = header.u32()
    let digest = header.u64()!
    let length = header.u64()!
    let payloadHash = header.u64()!
    let headerHash = header.u64()!
    guard headerHash == XXH64.hash(UnsafeRawBufferPointer(rebasing: bytes[0..<40])) else {
      return .failure(CacheRejection("header checksum mismatch"))
    }
    guard digest == key.digest else { return .failure(CacheRejection("key mismatch")) }
    guard length == UInt64(bytes.count - DatasetCache.headerSize) else {
      return .failure(
        CacheRejection(
          "payload length \(length), file holds \(bytes.count - DatasetCache.headerSize)"))
    }
    let payload = UnsafeRawBufferPointer(rebasing: bytes[DatasetCache.headerSize...])
    guard XXH64.hash(payload) == payloadHash else {
      return .failure(CacheRejection("payload checksum mismatch"))
    }
    return .success(source)
  }

  /// Writes `payload` as `key`'s entry (atomically), creating the folder if needed.
  public func write(_ key: Key, payload: [UInt8]) throws(FileError) {
    try DatasetCache.makeDirectories(directory)
    var header = ByteWriter(capacity: DatasetCache.headerSize + payload.count)
    header.bytes += DatasetCache.magic
    header.u32(DatasetCache.formatVersion)
    header.u32(0)
    header.u64(key.digest)
    header.u64(UInt64(payload.count))
    header.u64(XXH64.hash(payload))
    header.u64(XXH64.hash(header.bytes))
    header.bytes += [UInt8](repeating: 0, count: 16)
    header.bytes += payload
    try FileIO.writeAtomically(header.bytes, to: path(for: key))
  }

  /// Loads through the cache: the payload of a valid entry is decoded by `decode`; a
  /// missing, stale or corrupt entry (or one `decode` rejects) is rebuilt with `build`,
  /// encoded and written back.
  public func load<Value>(
    _ key: Key, decode: (UnsafeRawBufferPointer) -> Value?, encode: (Value) -> [UInt8],
    build: () throws(DatasetError) -> Value
  ) throws(DatasetError) -> (value: Value, outcome: Outcome) {
    var reason: String
    switch validated(key) {
    case .success(let source):
      if let value = decode(
        UnsafeRawBufferPointer(rebasing: source.bytes[DatasetCache.headerSize...]))
      {
        return (value, .hit)
      }
      reason = "payload malformed"
    case .failure(let rejection):
      reason = rejection.reason
    }
    let value = try build()
    do {
      try write(key, payload: encode(value))
      return (value, .rebuilt(reason: reason))
    } catch {
      return (value, .notWritten(reason: error.description))
    }
  }

  static func makeDirectories(_ path: String) throws(FileError) {
    var prefix = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
      prefix += "/" + part
      if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
        let code = errno
        throw FileError(
          path: prefix, operation: .write, code: code,
          reason: strerror(code).map { String(cString: $0) } ?? "error \(code)")
      }
    }
    guard FileIO.isDirectory(path) else {
      throw FileError(path: path, operation: .write, code: ENOTDIR, reason: "not a directory")
    }
  }
}

/// Why a cache entry was not used.
public struct CacheRejection: Error, Equatable, Sendable {
  public var reason: String
  public init(_ reason: String) { self.reason = reason }
}
