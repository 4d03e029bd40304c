import SNNBase

@testable import SNNDatasets

// A minimal DEFLATE *writer* for tests: it emits blocks from explicit choices (stored
// bytes, fixed-Huffman symbols, dynamic blocks with caller-chosen code lengths), so tests
// can build streams bit by bit, independently of the decoder's tables.

struct BitWriter {
  var bytes: [UInt8] = []
  var bitCount = 0  // bits used in the last byte (0 = byte aligned)

  /// Appends the low `count` bits of `value`, least significant first (DEFLATE's order for
  /// header fields and extra bits).
  mutating func write(_ value: Int, bits count: Int) {
    for i in 0..<count {
      if bitCount == 0 { bytes.append(0) }
      if (value >> i) & 1 == 1 { bytes[bytes.count - 1] |= UInt8(1 << bitCount) }
      bitCount = (bitCount + 1) & 7
    }
  }

  /// Appends a Huffman code, most significant bit first (RFC 1951, 3.1.1).
  mutating func writeCode(_ code: Int, length: Int) {
    for i in stride(from: length - 1, through: 0, by: -1) { write((code >> i) & 1, bits: 1) }
  }

  mutating func alignToByte() { bitCount = 0 }
}

/// Canonical Huffman codes for `lengths` (RFC 1951, 3.2.2), computed the textbook way.
func canonicalCodes(_ lengths: [Int]) -> [Int] {
  var count = [Int](repeating: 0, count: 16)
  for l in lengths where l > 0 { count[l] += 1 }
  var next = [Int](repeating: 0, count: 16)
  var code = 0
  for bits in 1...15 {
    code = (code + count[bits - 1]) << 1
    next[bits] = code
  }
  return lengths.map { l in
    guard l > 0 else { return -1 }
    defer { next[l] += 1 }
    return next[l]
  }
}

enum FixedHuffman {
  static let literalLengths: [Int] =
    Array(repeating: 8, count: 144) + Array(repeating: 9, count: 112)
    + Array(repeating: 7, count: 24)
    + Array(repeating: 8, count: 8)
  static let literalCodes = canonicalCodes(literalLengths)
}

/// Length symbol, extra bits and extra value for a match length 3...258.
func lengthSymbol(_ length: Int) -> (symbol: Int, extraBits: Int, extra: Int) {
  let base = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
  ]
  let extra = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
  ]
  var i = base.count - 1
  while base[i] > length { i -= 1 }
  return (257 + i, extra[i], length - base[i])
}

/// Distance symbol, extra bits and extra value for a distance 1...32768.
func distanceSymbol(_ distance: Int) -> (symbol: Int, extraBits: Int, extra: Int) {
  var base = 1
  for s in 0..<30 {
    let e = s < 4 ? 0 : s / 2 - 1
    if distance < base + (1 << e) { return (s, e, distance - base) }
    base += 1 << e
  }
  fatalError("distance out of range")
}

enum Token {
  case literal(UInt8)
  case match(length: Int, distance: Int)
}

extension BitWriter {
  mutating func storedBlock(_ data: [UInt8], final: Bool) {
    write(final ? 1 : 0, bits: 1)
    write(0, bits: 2)
    alignToByte()
    write(data.count, bits: 16)
    write(~data.count & 0xFFFF, bits: 16)
    bytes += data
  }

  /// A fixed-Huffman block of `tokens`, ended by symbol 256.
  mutating func fixedBlock(_ tokens: [Token], final: Bool) {
    write(final ? 1 : 0, bits: 1)
    write(1, bits: 2)
    let codes = FixedHuffman.literalCodes
    let lengths = FixedHuffman.literalLengths
    for token in tokens {
      switch token {
      case .literal(let b):
        writeCode(codes[Int(b)], length: lengths[Int(b)])
      case .match(let length, let distance):
        let l = lengthSymbol(length)
        writeCode(codes[l.symbol], length: lengths[l.symbol])
        write(l.extra, bits: l.extraBits)
        let d = distanceSymbol(distance)
        writeCode(d.symbol, length: 5)  // fixed distance codes: 5 bits, code = symbol
        write(d.extra, bits: d.extraBits)
      }
    }
    writeCode(codes[256], length: lengths[256])
  }

