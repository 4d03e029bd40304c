/// A data file whose contents are not what its format requires.
///
/// Every reader in `SNNDatasets` throws this for malformed input: a truncated stream, a
/// wrong magic number, an invalid Huffman code, a checksum that does not match. The error
/// names the file, the byte offset where the problem was found (when one applies) and what
/// was expected, so that one printed line is enough to locate the fault:
///
///     train-images-idx3-ubyte.gz: byte 1234: checksum mismatch: CRC-32 of the
///     decompressed data is 0x1f2e3d4c, the trailer says 0x00000000
public struct DataFormatError: Error, Equatable, Sendable, CustomStringConvertible {
  /// What kind of fault was found.
  public enum Kind: String, Sendable, Equatable, CaseIterable {
    /// The input ends before the structure it started is complete.
    case truncated = "truncated"
    /// A signature or magic number is wrong (not this format at all).
    case badMagic = "bad magic number"
    /// A header field has a value the format does not allow.
    case badHeader = "bad header"
    /// A DEFLATE block header names the reserved block type 3.
    case badBlockType = "bad block type"
    /// DEFLATE code lengths describe an over-subscribed or incomplete Huffman code.
    case invalidCodeLengths = "invalid code lengths"
    /// A decoded symbol is not allowed where it appears.
    case invalidSymbol = "invalid symbol"
    /// A DEFLATE back-reference points before the start of the output.
    case distanceTooFar = "distance too far back"
    /// A stored checksum (CRC-32, a SHA-256 list, ...) does not match the data.
    case checksumMismatch = "checksum mismatch"
    /// A stored size does not match the data.
    case sizeMismatch = "size mismatch"
    /// A value lies outside the range the format allows (e.g. an event coordinate).
    case valueOutOfRange = "value out of range"
    /// A valid but unsupported feature (ZIP64, encryption, another compression method).
    case unsupported = "unsupported"
    /// A folder or archive does not have the expected layout.
    case badLayout = "bad layout"
    /// Decompressed output would exceed the caller's limit.
    case tooLarge = "too large"
  }

  /// The file (or archive member, `archive.zip:member`) that is malformed.
  public var path: String
  /// The byte offset in the file where the fault was detected, if one applies.
  public var offset: Int?
  public var kind: Kind
  /// What was expected and what was found.
  public var detail: String

  public init(path: String, offset: Int?, kind: Kind, detail: String) {
    self.path = path
    self.offset = offset
    self.kind = kind
    self.detail = detail
  }

  public var description: String {
    let location = offset.map { ": byte \($0)" } ?? ""
    return "\(path.isEmpty ? "<memory>" : path)\(location): \(kind.rawValue): \(detail)"
  }
}

/// Hexadecimal text of a value with a fixed number of digits (`0x0001f2e3`).
func hex<T: FixedWidthInteger>(_ value: T, digits: Int = MemoryLayout<T>.size * 2) -> String {
  let text = String(value, radix: 16)
  return "0x" + String(repeating: "0", count: max(0, digits - text.count)) + text
}
