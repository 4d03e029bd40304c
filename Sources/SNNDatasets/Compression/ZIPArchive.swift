import SNNBase

/// A ZIP archive read in place (PKWARE APPNOTE 6.3): stored and deflated members.
///
/// Opening reads the end-of-central-directory record (searched backwards from the end, past
/// a comment of up to 65,535 bytes) and the central directory; `extract` reads a member's
/// local header, inflates or copies its data and checks the size and CRC-32 recorded in
/// the central directory. ZIP64 archives, multi-disk archives and encrypted members are
/// recognised and rejected with `.unsupported`; other compression methods too. Archives on
/// disk are memory-mapped, so a 1 GB archive is not read into memory up front.
public final class ZIPArchive: @unchecked Sendable {
  /// One member as the central directory describes it.
  public struct Entry: Sendable, Equatable {
    /// The stored name (`Train/0/00002.bin`); directories end in `/`.
    public var name: String
    /// 0 = stored, 8 = deflated.
    public var method: UInt16
    /// General-purpose flags (bit 0 encrypted, bit 3 sizes in a data descriptor).
    public var flags: UInt16
    /// CRC-32 of the uncompressed contents.
    public var crc32: UInt32
    /// Bytes of (compressed) data in the archive.
    public var compressedSize: Int
    /// Bytes of contents after extraction.
    public var uncompressedSize: Int
    /// Offset of the member's local header in the archive.
    public var localHeaderOffset: Int

    public var isDirectory: Bool { name.hasSuffix("/") }
  }

  /// The archive's path (used in errors).
  public let path: String
  /// Members in central-directory order.
  public let entries: [Entry]
  private let source: ByteSource

  /// Opens the archive at `path` (memory-mapped).
  public convenience init(path: String) throws(DatasetError) {
    let source: ByteSource
    do {
      source = try ByteSource(mapping: path)
    } catch {
      throw .file(error)
    }
    do {
      try self.init(source: source, path: path)
    } catch {
      throw .malformed(error)
    }
  }

  /// Opens an archive held in memory.
  public convenience init(bytes: [UInt8], path: String = "") throws(DataFormatError) {
    try self.init(source: ByteSource(copying: bytes), path: path)
  }

  init(source: ByteSource, path: String) throws(DataFormatError) {
    self.source = source
    self.path = path
    self.entries = try ZIPArchive.readCentralDirectory(source.bytes, path: path)
  }

  /// The archive's size in bytes.
  public var byteCount: Int { source.count }

  static let endSignature: UInt32 = 0x0605_4B50
  static let zip64LocatorSignature: UInt32 = 0x0706_4B50
  static let centralSignature: UInt32 = 0x0201_4B50
  static let localSignature: UInt32 = 0x0403_4B50

  private static func readCentralDirectory(_ bytes: UnsafeRawBufferPointer, path: String)
    throws(DataFormatError) -> [Entry]
  {
    let n = bytes.count
    func u16(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 }
    func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
    guard n >= 22 else {
      throw DataFormatError(
        path: path, offset: 0,
        kind: n >= 4 && u32(0) == Int(localSignature) ? .truncated : .badMagic,
        detail:
          "a ZIP archive needs at least 22 bytes (end-of-central-directory record), the file has \(n)"
      )
    }
    // Search backwards for the end-of-central-directory record whose comment reaches no
    // further than the end of the file.
    var end = -1
    var candidate = n - 22
    let lowest = max(0, n - 22 - 65_535)
    while candidate >= lowest {
      if bytes[candidate] == 0x50 && u32(candidate) == Int(endSignature)
        && candidate + 22 + u16(candidate + 20) <= n
      {
        end = candidate
        break
      }
      candidate -= 1
    }
    guard end >= 0 else {
      throw DataFormatError(
        path: path, offset: n - 22, kind: .badMagic,
        detail:
          "no end-of-central-directory signature 50 4b 05 06 in the last \(n - lowest) bytes (not a ZIP archive, or truncated)"
      )
    }
    let disk = u16(end + 4), cdDisk = u16(end + 6)
    let entriesOnDisk = u16(end + 8), totalEntries = u16(end + 10)
    let cdSize = u32(end + 12), cdOffset = u32(end + 16)
    if end >= 20 && u32(end - 20) == Int(zip64LocatorSignature) || totalEntries == 0xFFFF
      || entriesOnDisk == 0xFFFF
      || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF
    {
      throw DataFormatError(
        path: path, offset: end, kind: .unsupported,
        detail: "ZIP64 archives are not supported (re-pack without ZIP64)")
    }
    guard disk == 0, cdDisk == 0, entriesOnDisk == totalEntries else {
      throw DataFormatError(
        path: path, offset: end + 4, kind: .unsupported,
        detail: "multi-disk (split) ZIP archives are not supported")
    }
    guard cdOffset + cdSize <= end else {
      throw DataFormatError(
        path: path, offset: end + 12, kind: .badHeader,
        detail:
          "central directory at \(cdOffset) of \(cdSize) bytes overlaps the end record at \(end)")
    }
    var entries: [Entry] = []
    entries.reserveCapacity(totalEntries)
    var o = cdOffset
    let cdEnd = cdOffset + cdSize
    for index in 0..<totalEntries {
      guard o + 46 <= cdEnd else {
        throw DataFormatError(
          path: path, offset: o, kind: .truncated,
          detail: "central directory ends after \(index) of \(totalEntries) entries")
      }
      guard u32(o) == Int(centralSignature) else {
        throw DataFormatError(
          path: path, offset: o, kind: .badMagic,
          detail:
            "central directory entry \(index): expected signature 50 4b 01 02, found \(hexBytes(bytes, o, 4))"
        )
      }
      let flags = UInt16(u16(o + 8))
      let method = UInt16(u16(o + 10))
      let crc = UInt32(u32(o + 16))
      let compressed = u32(o + 20), uncompressed = u32(o + 24)
      let nameLength = u16(o + 28), extraLength = u16(o + 30), commentLength = u16(o + 32)
      let local = u32(o + 42)
      let next = o + 46 + nameLength + extraLength + commentLength
      guard next <= cdEnd else {
        throw DataFormatError(
          path: path, offset: o, kind: .truncated,
          detail:
            "central directory entry \(index) (\(next - o) bytes) runs past the directory's end")
      }
      let name = String(
        decoding: UnsafeRawBufferPointer(rebasing: bytes[(o + 46)..<(o + 46 + nameLength)]),
        as: UTF8.self)
      if compressed == 0xFFFF_FFFF || uncompressed == 0xFFFF_FFFF || local == 0xFFFF_FFFF {
        throw DataFormatError(
          path: path, offset: o, kind: .unsupported,
          detail: "member '\(name)' uses ZIP64 sizes, which are not supported")
      }
      entries.append(
        Entry(
          name: name, method: method, flags: flags, crc32: crc, compressedSize: compressed,
          uncompressedSize: uncompressed, localHeaderOffset: local))
      o = next
    }
    return entries
  }

