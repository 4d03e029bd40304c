import SNNBase

/// The binary container of checkpoints: a JSON header and named Float32 blobs, protected by
/// a declared length and a CRC-32.
///
/// Layout (all integers little-endian):
///
/// | offset | size | content |
/// |---|---|---|
/// | 0 | 8 | magic `89 53 4E 4E 43 4B 50 54` (`\x89SNNCKPT`) |
/// | 8 | 4 | format version (UInt32, currently 1) |
/// | 12 | 8 | total file length in bytes, including the checksum (UInt64) |
/// | 20 | 4 | header length H (UInt32) |
/// | 24 | H | header: a UTF-8 JSON object |
/// | 24+H | 4 | blob count N (UInt32) |
/// | … | | N blobs: name length L (UInt32), L bytes UTF-8 name, rank R (UInt32, ≤ 8), R dimensions (UInt64 each), then ∏dims Float32 values |
/// | length−4 | 4 | CRC-32 (zlib's) of every byte before it |
///
/// Reading checks, in order: the magic, the version, the declared length against the
/// file's size (shorter: ``CheckpointError/Kind/truncated``; longer:
/// ``CheckpointError/Kind/trailingData``), the checksum, then the structure. So a
/// truncated or corrupted file is always rejected with a typed error before anything is
/// decoded, and a decoded file is all there.
public enum CheckpointFile {
  public static let magic: [UInt8] = [0x89, 0x53, 0x4E, 0x4E, 0x43, 0x4B, 0x50, 0x54]
  public static let version: UInt32 = 1
  /// Bytes before the header: magic, version, length, header length.
  public static let preambleLength = 24
  static let maximumHeaderLength = 64 << 20
  static let maximumBlobCount = 1 << 20
  static let maximumNameLength = 4096
  static let maximumRank = 8

  /// The file's bytes.
  public static func encode(header: JSONValue, blobs: [TensorBlob]) -> [UInt8] {
    let headerBytes = Array(header.rendered(pretty: true).utf8)
    var size = preambleLength + headerBytes.count + 4 + 4
    for blob in blobs {
      size += 8 + blob.name.utf8.count + 8 * blob.shape.count + 4 * blob.values.count
    }
    var out = [UInt8]()
    out.reserveCapacity(size)
    out += magic
    append(version, to: &out)
    append(UInt64(size), to: &out)
    append(UInt32(headerBytes.count), to: &out)
    out += headerBytes
    append(UInt32(blobs.count), to: &out)
    for blob in blobs {
      let name = Array(blob.name.utf8)
      append(UInt32(name.count), to: &out)
      out += name
      append(UInt32(blob.shape.count), to: &out)
      for d in blob.shape { append(UInt64(d), to: &out) }
      #if _endian(little)
        blob.values.withUnsafeBytes { out.append(contentsOf: $0) }
      #else
        for v in blob.values { append(v.bitPattern, to: &out) }
      #endif
    }
    append(CRC32.checksum(out), to: &out)
    assert(out.count == size)
    return out
  }

  /// Writes a checkpoint atomically (temporary file, fsync, rename): a reader sees the old
  /// file or the new one, never part of one.
  public static func write(header: JSONValue, blobs: [TensorBlob], to path: String)
    throws(FileError)
  {
    try FileIO.writeAtomically(encode(header: header, blobs: blobs), to: path)
  }

  /// Reads and validates a checkpoint file.
  public static func read(_ path: String) throws(CheckpointError) -> (
    header: JSONValue, blobs: [TensorBlob]
  ) {
    let bytes: [UInt8]
    do {
      bytes = try FileIO.read(path)
    } catch {
      throw CheckpointError(
        .unreadable, path: path, field: "file", expected: "a readable file",
        found: error.reason, fileError: error)
    }
    return try decode(bytes, path: path)
  }

