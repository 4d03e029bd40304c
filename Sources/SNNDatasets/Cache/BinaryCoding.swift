/// Little-endian binary writing for cache payloads.
struct ByteWriter {
  var bytes: [UInt8] = []

  init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

  mutating func u32(_ v: UInt32) {
    for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(8 * i))) }
  }
  mutating func u64(_ v: UInt64) {
    for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(8 * i))) }
  }
  mutating func int(_ v: Int) { u64(UInt64(bitPattern: Int64(v))) }
  mutating func string(_ s: String) {
    let utf8 = Array(s.utf8)
    int(utf8.count)
    bytes += utf8
  }
  mutating func array(_ a: [UInt8]) {
    int(a.count)
    bytes += a
  }
  mutating func array(_ a: [UInt32]) {
    int(a.count)
    #if _endian(little)
      a.withUnsafeBytes { bytes += $0 }
    #else
      for v in a { u32(v) }
    #endif
  }
  mutating func array(_ a: [Int]) {
    int(a.count)
    for v in a { int(v) }
  }
}

/// Little-endian binary reading that never traps: every read returns nil past the end.
struct ByteReader {
  let bytes: UnsafeRawBufferPointer
  var offset = 0

  init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

  var isAtEnd: Bool { offset == bytes.count }

  mutating func take(_ n: Int) -> UnsafeRawBufferPointer? {
    guard n >= 0, n <= bytes.count - offset else { return nil }
    defer { offset += n }
    return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
  }

  mutating func u32() -> UInt32? {
    guard let b = take(4) else { return nil }
    return (0..<4).reduce(0) { $0 | UInt32(b[$1]) << UInt32(8 * $1) }
  }

  mutating func u64() -> UInt64? {
    guard let b = take(8) else { return nil }
    return (0..<8).reduce(0) { $0 | UInt64(b[$1]) << UInt64(8 * $1) }
  }

  mutating func int() -> Int? {
    guard let v = u64() else { return nil }
    let signed = Int64(bitPattern: v)
    return signed >= 0 && signed <= Int64(Int.max) ? Int(signed) : nil
  }

  /// A count that cannot exceed the remaining bytes divided by `width`.
  mutating func count(width: Int) -> Int? {
    guard let n = int(), n <= (bytes.count - offset) / max(width, 1) else { return nil }
    return n
  }

  mutating func string() -> String? {
    guard let n = count(width: 1), let b = take(n) else { return nil }
    return String(decoding: b, as: UTF8.self)
  }

  mutating func bytesArray() -> [UInt8]? {
    guard let n = count(width: 1), let b = take(n) else { return nil }
    return Array(b)
  }

  mutating func u32Array() -> [UInt32]? {
    guard let n = count(width: 4), let b = take(4 * n) else { return nil }
    #if _endian(little)
      return [UInt32](unsafeUninitializedCapacity: n) { buffer, initialized in
        UnsafeMutableRawBufferPointer(buffer).copyMemory(from: b)
        initialized = n
      }
    #else
      return (0..<n).map { i in
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[4 * i + $1]) << UInt32(8 * $1) }
      }
    #endif
  }

  mutating func intArray() -> [Int]? {
    guard let n = count(width: 8) else { return nil }
    var out: [Int] = []
    out.reserveCapacity(n)
    for _ in 0..<n {
      guard let v = int() else { return nil }
      out.append(v)
    }
    return out
  }
}
