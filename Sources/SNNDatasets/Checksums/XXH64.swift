/// XXH64 (Yann Collet's xxHash, 64-bit variant): a fast non-cryptographic hash, several
/// GB/s, used to key and check the decoded-dataset cache. `XXH64.hash([], seed: 0)` is
/// 0xEF46DB3751D8E999.
public enum XXH64 {
  static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
  static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
  static let p3: UInt64 = 0x1656_67B1_9E37_79F9
  static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
  static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

  @inline(__always) static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 {
    (x << r) | (x >> (64 &- r))
  }
  @inline(__always) static func round(_ acc: UInt64, _ lane: UInt64) -> UInt64 {
    rotl(acc &+ lane &* p2, 31) &* p1
  }
  @inline(__always) static func merge(_ acc: UInt64, _ v: UInt64) -> UInt64 {
    (acc ^ round(0, v)) &* p1 &+ p4
  }

  /// The hash of `bytes` with `seed`.
  public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
    let n = bytes.count
    guard let base = bytes.baseAddress else { return finish(seed &+ p5, n, nil, 0) }
    var p = 0
    var h: UInt64
    if n >= 32 {
      var v1 = seed &+ p1 &+ p2, v2 = seed &+ p2, v3 = seed, v4 = seed &- p1
      while p + 32 <= n {
        v1 = round(v1, UInt64(littleEndian: base.loadUnaligned(fromByteOffset: p, as: UInt64.self)))
        v2 = round(
          v2, UInt64(littleEndian: base.loadUnaligned(fromByteOffset: p + 8, as: UInt64.self)))
        v3 = round(
          v3, UInt64(littleEndian: base.loadUnaligned(fromByteOffset: p + 16, as: UInt64.self)))
        v4 = round(
          v4, UInt64(littleEndian: base.loadUnaligned(fromByteOffset: p + 24, as: UInt64.self)))
        p += 32
      }
      h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
      h = merge(h, v1)
      h = merge(h, v2)
      h = merge(h, v3)
      h = merge(h, v4)
    } else {
      h = seed &+ p5
    }
    return finish(h, n, base + p, n - p)
  }

  /// Adds the length and the last < 32 bytes, then mixes.
  private static func finish(
    _ start: UInt64, _ length: Int, _ tail: UnsafeRawPointer?, _ count: Int
  ) -> UInt64 {
    var h = start &+ UInt64(length)
    var p = 0
    if let tail {
      while p + 8 <= count {
        h ^= round(0, UInt64(littleEndian: tail.loadUnaligned(fromByteOffset: p, as: UInt64.self)))
        h = rotl(h, 27) &* p1 &+ p4
        p += 8
      }
      if p + 4 <= count {
        h ^=
          UInt64(UInt32(littleEndian: tail.loadUnaligned(fromByteOffset: p, as: UInt32.self))) &* p1
        h = rotl(h, 23) &* p2 &+ p3
        p += 4
      }
      while p < count {
        h ^= UInt64(tail.load(fromByteOffset: p, as: UInt8.self)) &* p5
        h = rotl(h, 11) &* p1
        p += 1
      }
    }
    h ^= h >> 33
    h = h &* p2
    h ^= h >> 29
    h = h &* p3
    h ^= h >> 32
    return h
  }

  /// The hash of `bytes` with `seed`.
  public static func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
    bytes.withUnsafeBytes { hash($0, seed: seed) }
  }
}
