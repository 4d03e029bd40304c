/// MD5 (RFC 1321): 128-bit digest. Used only to compare files with the checksums that
/// dataset publishers list (MNIST, Fashion-MNIST, N-MNIST); not for security.
public struct MD5: StreamingDigest {
  private var a: UInt32 = 0x6745_2301
  private var b: UInt32 = 0xEFCD_AB89
  private var c: UInt32 = 0x98BA_DCFE
  private var d: UInt32 = 0x1032_5476
  private var buffer = BlockBuffer()

  public init() {}

  /// K[i] = ⌊|sin(i + 1)| · 2^32⌋.
  static let k: [UInt32] = [
    0xD76A_A478, 0xE8C7_B756, 0x2420_70DB, 0xC1BD_CEEE, 0xF57C_0FAF, 0x4787_C62A, 0xA830_4613,
    0xFD46_9501,
    0x6980_98D8, 0x8B44_F7AF, 0xFFFF_5BB1, 0x895C_D7BE, 0x6B90_1122, 0xFD98_7193, 0xA679_438E,
    0x49B4_0821,
    0xF61E_2562, 0xC040_B340, 0x265E_5A51, 0xE9B6_C7AA, 0xD62F_105D, 0x0244_1453, 0xD8A1_E681,
    0xE7D3_FBC8,
    0x21E1_CDE6, 0xC337_07D6, 0xF4D5_0D87, 0x455A_14ED, 0xA9E3_E905, 0xFCEF_A3F8, 0x676F_02D9,
    0x8D2A_4C8A,
    0xFFFA_3942, 0x8771_F681, 0x6D9D_6122, 0xFDE5_380C, 0xA4BE_EA44, 0x4BDE_CFA9, 0xF6BB_4B60,
    0xBEBF_BC70,
    0x289B_7EC6, 0xEAA1_27FA, 0xD4EF_3085, 0x0488_1D05, 0xD9D4_D039, 0xE6DB_99E5, 0x1FA2_7CF8,
    0xC4AC_5665,
    0xF429_2244, 0x432A_FF97, 0xAB94_23A7, 0xFC93_A039, 0x655B_59C3, 0x8F0C_CC92, 0xFFEF_F47D,
    0x8584_5DD1,
    0x6FA8_7E4F, 0xFE2C_E6E0, 0xA301_4314, 0x4E08_11A1, 0xF753_7E82, 0xBD3A_F235, 0x2AD7_D2BB,
    0xEB86_D391,
  ]
  /// Per-round left-rotation amounts.
  static let shifts: [UInt32] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]

  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    var s = (a, b, c, d)
    buffer.feed(bytes) { MD5.compress(&s, $0) }
    (a, b, c, d) = s
  }

  public mutating func finalize() -> [UInt8] {
    var s = (a, b, c, d)
    buffer.finish(bigEndianLength: false) { MD5.compress(&s, $0) }
    var out: [UInt8] = []
    for word in [s.0, s.1, s.2, s.3] {
      for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: word >> UInt32(8 * i))) }
    }
    return out
  }

  private static func compress(
    _ state: inout (UInt32, UInt32, UInt32, UInt32), _ block: UnsafeRawPointer
  ) {
    var m = (
      UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0),
      UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0)
    )
    withUnsafeMutableBytes(of: &m) { raw in
      let w = raw.bindMemory(to: UInt32.self)
      for i in 0..<16 {
        w[i] = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
      }
    }
    var (a, b, c, d) = state
    withUnsafeBytes(of: &m) { raw in
      let w = raw.bindMemory(to: UInt32.self)
      k.withUnsafeBufferPointer { k in
        shifts.withUnsafeBufferPointer { s in
          for i in 0..<64 {
            var f: UInt32
            let g: Int
            switch i >> 4 {
            case 0:
              f = (b & c) | (~b & d)
              g = i
            case 1:
              f = (d & b) | (~d & c)
              g = (5 &* i &+ 1) & 15
            case 2:
              f = b ^ c ^ d
              g = (3 &* i &+ 5) & 15
            default:
              f = c ^ (b | ~d)
              g = (7 &* i) & 15
            }
            f = f &+ a &+ k[i] &+ w[g]
            a = d
            d = c
            c = b
            let r = s[(i >> 4) << 2 | (i & 3)]
            b = b &+ ((f << r) | (f >> (32 &- r)))
          }
        }
      }
    }
    state.0 &+= a
    state.1 &+= b
    state.2 &+= c
    state.3 &+= d
  }
}
