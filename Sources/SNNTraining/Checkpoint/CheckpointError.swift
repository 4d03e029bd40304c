import SNNBase

/// A checkpoint that cannot be read or used: names the file, the field or blob, the byte
/// offset where one applies, what was expected and what was found.
public struct CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
  public enum Kind: String, Equatable, Sendable {
    /// The file could not be opened or read (``CheckpointError/fileError`` has the cause).
    case unreadable
    /// The file ends before the length its preamble declares, or before its preamble.
    case truncated
    /// The first eight bytes are not the checkpoint magic.
    case badMagic
    /// The format version is not one this build reads.
    case unsupportedVersion
    /// The file is longer than its declared length.
    case trailingData
    /// The CRC-32 over the content does not match the stored one.
    case checksumMismatch
    /// The header is not the JSON object expected, or a field in it is wrong.
    case invalidHeader
    /// A blob record is malformed (name, rank, dimensions, size).
    case invalidBlob
    /// A blob that the model or method needs is absent.
    case missingBlob
    /// A blob is present that nothing expects (e.g. a parameter of another model).
    case unexpectedBlob
    /// The checkpoint is well-formed but belongs to another configuration (other model,
    /// method, options) than the one it is loaded into.
    case incompatible
  }

  public var kind: Kind
  /// The checkpoint's path (empty until known, e.g. inside ``ParameterStore/load(_:prefix:)``).
  public var path: String
  /// What is wrong: `magic`, `version`, `header.progress.epochs_completed`,
  /// `blob 'param/conv1.weight'`, …
  public var field: String
  /// The byte offset in the file, where it applies.
  public var offset: Int?
  public var expected: String
  public var found: String
  /// The underlying file error of ``Kind/unreadable``.
  public var fileError: FileError?

  public init(
    _ kind: Kind, path: String = "", field: String, offset: Int? = nil, expected: String,
    found: String, fileError: FileError? = nil
  ) {
    self.kind = kind
    self.path = path
    self.field = field
    self.offset = offset
    self.expected = expected
    self.found = found
    self.fileError = fileError
  }

  /// The same error with the checkpoint's path filled in.
  public func at(path: String) -> CheckpointError {
    var copy = self
    if copy.path.isEmpty { copy.path = path }
    return copy
  }

  public var description: String {
    if kind == .unreadable, let fileError { return fileError.description }
    let phrase: String
    switch kind {
    case .unreadable: phrase = "cannot read the checkpoint"
    case .truncated: phrase = "truncated checkpoint"
    case .badMagic: phrase = "not a swift-snn checkpoint"
    case .unsupportedVersion: phrase = "unsupported checkpoint version"
    case .trailingData: phrase = "checkpoint longer than declared"
    case .checksumMismatch: phrase = "checkpoint checksum mismatch (corrupted file)"
    case .invalidHeader: phrase = "invalid checkpoint header"
    case .invalidBlob: phrase = "invalid checkpoint blob"
    case .missingBlob: phrase = "missing checkpoint blob"
    case .unexpectedBlob: phrase = "unexpected checkpoint blob"
    case .incompatible: phrase = "checkpoint does not match the run"
    }
    let location = offset.map { " at byte \($0)" } ?? ""
    let file = path.isEmpty ? "" : "\(path): "
    return "\(file)\(phrase)\(location): \(field): expected \(expected), found \(found)"
  }
}
