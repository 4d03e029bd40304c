/// CRC-32 as used by gzip, ZIP and PNG (ISO 3309 / ITU-T V.42).
///
/// Polynomial 0x04C11DB7 in reflected form (0xEDB88320), initial value 0xFFFFFFFF, final
/// XOR 0xFFFFFFFF; `CRC32.checksum("123456789")` is 0xCBF43926. The update processes eight
/// bytes per step with eight lookup tables ("slicing-by-8"), about 1.5–2 GB/s on one core.
public struct CRC32: Sendable, Equatable {
  /// The running value before the final XOR (the register), so updates can be chained.
  private var register: UInt32 = 0xFFFF_FFFF

  public init() {}

  /// The checksum of everything passed to `update` so far.
  public var value: UInt32 { ~register }

  /// Adds `bytes` to the checksum.
  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress else { return }
    register = CRC32.advance(register, base, bytes.count)
  }

  /// Adds `bytes` to the checksum.
  public mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  /// Adds `bytes[range]` to the checksum.
  public mutating func update(_ bytes: [UInt8], range: Range<Int>) {
    precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "range out of bounds")
    bytes.withUnsafeBytes { update(UnsafeRawBufferPointer(rebasing: $0[range])) }
  }

  /// The CRC-32 of `bytes`.
  public static func checksum(_ bytes: [UInt8]) -> UInt32 {
    var crc = CRC32()
    crc.update(bytes)
    return crc.value
  }

  /// The CRC-32 of raw memory, continuing from `crc` (the checksum of the bytes before).
  public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
    var c = CRC32()
    c.register = ~crc
    c.update(bytes)
    return c.value
  }

  /// Eight tables of 256 entries: table k maps a byte that is followed by k more bytes of
  /// the same 8-byte word to its contribution to the register.
  static let tables: [UInt32] = {
    var t = [UInt32](repeating: 0, count: 8 * 256)
    for i in 0..<256 {
      var c = UInt32(i)
      for _ in 0..<8 { c = (c & 1) != 0 ? (0xEDB8_8320 ^ (c >> 1)) : (c >> 1) }
      t[i] = c
    }
    for k in 1..<8 {
      for i in 0..<256 {
        let previous = t[(k - 1) * 256 + i]
        t[k * 256 + i] = (previous >> 8) ^ t[Int(previous & 0xFF)]
      }
    }
    return t
  }()

  static func advance(_ register: UInt32, _ base: UnsafeRawPointer, _ count: Int) -> UInt32 {
    var crc = register
    var p = base
    var n = count
    CRC32.tables.withUnsafeBufferPointer { t in
      let t0 = t.baseAddress!
      while n >= 8 {
        let word = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)) ^ UInt64(crc)
        let lo = UInt32(truncatingIfNeeded: word)
        let hi = UInt32(truncatingIfNeeded: word >> 32)
        crc =
          t0[7 * 256 + Int(lo & 0xFF)] ^ t0[6 * 256 + Int((lo >> 8) & 0xFF)]
          ^ t0[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t0[4 * 256 + Int(lo >> 24)]
          ^ t0[3 * 256 + Int(hi & 0xFF)] ^ t0[2 * 256 + Int((hi >> 8) & 0xFF)]
          ^ t0[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t0[Int(hi >> 24)]
        p += 8
        n -= 8
      }
      while n > 0 {
        crc = (crc >> 8) ^ t0[Int((crc ^ UInt32(p.load(as: UInt8.self))) & 0xFF)]
        p += 1
        n -= 1
      }
    }
    return crc
  }
}