  /// The contents of `entry`, checked against its recorded size and CRC-32.
  ///
  /// - Throws: `DataFormatError` (path = the archive, offset in the archive) for a bad local
  ///   header signature, encryption, an unknown compression method, data running past the
  ///   end, DEFLATE errors, or a size or CRC-32 that does not match.
  public func extract(_ entry: Entry) throws(DataFormatError) -> [UInt8] {
    let bytes = source.bytes
    let n = bytes.count
    let o = entry.localHeaderOffset
    func u16(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 }
    func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
    let member = "member '\(entry.name)'"
    guard o + 30 <= n else {
      throw DataFormatError(
        path: path, offset: o, kind: .truncated,
        detail: "\(member): local header runs past the end of the archive")
    }
    guard u32(o) == Int(ZIPArchive.localSignature) else {
      throw DataFormatError(
        path: path, offset: o, kind: .badMagic,
        detail:
          "\(member): expected local header signature 50 4b 03 04, found \(hexBytes(bytes, o, 4))")
    }
    if entry.flags & 1 != 0 {
      throw DataFormatError(
        path: path, offset: o + 6, kind: .unsupported, detail: "\(member) is encrypted")
    }
    let dataStart = o + 30 + u16(o + 26) + u16(o + 28)
    guard dataStart + entry.compressedSize <= n else {
      throw DataFormatError(
        path: path, offset: n, kind: .truncated,
        detail:
          "\(member): \(entry.compressedSize) bytes of data from byte \(dataStart) run past the end of the archive (\(n) bytes)"
      )
    }
    var output: [UInt8]
    switch entry.method {
    case 0:
      guard entry.compressedSize == entry.uncompressedSize else {
        throw DataFormatError(
          path: path, offset: o, kind: .sizeMismatch,
          detail:
            "\(member) is stored but its sizes differ (\(entry.compressedSize) compressed, \(entry.uncompressedSize) uncompressed)"
        )
      }
      output = Array(
        UnsafeRawBufferPointer(rebasing: bytes[dataStart..<(dataStart + entry.compressedSize)]))
    case 8:
      output = []
      let data = UnsafeBufferPointer(
        start: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self),
        count: dataStart + entry.compressedSize)
      do {
        _ = try Deflate.inflate(
          data, from: dataStart, path: path, into: &output, expectedSize: entry.uncompressedSize,
          limit: entry.uncompressedSize)
      } catch {
        var e = error
        e.detail = "\(member): " + e.detail
        if e.kind == .tooLarge { e.kind = .sizeMismatch }
        throw e
      }
      guard output.count == entry.uncompressedSize else {
        throw DataFormatError(
          path: path, offset: dataStart, kind: .sizeMismatch,
          detail:
            "\(member) inflates to \(output.count) bytes, the directory says \(entry.uncompressedSize)"
        )
      }
    default:
      throw DataFormatError(
        path: path, offset: o + 8, kind: .unsupported,
        detail:
          "\(member) uses compression method \(entry.method) (supported: 0 stored, 8 deflated)")
    }
    let crc = CRC32.checksum(output)
    guard crc == entry.crc32 else {
      throw DataFormatError(
        path: path, offset: dataStart, kind: .checksumMismatch,
        detail:
          "\(member): CRC-32 of the contents is \(hex(crc)), the directory says \(hex(entry.crc32))"
      )
    }
    return output
  }

  /// The member named `name`, if any.
  public func entry(named name: String) -> Entry? { entries.first { $0.name == name } }
}

func hexBytes(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ count: Int) -> String {
  (offset..<min(bytes.count, offset + count)).map { hexByte(bytes[$0]) }.joined(separator: " ")
}