  /// Validates and decodes a checkpoint's bytes; `path` names it in errors.
  public static func decode(_ bytes: [UInt8], path: String) throws(CheckpointError)
    -> (header: JSONValue, blobs: [TensorBlob])
  {
    func truncated(_ field: String, needed: Int) -> CheckpointError {
      CheckpointError(
        .truncated, path: path, field: field, offset: bytes.count,
        expected: "at least \(needed) bytes", found: "\(bytes.count) bytes")
    }
    guard bytes.count >= 8 else { throw truncated("magic", needed: 8) }
    guard Array(bytes[0..<8]) == magic else {
      throw CheckpointError(
        .badMagic, path: path, field: "magic", offset: 0, expected: hex(magic),
        found: hex(Array(bytes[0..<8])))
    }
    guard bytes.count >= 12 else { throw truncated("version", needed: 12) }
    let fileVersion = load(UInt32.self, bytes, 8)
    guard fileVersion == version else {
      throw CheckpointError(
        .unsupportedVersion, path: path, field: "version", offset: 8, expected: "\(version)",
        found: "\(fileVersion)")
    }
    guard bytes.count >= 20 else { throw truncated("file length", needed: 20) }
    let declared = load(UInt64.self, bytes, 12)
    let minimum = UInt64(preambleLength + 8)
    guard declared >= minimum else {
      throw CheckpointError(
        .invalidHeader, path: path, field: "file length", offset: 12,
        expected: "at least \(minimum)", found: "\(declared)")
    }
    guard UInt64(bytes.count) >= declared else {
      throw CheckpointError(
        .truncated, path: path, field: "file length", offset: bytes.count,
        expected: "\(declared) bytes (as declared at byte 12)", found: "\(bytes.count) bytes")
    }
    guard UInt64(bytes.count) == declared else {
      throw CheckpointError(
        .trailingData, path: path, field: "file length", offset: Int(declared),
        expected: "\(declared) bytes (as declared at byte 12)", found: "\(bytes.count) bytes")
    }
    let end = bytes.count - 4
    let stored = load(UInt32.self, bytes, end)
    let computed = bytes.withUnsafeBytes {
      CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<end]))
    }
    guard stored == computed else {
      throw CheckpointError(
        .checksumMismatch, path: path, field: "checksum", offset: end,
        expected: hex32(computed) + " (CRC-32 of bytes 0..<\(end))", found: hex32(stored))
    }

    var cursor = Cursor(bytes: bytes, end: end, path: path, position: 20)
    let headerLength = Int(try cursor.u32("header length"))
    guard headerLength <= maximumHeaderLength else {
      throw cursor.invalid(
        .invalidHeader, "header length", expected: "at most \(maximumHeaderLength) bytes",
        found: "\(headerLength)", at: 20)
    }
    let headerStart = cursor.position
    let headerBytes = try cursor.bytes(headerLength, "header")
    let header: JSONValue
    do {
      header = try JSONValue.parse(headerBytes)
    } catch {
      throw CheckpointError(
        .invalidHeader, path: path, field: "header", offset: headerStart + error.offset,
        expected: "a JSON object", found: "a syntax error: \(error.message)")
    }
    guard header.objectMembers != nil else {
      throw CheckpointError(
        .invalidHeader, path: path, field: "header", offset: headerStart,
        expected: "a JSON object", found: header.kindName)
    }
    let countOffset = cursor.position
    let blobCount = Int(try cursor.u32("blob count"))
    guard blobCount <= maximumBlobCount else {
      throw cursor.invalid(
        .invalidBlob, "blob count", expected: "at most \(maximumBlobCount)", found: "\(blobCount)",
        at: countOffset)
    }
    var blobs: [TensorBlob] = []
    var names = Set<String>()
    for index in 0..<blobCount {
      let recordStart = cursor.position
      let label = "blob #\(index + 1)"
      let nameLength = Int(try cursor.u32("\(label) name length"))
      guard nameLength > 0, nameLength <= maximumNameLength else {
        throw cursor.invalid(
          .invalidBlob, "\(label) name length", expected: "1...\(maximumNameLength)",
          found: "\(nameLength)", at: recordStart)
      }
      let nameBytes = try cursor.bytes(nameLength, "\(label) name")
      guard let name = String(validating: nameBytes, as: UTF8.self) else {
        throw cursor.invalid(
          .invalidBlob, "\(label) name", expected: "UTF-8 text", found: "invalid UTF-8",
          at: recordStart + 4)
      }
      guard names.insert(name).inserted else {
        throw cursor.invalid(
          .invalidBlob, "blob '\(name)'", expected: "a unique name",
          found: "a second blob of that name", at: recordStart)
      }
      let rankOffset = cursor.position
      let rank = Int(try cursor.u32("blob '\(name)' rank"))
      guard rank <= maximumRank else {
        throw cursor.invalid(
          .invalidBlob, "blob '\(name)' rank", expected: "at most \(maximumRank)", found: "\(rank)",
          at: rankOffset)
      }
      var shape: [Int] = []
      var count = 1
      for d in 0..<rank {
        let dimensionOffset = cursor.position
        let dimension = try cursor.u64("blob '\(name)' dimension \(d)")
        let remaining = UInt64((end - cursor.position) / 4)
        guard dimension <= remaining else {
          throw cursor.invalid(
            .invalidBlob, "blob '\(name)' dimension \(d)",
            expected: "at most \(remaining) (the values left in the file)", found: "\(dimension)",
            at: dimensionOffset)
        }
        let (product, overflow) = count.multipliedReportingOverflow(by: Int(dimension))
        guard !overflow, product <= Int(remaining) else {
          throw cursor.invalid(
            .invalidBlob, "blob '\(name)' shape",
            expected: "at most \(remaining) values (what is left in the file)", found: "more",
            at: dimensionOffset)
        }
        count = product
        shape.append(Int(dimension))
      }
      let dataOffset = cursor.position
      guard cursor.remaining >= 4 * count else {
        throw cursor.invalid(
          .invalidBlob, "blob '\(name)' values", expected: "\(4 * count) bytes",
          found: "\(cursor.remaining) bytes before the checksum", at: dataOffset)
      }
      var values = [Float](repeating: 0, count: count)
      bytes.withUnsafeBytes { raw in
        values.withUnsafeMutableBufferPointer { v in
          for i in 0..<count {
            v[i] = Float(
              bitPattern: raw.loadUnaligned(fromByteOffset: dataOffset + 4 * i, as: UInt32.self)
                .littleEndian)
          }
        }
      }
      cursor.position += 4 * count
      blobs.append(TensorBlob(name: name, shape: shape, values: values))
    }
    guard cursor.position == end else {
      throw cursor.invalid(
        .invalidBlob, "blobs", expected: "the checksum after blob #\(blobCount)",
        found: "\(end - cursor.position) more bytes", at: cursor.position)
    }
    return (header, blobs)
  }

  // MARK: Helpers

  private struct Cursor {
    let bytes: [UInt8]
    let end: Int
    let path: String
    var position: Int

    var remaining: Int { end - position }

    func invalid(
      _ kind: CheckpointError.Kind, _ field: String, expected: String, found: String, at offset: Int
    ) -> CheckpointError {
      CheckpointError(
        kind, path: path, field: field, offset: offset, expected: expected, found: found)
    }

    mutating func need(_ n: Int, _ field: String) throws(CheckpointError) {
      guard n <= remaining else {
        throw invalid(
          .invalidBlob, field, expected: "\(n) more bytes",
          found: "\(remaining) bytes before the checksum", at: position)
      }
    }

    mutating func u32(_ field: String) throws(CheckpointError) -> UInt32 {
      try need(4, field)
      defer { position += 4 }
      return CheckpointFile.load(UInt32.self, bytes, position)
    }

    mutating func u64(_ field: String) throws(CheckpointError) -> UInt64 {
      try need(8, field)
      defer { position += 8 }
      return CheckpointFile.load(UInt64.self, bytes, position)
    }

    mutating func bytes(_ n: Int, _ field: String) throws(CheckpointError) -> [UInt8] {
      try need(n, field)
      defer { position += n }
      return Array(bytes[position..<(position + n)])
    }
  }

  static func load<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], _ offset: Int) -> T {
    bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
  }

  private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
  }

  private static func hex(_ bytes: [UInt8]) -> String {
    bytes.map { b in
      let s = String(b, radix: 16, uppercase: true)
      return s.count == 1 ? "0" + s : s
    }.joined(separator: " ")
  }

  private static func hex32(_ v: UInt32) -> String {
    let s = String(v, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: 8 - s.count) + s
  }
}
