/// A hash that consumes bytes incrementally and produces a fixed-size digest.
public protocol StreamingDigest {
  init()
  mutating func update(_ bytes: UnsafeRawBufferPointer)
  /// The digest of everything passed to `update` (the hasher should not be used after).
  mutating func finalize() -> [UInt8]
}

extension StreamingDigest {
  public mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  /// The digest of `bytes`.
  public static func hash(_ bytes: [UInt8]) -> [UInt8] {
    var h = Self()
    h.update(bytes)
    return h.finalize()
  }

  /// The digest of raw memory.
  public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
    var h = Self()
    h.update(bytes)
    return h.finalize()
  }

  /// Lower-case hexadecimal text of `hash(bytes)`.
  public static func hexDigest(_ bytes: [UInt8]) -> String { hexString(hash(bytes)) }
}

/// Lower-case hexadecimal text of `bytes`.
public func hexString(_ bytes: [UInt8]) -> String {
  let digits = Array("0123456789abcdef".utf8)
  var out = [UInt8]()
  out.reserveCapacity(bytes.count * 2)
  for b in bytes {
    out.append(digits[Int(b >> 4)])
    out.append(digits[Int(b & 15)])
  }
  return String(decoding: out, as: UTF8.self)
}

/// Buffers input into 64-byte blocks for the Merkle–Damgård hashes (MD5, SHA-256).
struct BlockBuffer {
  var block = [UInt8](repeating: 0, count: 64)
  var filled = 0
  var totalBytes: UInt64 = 0

  /// Calls `compress` for every complete block of `bytes` (after topping up the buffer).
  mutating func feed(_ bytes: UnsafeRawBufferPointer, _ compress: (UnsafeRawPointer) -> Void) {
    guard var p = bytes.baseAddress else { return }
    var n = bytes.count
    totalBytes &+= UInt64(n)
    if filled > 0 {
      let take = min(64 - filled, n)
      block.withUnsafeMutableBytes { b in
        (b.baseAddress! + filled).copyMemory(from: p, byteCount: take)
      }
      filled += take
      p += take
      n -= take
      if filled < 64 { return }
      block.withUnsafeBytes { compress($0.baseAddress!) }
      filled = 0
    }
    while n >= 64 {
      compress(p)
      p += 64
      n -= 64
    }
    if n > 0 {
      block.withUnsafeMutableBytes { b in b.baseAddress!.copyMemory(from: p, byteCount: n) }
      filled = n
    }
  }

  /// Appends the padding 0x80, zeros, and the 64-bit message length in bits (big- or
  /// little-endian), compressing the final block(s).
  mutating func finish(bigEndianLength: Bool, _ compress: (UnsafeRawPointer) -> Void) {
    let bits = totalBytes &* 8
    var tail = [UInt8](repeating: 0, count: filled < 56 ? 64 : 128)
    for i in 0..<filled { tail[i] = block[i] }
    tail[filled] = 0x80
    for i in 0..<8 {
      let byte = UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i)))
      tail[tail.count - 1 - (bigEndianLength ? i : 7 - i)] = byte
    }
    tail.withUnsafeBytes { t in
      compress(t.baseAddress!)
      if t.count == 128 { compress(t.baseAddress! + 64) }
    }
  }
}
