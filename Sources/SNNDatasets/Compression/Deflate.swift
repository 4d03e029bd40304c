/// Raw DEFLATE decompression (RFC 1951).
public enum Deflate {
  /// The default bound on decompressed output: 4 GiB. Callers that read untrusted input
  /// and know a tighter bound (a fuzzer, an archive member with a declared size) pass one.
  public static let defaultLimit = 1 << 32

  /// Inflates a raw DEFLATE stream that fills `data`.
  ///
  /// - Parameters:
  ///   - path: the file name used in errors.
  ///   - limit: the largest output allowed; larger output throws `.tooLarge`.
  /// - Throws: `DataFormatError` for a truncated stream, a reserved block type, invalid
  ///   code lengths or symbols, a distance reaching before the start, or bytes left over
  ///   after the final block.
  public static func inflate(_ data: [UInt8], path: String = "", limit: Int = defaultLimit)
    throws(DataFormatError) -> [UInt8]
  {
    try data.withUnsafeBufferPointer { buffer throws(DataFormatError) in
      var output: [UInt8] = []
      let end = try inflate(
        buffer, from: 0, path: path, into: &output, expectedSize: nil, limit: limit)
      guard end == buffer.count else {
        throw DataFormatError(
          path: path, offset: end, kind: .badLayout,
          detail: "\(buffer.count - end) bytes follow the final DEFLATE block")
      }
      return output
    }
  }

  /// Inflates the stream starting at `input[start]`, appending to `output`; returns the
  /// offset just past the stream (its last byte may be partly used). Offsets in errors are
  /// offsets into `input`.
  static func inflate(
    _ input: UnsafeBufferPointer<UInt8>, from start: Int, path: String, into output: inout [UInt8],
    expectedSize: Int?, limit: Int
  ) throws(DataFormatError) -> Int {
    let inflater = Inflater(input: input, start: start, path: path)
    return try inflater.inflate(into: &output, expectedSize: expectedSize, limit: limit)
  }
}
