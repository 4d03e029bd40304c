/// An array in the IDX format of the MNIST distribution.
///
/// Layout: a 4-byte magic number — two zero bytes, a data-type code, the number of
/// dimensions — then one 32-bit big-endian size per dimension, then the elements in
/// row-major order, each big-endian. Data-type codes: 0x08 unsigned byte, 0x09 signed
/// byte, 0x0B 16-bit integer, 0x0C 32-bit integer, 0x0D 32-bit float, 0x0E 64-bit float.
/// The payload must hold exactly the product of the sizes times the element width.
///
/// The payload is kept as stored (big-endian bytes) so that a 47 MB image file is not
/// widened; `uint8` payloads are the pixel bytes themselves.
public struct IDXArray: Sendable, Equatable {
  /// The element type named by the third magic byte.
  public enum DataType: UInt8, Sendable, CaseIterable {
    case uint8 = 0x08
    case int8 = 0x09
    case int16 = 0x0B
    case int32 = 0x0C
    case float32 = 0x0D
    case float64 = 0x0E

    /// Bytes per element.
    public var byteWidth: Int {
      switch self {
      case .uint8, .int8: return 1
      case .int16: return 2
      case .int32, .float32: return 4
      case .float64: return 8
      }
    }

    public var name: String {
      switch self {
      case .uint8: return "ubyte"
      case .int8: return "byte"
      case .int16: return "short"
      case .int32: return "int"
      case .float32: return "float"
      case .float64: return "double"
      }
    }
  }

  public var dataType: DataType
  /// The size of each dimension, outermost first.
  public var shape: [Int]
  /// The elements as stored: row-major, big-endian, `elementCount × byteWidth` bytes.
  public var payload: [UInt8]

  public init(dataType: DataType, shape: [Int], payload: [UInt8]) {
    precondition(
      shape.reduce(1, *) * dataType.byteWidth == payload.count,
      "payload size does not match the shape")
    self.dataType = dataType
    self.shape = shape
    self.payload = payload
  }

  /// The number of elements (the product of the shape).
  public var elementCount: Int { shape.reduce(1, *) }

  /// Parses an IDX file's bytes (already decompressed). The header is removed in place, so
  /// no second copy of a large payload is made.
  ///
  /// - Throws: `DataFormatError` for a magic number that does not start with two zero
  ///   bytes, an unknown data type, zero dimensions, a truncated header, sizes whose
  ///   product overflows, or a payload shorter (`.truncated`) or longer (`.sizeMismatch`)
  ///   than the sizes require.
  public static func parse(_ bytes: consuming [UInt8], path: String = "") throws(DataFormatError) -> IDXArray
  {
    var bytes = consume bytes
    guard bytes.count >= 4 else {
      throw DataFormatError(
        path: path, offset: bytes.count, kind: .truncated,
        detail: "IDX magic number needs 4 bytes, the file has \(bytes.count)")
    }
    guard bytes[0] == 0, bytes[1] == 0 else {
      throw DataFormatError(
        path: path, offset: 0, kind: .badMagic,
        detail:
          "IDX magic number must start with 00 00, found \(hexByte(bytes[0])) \(hexByte(bytes[1]))")
    }
    guard let dataType = DataType(rawValue: bytes[2]) else {
      throw DataFormatError(
        path: path, offset: 2, kind: .badHeader,
        detail:
          "unknown IDX data type \(hex(bytes[2])) (expected 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e)")
    }
    let dimensionCount = Int(bytes[3])
    guard dimensionCount >= 1 else {
      throw DataFormatError(
        path: path, offset: 3, kind: .badHeader,
        detail: "IDX array with 0 dimensions (expected at least 1)")
    }
    let headerSize = 4 + 4 * dimensionCount
    guard bytes.count >= headerSize else {
      throw DataFormatError(
        path: path, offset: bytes.count, kind: .truncated,
        detail:
          "IDX header with \(dimensionCount) dimensions needs \(headerSize) bytes, the file has \(bytes.count)"
      )
    }
    var shape: [Int] = []
    var elements = 1
    for d in 0..<dimensionCount {
      let o = 4 + 4 * d
      let size =
        Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
      shape.append(size)
      let (product, overflow) = elements.multipliedReportingOverflow(by: size)
      guard !overflow, product <= Int(Int32.max) * 64 else {
        throw DataFormatError(
          path: path, offset: o, kind: .badHeader,
          detail: "IDX sizes \(shape) describe more elements than any file can hold")
      }
      elements = product
    }
    let payloadSize = elements * dataType.byteWidth
    let actual = bytes.count - headerSize
    if actual < payloadSize {
      throw DataFormatError(
        path: path, offset: bytes.count, kind: .truncated,
        detail:
          "IDX \(dataType.name) array of shape \(shape) needs \(payloadSize) payload bytes, the file has \(actual)"
      )
    }
    if actual > payloadSize {
      throw DataFormatError(
        path: path, offset: headerSize + payloadSize, kind: .sizeMismatch,
        detail:
          "IDX \(dataType.name) array of shape \(shape) needs \(payloadSize) payload bytes, the file has \(actual) (\(actual - payloadSize) extra)"
      )
    }
    bytes.removeSubrange(0..<headerSize)
    return IDXArray(validatedType: dataType, shape: shape, payload: bytes)
  }

  private init(validatedType: DataType, shape: [Int], payload: [UInt8]) {
    self.dataType = validatedType
    self.shape = shape
    self.payload = payload
  }

  /// Reads an IDX file, decompressing it first when it is gzip (detected by its magic
  /// bytes, whatever its name).
  public static func read(_ path: String) throws(DatasetError) -> IDXArray {
    let bytes = try DataFile.readDecompressed(path)
    do {
      return try parse(consume bytes, path: path)
    } catch {
      throw .malformed(error)
    }
  }

  /// The IDX encoding of this array (header + payload).
  public func encoded() -> [UInt8] {
    var out: [UInt8] = [0, 0, dataType.rawValue, UInt8(shape.count)]
    for size in shape {
      out += [
        UInt8(truncatingIfNeeded: size >> 24), UInt8(truncatingIfNeeded: size >> 16),
        UInt8(truncatingIfNeeded: size >> 8), UInt8(truncatingIfNeeded: size),
      ]
    }
    return out + payload
  }

  /// Element `i` (row-major index) converted to Double.
  public func value(at i: Int) -> Double {
    precondition(i >= 0 && i < elementCount, "index out of range")
    let w = dataType.byteWidth
    var bits: UInt64 = 0
    for k in 0..<w { bits = bits << 8 | UInt64(payload[i * w + k]) }
    switch dataType {
    case .uint8: return Double(bits)
    case .int8: return Double(Int8(truncatingIfNeeded: bits))
    case .int16: return Double(Int16(truncatingIfNeeded: bits))
    case .int32: return Double(Int32(truncatingIfNeeded: bits))
    case .float32: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
    case .float64: return Double(bitPattern: bits)
    }
  }

  /// All elements converted to Double (for small arrays and inspection).
  public func doubleValues() -> [Double] { (0..<elementCount).map(value(at:)) }
}
