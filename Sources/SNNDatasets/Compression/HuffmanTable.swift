// Table-driven Huffman decoding for DEFLATE (RFC 1951, section 3.2.2).
//
// A table maps the next `primaryBits` input bits (least significant bit first, as DEFLATE
// packs codes) straight to a 32-bit entry. Codes longer than `primaryBits` go through one
// link entry to a subtable indexed by the following bits. Entry layout:
//
//   bits  0–7   bits to consume: the code length (or, in a subtable, the part of the
//               code length beyond `primaryBits`; for a link, `primaryBits`)
//   bits  8–11  extra bits that follow the code (length/distance), or a link's subtable bits
//   bits 12–14  kind: literal/distance, length, end of block, link, invalid
//   bits 16–31  value: literal byte, length or distance base, or a link's subtable offset

enum HuffmanEntry {
  static let kindShift: UInt32 = 12
  // Also "distance" in distance tables and "symbol" in code-length tables.
  static let literal: UInt32 = 0
  static let length: UInt32 = 1
  static let endOfBlock: UInt32 = 2
  static let link: UInt32 = 3
  static let invalid: UInt32 = 4

  @inline(__always) static func make(
    kind: UInt32, value: UInt32, extra: UInt32 = 0, bits: UInt32 = 0
  )
    -> UInt32
  {
    (value << 16) | (kind << kindShift) | (extra << 8) | bits
  }

  /// An entry for a bit pattern that no code uses.
  static let invalidEntry = make(kind: invalid, value: 0)

  /// Per-symbol payloads (entry without the bit count) of the literal/length alphabet
  /// 0–287: literals, end of block (256), lengths 257–285 with base and extra bits, and the
  /// two symbols 286–287 that take part in the fixed code but never occur in valid data.
  static let literalLengthPayloads: [UInt32] = {
    let lengthBase: [UInt32] = [
      3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
      131, 163, 195, 227, 258,
    ]
    let lengthExtra: [UInt32] = [
      0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ]
    var payloads = [UInt32](repeating: invalidEntry, count: 288)
    for s in 0..<256 { payloads[s] = make(kind: literal, value: UInt32(s)) }
    payloads[256] = make(kind: endOfBlock, value: 0)
    for i in 0..<29 {
      payloads[257 + i] = make(kind: length, value: lengthBase[i], extra: lengthExtra[i])
    }
    return payloads
  }()

  /// Payloads of the distance alphabet 0–31 (30 and 31 never occur in valid data).
  static let distancePayloads: [UInt32] = {
    var payloads = [UInt32](repeating: invalidEntry, count: 32)
    var base: UInt32 = 1
    for i in 0..<30 {
      let extra: UInt32 = i < 4 ? 0 : UInt32(i / 2 - 1)
      payloads[i] = make(kind: literal, value: base, extra: extra)
      base += 1 << extra
    }
    return payloads
  }()

  /// Payloads of the code-length alphabet 0–18 (the symbol itself).
  static let codeLengthPayloads: [UInt32] = (0..<19).map { make(kind: literal, value: UInt32($0)) }
}

/// Why a set of code lengths does not describe a usable Huffman code.
enum HuffmanBuildFailure: Error {
  case overSubscribed
  case incomplete
}

/// Storage for one decoding table: a primary table of 2^primaryBits entries followed by
/// room for subtables, plus scratch space for building. Allocated once per decoder and
/// rebuilt for every dynamic block, so decoding allocates nothing per block or symbol.
struct HuffmanTable {
  let primaryBits: Int
  let capacity: Int
  let entries: UnsafeMutablePointer<UInt32>
  /// Scratch: 16 length counts, 16 next codes, 16 probe codes (Int each), then one byte per
  /// primary entry for the longest code behind each prefix.
  private let scratch: UnsafeMutableRawPointer