  /// A dynamic-Huffman block with the given literal/length and distance code lengths. The
  /// code lengths are sent literally (symbols 0–15) with a code-length code where every
  /// used length gets a 5-bit code... unless `codeLengthLengths` is given.
  mutating func dynamicBlock(
    literalLengths: [Int], distanceLengths: [Int], tokens: [Token], final: Bool,
    codeLengthLengths: [Int]? = nil, lengthSymbols: [(symbol: Int, extra: Int)]? = nil,
    endOfBlock: Bool = true
  ) {
    write(final ? 1 : 0, bits: 1)
    write(2, bits: 2)
    write(literalLengths.count - 257, bits: 5)
    write(distanceLengths.count - 1, bits: 5)
    // Default code-length code: the 16 symbols 0–15 with 4-bit codes (complete).
    let clLengths = codeLengthLengths ?? (Array(repeating: 4, count: 16) + [0, 0, 0])
    let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    var hclen = 19
    while hclen > 4 && clLengths[order[hclen - 1]] == 0 { hclen -= 1 }
    write(hclen - 4, bits: 4)
    for i in 0..<hclen { write(clLengths[order[i]], bits: 3) }
    let clCodes = canonicalCodes(clLengths)
    let sequence = lengthSymbols ?? (literalLengths + distanceLengths).map { ($0, 0) }
    for (symbol, extra) in sequence {
      writeCode(clCodes[symbol], length: clLengths[symbol])
      switch symbol {
      case 16: write(extra, bits: 2)
      case 17: write(extra, bits: 3)
      case 18: write(extra, bits: 7)
      default: break
      }
    }
    let litCodes = canonicalCodes(literalLengths)
    let distCodes = canonicalCodes(distanceLengths)
    for token in tokens {
      switch token {
      case .literal(let b):
        writeCode(litCodes[Int(b)], length: literalLengths[Int(b)])
      case .match(let length, let distance):
        let l = lengthSymbol(length)
        writeCode(litCodes[l.symbol], length: literalLengths[l.symbol])
        write(l.extra, bits: l.extraBits)
        let d = distanceSymbol(distance)
        writeCode(distCodes[d.symbol], length: distanceLengths[d.symbol])
        write(d.extra, bits: d.extraBits)
      }
    }
    if endOfBlock { writeCode(litCodes[256], length: literalLengths[256]) }
  }
}

/// Expands tokens into the bytes they stand for (the reference the decoder must match).
func expand(_ tokens: [Token], after prefix: [UInt8] = []) -> [UInt8] {
  var out = prefix
  for token in tokens {
    switch token {
    case .literal(let b): out.append(b)
    case .match(let length, let distance):
      for _ in 0..<length { out.append(out[out.count - distance]) }
    }
  }
  return Array(out[prefix.count...])
}

/// A deterministic byte generator (64-bit LCG, high 32 bits) shared with the Python script
/// that produced the zlib test vectors.
struct TestLCG {
  var state: UInt64
  mutating func next() -> UInt32 {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return UInt32(state >> 32)
  }
}

/// Wraps raw DEFLATE data in a minimal gzip member (no optional fields).
func gzipMember(deflate: [UInt8], crc: UInt32, size: Int, flags: UInt8 = 0, optional: [UInt8] = [])
  -> [UInt8]
{
  var out: [UInt8] = [0x1F, 0x8B, 8, flags, 0, 0, 0, 0, 0, 3] + optional + deflate
  for shift in stride(from: 0, to: 32, by: 8) {
    out.append(UInt8(truncatingIfNeeded: crc >> UInt32(shift)))
  }
  for shift in stride(from: 0, to: 32, by: 8) {
    out.append(UInt8(truncatingIfNeeded: size >> shift))
  }
  return out
}

/// The shared datasets folder, or nil when `SNN_DATA` is unset.
enum TestData {
  static var root: String? {
    guard let value = getenvString("SNN_DATA"), !value.isEmpty else { return nil }
    return value
  }
  static var available: Bool { root != nil }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

func getenvString(_ name: String) -> String? {
  guard let p = getenv(name) else { return nil }
  return String(cString: p)
}

/// This test process's scratch folder; everything ``temporaryPath(_:)`` hands out lies inside
/// it, and it is deleted when the process exits.
let scratchRoot = "/tmp/snn-datasets-test-\(getpid())"
private let scratchSetUp: Void = {
  mkdir(scratchRoot, 0o755)
  atexit { Directory.removeTree(scratchRoot) }
}()

func temporaryPath(_ name: String) -> String {
  _ = scratchSetUp
  return scratchRoot + "/\(name)-\(UInt64.random(in: 0...UInt64.max))"
}

