import SNNBase

/// gzip decompression (RFC 1952) on top of ``Deflate``.
///
/// A gzip file is one or more members. Each member is a 10-byte header (magic 1f 8b,
/// method 8 = DEFLATE, flags, modification time, extra flags, OS), optional fields chosen
/// by the flags (FEXTRA: a length-prefixed extra field; FNAME and FCOMMENT: zero-terminated
/// strings; FHCRC: the low 16 bits of the CRC-32 of the header), the DEFLATE stream, and an
/// 8-byte trailer: the CRC-32 of the uncompressed data and its length modulo 2^32 (ISIZE),
/// both little-endian. Members are concatenated into one output; zero bytes after the last
/// member are ignored (as gzip and Python do), anything else is an error.
public enum GZip {
  /// Whether `data` starts with the gzip magic bytes 1f 8b.
  public static func hasMagic(_ data: [UInt8]) -> Bool {
    data.count >= 2 && data[0] == 0x1F && data[1] == 0x8B
  }

  /// Decompresses a whole gzip file.
  ///
  /// - Parameters:
  ///   - path: the file name used in errors.
  ///   - limit: the largest output allowed.
  /// - Throws: `DataFormatError` naming the byte offset for a bad magic number or method,
  ///   reserved flags, a truncated header or stream, a header CRC, data CRC-32 or ISIZE that
  ///   does not match, trailing garbage, and every DEFLATE error.
  public static func decompress(
    _ data: [UInt8], path: String = "", limit: Int = Deflate.defaultLimit
  )
    throws(DataFormatError) -> [UInt8]
  {
    try data.withUnsafeBufferPointer { buffer throws(DataFormatError) in
      try decompress(buffer, path: path, limit: limit)
    }
  }

  /// Decompresses gzip data in memory (e.g. a mapped file).
  public static func decompress(
    _ input: UnsafeBufferPointer<UInt8>, path: String = "", limit: Int = Deflate.defaultLimit
  ) throws(DataFormatError) -> [UInt8] {
    var output: [UInt8] = []
    var offset = 0
    var member = 0
    // ISIZE of the last member sizes the output when the file has one member (the usual
    // case); it is only a hint and is checked after decoding.
    var hint: Int? = nil
    if input.count >= 18 {
      let n = input.count
      let isize =
        Int(input[n - 4]) | Int(input[n - 3]) << 8 | Int(input[n - 2]) << 16 | Int(input[n - 1])
        << 24
      if isize <= limit && isize <= 1032 * n + 1024 { hint = isize }
    }
    repeat {
      offset = try decompressMember(
        input, at: offset, path: path, into: &output, hint: member == 0 ? hint : nil, limit: limit)
      member += 1
      // Skip zero padding after a member; anything else must be another member.
      var next = offset
      while next < input.count && input[next] == 0 { next += 1 }
      if next == input.count { break }
      if next != offset {
        throw DataFormatError(
          path: path, offset: next, kind: .badMagic,
          detail: "data after zero padding following gzip member \(member) is not a gzip member")
      }
    } while offset < input.count
    return output
  }

  private static func decompressMember(
    _ input: UnsafeBufferPointer<UInt8>, at start: Int, path: String, into output: inout [UInt8],
    hint: Int?, limit: Int
  ) throws(DataFormatError) -> Int {
    let n = input.count
    func need(_ count: Int, at offset: Int, _ what: String) throws(DataFormatError) {
      if offset + count > n {
        throw DataFormatError(
          path: path, offset: n, kind: .truncated,
          detail:
            "the gzip \(what) at byte \(offset) needs \(count) bytes, \(max(0, n - offset)) remain")
      }
    }
    let found = input[start..<min(n, start + 2)].map(hexByte).joined(separator: " ")
    guard
      n - start >= 2
        ? input[start] == 0x1F && input[start + 1] == 0x8B : n > start && input[start] == 0x1F
    else {
      throw DataFormatError(
        path: path, offset: start, kind: .badMagic,
        detail: "expected gzip magic 1f 8b, found \(found.isEmpty ? "nothing" : found)")
    }
    try need(10, at: start, "header")
    guard input[start + 2] == 8 else {
      throw DataFormatError(
        path: path, offset: start + 2, kind: .unsupported,
        detail: "compression method \(input[start + 2]) (expected 8, DEFLATE)")
    }
    let flags = input[start + 3]
    guard flags & 0xE0 == 0 else {
      throw DataFormatError(
        path: path, offset: start + 3, kind: .badHeader,
        detail: "reserved flag bits set in \(hex(flags)) (expected bits 5-7 clear)")
    }
    var offset = start + 10
    if flags & 0x04 != 0 {  // FEXTRA
      try need(2, at: offset, "extra field length")
      let length = Int(input[offset]) | Int(input[offset + 1]) << 8
      try need(2 + length, at: offset, "extra field")
      offset += 2 + length
    }
    for (bit, name) in [(UInt8(0x08), "file name"), (0x10, "comment")] where flags & bit != 0 {
      var end = offset
      while end < n && input[end] != 0 { end += 1 }
      guard end < n else {
        throw DataFormatError(
          path: path, offset: n, kind: .truncated,
          detail: "the gzip \(name) starting at byte \(offset) has no terminating zero byte")
      }
      offset = end + 1
    }
    if flags & 0x02 != 0 {  // FHCRC
      try need(2, at: offset, "header CRC")
      let stored = UInt16(input[offset]) | UInt16(input[offset + 1]) << 8
      let actual = UInt16(
        truncatingIfNeeded: CRC32.checksum(
          UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: input[start..<offset]))))
      guard stored == actual else {
        throw DataFormatError(
          path: path, offset: offset, kind: .checksumMismatch,
          detail: "header CRC-16 is \(hex(actual)), the header says \(hex(stored))")
      }
      offset += 2
    }
    let dataStart = output.count
    let end = try Deflate.inflate(
      input, from: offset, path: path, into: &output, expectedSize: hint.map { dataStart + $0 },
      limit: limit)
    try need(8, at: end, "trailer (CRC-32 and ISIZE)")
    let storedCRC =
      UInt32(input[end]) | UInt32(input[end + 1]) << 8 | UInt32(input[end + 2]) << 16 | UInt32(
        input[end + 3]) << 24
    let storedSize =
      UInt32(input[end + 4]) | UInt32(input[end + 5]) << 8 | UInt32(input[end + 6]) << 16 | UInt32(
        input[end + 7]) << 24
    let actualCRC = output.withUnsafeBytes {
      CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[dataStart...]))
    }
    guard actualCRC == storedCRC else {
      throw DataFormatError(
        path: path, offset: end, kind: .checksumMismatch,
        detail:
          "CRC-32 of the decompressed data is \(hex(actualCRC)), the trailer says \(hex(storedCRC))"
      )
    }
    let actualSize = UInt32(truncatingIfNeeded: output.count - dataStart)
    guard actualSize == storedSize else {
      throw DataFormatError(
        path: path, offset: end + 4, kind: .sizeMismatch,
        detail:
          "decompressed size is \(output.count - dataStart) bytes (mod 2^32: \(actualSize)), ISIZE says \(storedSize)"
      )
    }
    return end + 8
  }
}

func hexByte(_ b: UInt8) -> String {
  let text = String(b, radix: 16)
  return text.count == 1 ? "0" + text : text
}