  /// `maxSymbols` bounds the subtable space: each symbol with a code longer than
  /// `primaryBits` can open at most one subtable of at most 2^(15 − primaryBits) entries.
  init(primaryBits: Int, maxSymbols: Int) {
    self.primaryBits = primaryBits
    let subtableBits = max(0, 15 - primaryBits)
    capacity = (1 << primaryBits) + maxSymbols * (1 << subtableBits)
    entries = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity)
    entries.initialize(repeating: HuffmanEntry.invalidEntry, count: capacity)
    scratch = UnsafeMutableRawPointer.allocate(
      byteCount: 48 * MemoryLayout<Int>.stride + (1 << primaryBits),
      alignment: MemoryLayout<Int>.alignment)
  }

  func deallocate() {
    entries.deallocate()
    scratch.deallocate()
  }

  /// Builds the canonical Huffman code of `lengths[0..<count]` (RFC 1951, 3.2.2) into the
  /// table.
  ///
  /// An over-subscribed code always fails. An incomplete code fails unless
  /// `allowSingleCode` is set and the code is a single code of length 1 (RFC 1951 allows
  /// one distance code); a code with no symbols at all is accepted, and every pattern then
  /// decodes to the invalid entry.
  func build(
    lengths: UnsafePointer<UInt8>, count: Int, payloads: UnsafePointer<UInt32>,
    allowSingleCode: Bool
  ) throws(HuffmanBuildFailure) {
    let counts = scratch.bindMemory(to: Int.self, capacity: 48)
    let next = counts + 16
    let probe = counts + 32
    let longest = (scratch + 48 * MemoryLayout<Int>.stride).bindMemory(
      to: UInt8.self, capacity: 1 << primaryBits)
    for i in 0..<16 { counts[i] = 0 }
    var maxLength = 0
    for s in 0..<count {
      let l = Int(lengths[s])
      counts[l] += 1
      if l > maxLength { maxLength = l }
    }
    let primarySize = 1 << primaryBits
    entries.update(repeating: HuffmanEntry.invalidEntry, count: primarySize)
    if maxLength == 0 { return }
    // Kraft sum: `left` is the number of unused codes at each length.
    var left = 1
    for l in 1...15 {
      left = (left << 1) - counts[l]
      if left < 0 { throw .overSubscribed }
    }
    if left > 0 && !(allowSingleCode && maxLength == 1) { throw .incomplete }
    // First canonical code of each length.
    var code = 0
    counts[0] = 0
    for l in 1...15 {
      code = (code + counts[l - 1]) << 1
      next[l] = code
      probe[l] = code
    }
    let primaryMask = primarySize - 1
    if maxLength > primaryBits {
      // Size each subtable by the longest code that shares its primary prefix.
      longest.update(repeating: 0, count: primarySize)
      for s in 0..<count {
        let l = Int(lengths[s])
        if l == 0 { continue }
        let c = probe[l]
        probe[l] = c + 1
        guard l > primaryBits else { continue }
        let prefix = HuffmanTable.reverse(c, bits: l) & primaryMask
        if UInt8(l) > longest[prefix] { longest[prefix] = UInt8(l) }
      }
      var subtableEnd = primarySize
      for prefix in 0..<primarySize where longest[prefix] != 0 {
        let subBits = Int(longest[prefix]) - primaryBits
        entries[prefix] = HuffmanEntry.make(
          kind: HuffmanEntry.link, value: UInt32(subtableEnd), extra: UInt32(subBits),
          bits: UInt32(primaryBits))
        entries.advanced(by: subtableEnd).update(
          repeating: HuffmanEntry.invalidEntry, count: 1 << subBits)
        subtableEnd += 1 << subBits
      }
      precondition(subtableEnd <= capacity, "Huffman subtable space exhausted")
    }
    for s in 0..<count {
      let l = Int(lengths[s])
      if l == 0 { continue }
      let reversed = HuffmanTable.reverse(next[l], bits: l)
      next[l] += 1
      let payload = payloads[s]
      if l <= primaryBits {
        let entry = payload | UInt32(l)
        var i = reversed
        while i < primarySize {
          entries[i] = entry
          i += 1 << l
        }
      } else {
        let link = entries[reversed & primaryMask]
        let offset = Int(link >> 16)
        let subBits = Int((link >> 8) & 0xF)
        let rest = l - primaryBits
        let entry = payload | UInt32(rest)
        var i = reversed >> primaryBits
        while i < (1 << subBits) {
          entries[offset + i] = entry
          i += 1 << rest
        }
      }
    }
  }

  /// The low `bits` bits of `code` in reverse order.
  @inline(__always) static func reverse(_ code: Int, bits: Int) -> Int {
    var v = UInt16(truncatingIfNeeded: code)
    v = ((v & 0x5555) << 1) | ((v >> 1) & 0x5555)
    v = ((v & 0x3333) << 2) | ((v >> 2) & 0x3333)
    v = ((v & 0x0F0F) << 4) | ((v >> 4) & 0x0F0F)
    v = (v << 8) | (v >> 8)
    return Int(v >> (16 - bits))
  }
}
