import SNNBase

/// Whole-file reads for the loaders, with errors mapped to ``DatasetError``.
enum DataFile {
  static func read(_ path: String) throws(DatasetError) -> [UInt8] {
    do {
      return try FileIO.read(path)
    } catch {
      throw .file(error)
    }
  }

  /// Reads a file and, when it starts with the gzip magic bytes, decompresses it.
  static func readDecompressed(_ path: String, limit: Int = Deflate.defaultLimit) throws(DatasetError)
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
}
