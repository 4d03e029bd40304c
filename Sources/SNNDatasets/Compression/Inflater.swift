// DEFLATE decoder (RFC 1951): stored, fixed-Huffman and dynamic-Huffman blocks.
//
// Speed comes from three habits: a 64-bit bit buffer refilled eight bytes at a time (one
// refill covers a whole length/distance pair: at most 15 + 5 + 15 + 13 = 48 bits), Huffman
// tables that decode a symbol with one lookup (two for long codes) and carry the length or
// distance base and extra-bit count in the entry, and an output array grown geometrically
// with slack so that matches are copied eight bytes at a time without bounds checks.
//
// Near the end of the input the buffer is refilled one byte at a time and padded with zero
// bits; consuming a padding bit means the stream is truncated, which is checked before
// every symbol and at the end.

/// Decodes one raw DEFLATE stream from `input[start...]`, appending to an output array.
final class Inflater {
  /// Bytes of free output space the fast loop needs before each symbol: the longest match
  /// (258) plus the 8-byte over-copy of the wide copy loop, rounded up.
  static let outputSlack = 288
  static let literalPrimaryBits = 11
  static let distancePrimaryBits = 8

  private let input: UnsafePointer<UInt8>
  private let inputCount: Int
  private let path: String

  // Bit reader state.
  private var position: Int
  private var bitBuffer: UInt64 = 0
  private var bitCount: Int = 0
  /// Zero bits appended past the end of the input (always a multiple of 8).
  private var padding: Int = 0

  // Tables, allocated once and reused for every block.
  private let literalTable = HuffmanTable(primaryBits: Inflater.literalPrimaryBits, maxSymbols: 288)
  private let distanceTable = HuffmanTable(
    primaryBits: Inflater.distancePrimaryBits, maxSymbols: 32)
  private let codeLengthTable = HuffmanTable(primaryBits: 7, maxSymbols: 19)
  private let lengths = UnsafeMutablePointer<UInt8>.allocate(capacity: 320)
  private var fixedTablesLoaded = false

  private enum Phase {
    case blockHeader
    case stored(remaining: Int)
    case huffman
    case finished
  }
  private var phase = Phase.blockHeader
  private var finalBlock = false

  init(input: UnsafeBufferPointer<UInt8>, start: Int, path: String) {
    self.input = input.baseAddress ?? UnsafePointer(bitPattern: 1)!
    self.inputCount = input.count
    self.position = start
    self.path = path
  }

  deinit {
    literalTable.deallocate()
    distanceTable.deallocate()
    codeLengthTable.deallocate()
    lengths.deallocate()
  }

  /// Inflates the stream, appending to `output`, and returns the offset of the first input
  /// byte after the stream's last (partially used) byte.
  ///
  /// - Parameters:
  ///   - output: decoded bytes are appended; back-references may reach only bytes that this
  ///     call appended.
  ///   - expectedSize: a capacity hint (e.g. gzip's ISIZE); not trusted.
  ///   - limit: the largest total `output.count` allowed; exceeding it throws `.tooLarge`.
  func inflate(into output: inout [UInt8], expectedSize: Int?, limit: Int) throws(DataFormatError)
    -> Int
  {
    let memberStart = output.count
    var produced = memberStart
    // A declared size (gzip ISIZE, a ZIP entry's size) is only a hint: it is capped by the
    // most DEFLATE can expand its input (258 bytes per 2-bit match code: under 1032:1), so a
    // forged size cannot make the decoder allocate gigabytes for a tiny stream.
    let bound = 1032 * (inputCount - position) + 1024
    let hint = min(expectedSize ?? 4 * (inputCount - position) + 1024, bound, limit)
    var target = min(produced + max(hint, 0), limit) + Inflater.outputSlack
    while true {
      if output.count < target {
        // Zero-filled growth at memset/memcpy speed (appending a `repeatElement` sequence
        // goes element by element).
        if output.isEmpty {
          output = [UInt8](repeating: 0, count: target)
        } else {
          output.reserveCapacity(target)
          output += [UInt8](repeating: 0, count: target - output.count)
        }
      }
      let finished = try output.withUnsafeMutableBufferPointer {
        buffer throws(DataFormatError) -> Bool in
        try run(
          buffer.baseAddress!, capacity: buffer.count, produced: &produced, memberStart: memberStart
        )
      }
      if produced > limit {
        output.removeSubrange(memberStart...)
        throw error(.tooLarge, "the decompressed data exceeds the limit of \(limit) bytes")
      }
      if finished { break }
      let grown = max(output.count * 2, output.count + (1 << 16))
      target = min(grown, limit + Inflater.outputSlack)
      if target <= output.count { target = output.count + Inflater.outputSlack }
    }
    output.removeSubrange(produced...)
    // Return unused whole bytes of the bit buffer to the input.
    let realBits = bitCount - padding
    return position - realBits / 8
  }

  /// The byte offset of the next unread bit.
  private var currentOffset: Int { position - max(0, bitCount - padding) / 8 }

  /// An error of `kind`, unless the bits that led to it were padding past the end of the
  /// input: then the real fault is truncation.
  private func error(_ kind: DataFormatError.Kind, _ detail: String, at offset: Int? = nil)
    -> DataFormatError
  {
    if bitCount < padding { return truncated() }
    return DataFormatError(path: path, offset: offset ?? currentOffset, kind: kind, detail: detail)
  }

  // MARK: Bit reading outside the hot loop

  /// Ensures at least 56 bits in the buffer, padding with zeros past the end of the input.
  /// Throws if padding bits were already consumed.
  @inline(__always)
  private func refill() throws(DataFormatError) {
    if bitCount < padding { throw truncated() }
    if position + 8 <= inputCount {
      bitBuffer |=
        UInt64(littleEndian: UnsafeRawPointer(input + position).loadUnaligned(as: UInt64.self))
        << UInt64(bitCount)
      position += (63 - bitCount) >> 3
      bitCount |= 56
    } else {
      while bitCount <= 56 {
        if position < inputCount {
          bitBuffer |= UInt64(input[position]) << UInt64(bitCount)
          position += 1
        } else {
          padding += 8
        }
        bitCount += 8
      }
    }
  }

  private func truncated() -> DataFormatError {
    DataFormatError(
      path: path, offset: inputCount, kind: .truncated,
      detail: "the DEFLATE stream ends before its final block is complete")
  }

  @inline(__always)
  private func bits(_ n: Int) -> UInt32 {
    UInt32(truncatingIfNeeded: bitBuffer & ((1 << UInt64(n)) - 1))
  }

  @inline(__always)
  private func consume(_ n: Int) {
    bitBuffer >>= UInt64(n)
    bitCount -= n
  }

  // MARK: Blocks

  /// Runs until the stream ends (returns true) or the output needs more room (false).
  private func run(
    _ out: UnsafeMutablePointer<UInt8>, capacity: Int, produced: inout Int, memberStart: Int
  ) throws(DataFormatError) -> Bool {
    while true {
      switch phase {
      case .finished:
        return true
      case .blockHeader:
        try readBlockHeader()
      case .stored(let remaining):
        let room = capacity - Inflater.outputSlack - produced
        if room <= 0 { return false }
        let n = min(remaining, room)
        guard position + n <= inputCount else {
          throw DataFormatError(
            path: path, offset: inputCount, kind: .truncated,
            detail:
              "stored block needs \(remaining) more bytes, the input has \(inputCount - position)")
        }
        (out + produced).update(from: input + position, count: n)
        produced += n
        position += n
        if n < remaining {
          phase = .stored(remaining: remaining - n)
          return false
        }
        phase = finalBlock ? .finished : .blockHeader
        if finalBlock { try finish() }
      case .huffman:
        let done = try decodeHuffman(
          out, capacity: capacity, produced: &produced, memberStart: memberStart)
        if !done { return false }
        phase = finalBlock ? .finished : .blockHeader
        if finalBlock { try finish() }
      }
    }
  }

  /// Checks that the stream did not run past the end of the input.
  private func finish() throws(DataFormatError) {
    if bitCount < padding { throw truncated() }
  }

  private func readBlockHeader() throws(DataFormatError) {
    let headerOffset = currentOffset
    try refill()
    finalBlock = bits(1) == 1
    let type = (bits(3) >> 1) & 3
    consume(3)
    switch type {
    case 0:
      // Stored: skip to a byte boundary, then LEN and its complement NLEN.
      consume(bitCount & 7)
      if bitCount < padding { throw truncated() }
      // Hand the whole bytes still in the buffer back to the input.
      position -= (bitCount - padding) / 8
      bitBuffer = 0
      bitCount = 0
      padding = 0
      guard position + 4 <= inputCount else {
        throw DataFormatError(
          path: path, offset: inputCount, kind: .truncated,
          detail: "stored block header needs 4 bytes (LEN, NLEN)")
      }
      let len = Int(input[position]) | Int(input[position + 1]) << 8
      let nlen = Int(input[position + 2]) | Int(input[position + 3]) << 8
      guard len == (~nlen & 0xFFFF) else {
        throw DataFormatError(
          path: path, offset: position, kind: .badHeader,
          detail:
            "stored block LEN \(hex(UInt16(len))) is not the complement of NLEN \(hex(UInt16(nlen)))"
        )
      }
      position += 4
      phase = .stored(remaining: len)
    case 1:
      if !fixedTablesLoaded { try loadFixedTables() }
      phase = .huffman
    case 2:
      fixedTablesLoaded = false
      try readDynamicTables()
      phase = .huffman
    default:
      throw error(
        .badBlockType, "block type 3 is reserved (expected 0 stored, 1 fixed, 2 dynamic)",
        at: headerOffset)
    }
  }

  private func loadFixedTables() throws(DataFormatError) {
    for i in 0..<144 { lengths[i] = 8 }
    for i in 144..<256 { lengths[i] = 9 }
    for i in 256..<280 { lengths[i] = 7 }
    for i in 280..<288 { lengths[i] = 8 }
    for i in 288..<320 { lengths[i] = 5 }
    try buildTables(literalCount: 288, distanceCount: 32)
    fixedTablesLoaded = true
  }

  private func buildTables(literalCount: Int, distanceCount: Int) throws(DataFormatError) {
    let offset = currentOffset
    do {
      try HuffmanEntry.literalLengthPayloads.withUnsafeBufferPointer {
        payloads throws(HuffmanBuildFailure) in
        try literalTable.build(
          lengths: lengths, count: literalCount, payloads: payloads.baseAddress!,
          allowSingleCode: false)
      }
    } catch {
      throw self.error(.invalidCodeLengths, "literal/length code is \(describe(error))", at: offset)
    }
    do {
      try HuffmanEntry.distancePayloads.withUnsafeBufferPointer {
        payloads throws(HuffmanBuildFailure) in
        try distanceTable.build(
          lengths: lengths + literalCount, count: distanceCount, payloads: payloads.baseAddress!,
          allowSingleCode: true)
      }
    } catch {
      throw self.error(.invalidCodeLengths, "distance code is \(describe(error))", at: offset)
    }
  }

  private func describe(_ failure: HuffmanBuildFailure) -> String {
    switch failure {
    case .overSubscribed: return "over-subscribed (more codes than the lengths allow)"
    case .incomplete: return "incomplete (unused bit patterns)"
    }
  }

  /// Reads HLIT, HDIST, HCLEN, the code-length code and the run-length coded code lengths.
  private func readDynamicTables() throws(DataFormatError) {
    let headerOffset = currentOffset
    try refill()
    let literalCount = Int(bits(5)) + 257
    consume(5)
    let distanceCount = Int(bits(5)) + 1
    consume(5)
    let codeLengthCount = Int(bits(4)) + 4
    consume(4)
    guard literalCount <= 286, distanceCount <= 30 else {
      throw error(
        .badHeader,
        "dynamic block declares \(literalCount) literal/length and \(distanceCount) distance codes (at most 286 and 30)",
        at: headerOffset)
    }
    // Code-length code lengths, 3 bits each, in this fixed order.
    let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    for i in 0..<19 { lengths[i] = 0 }
    for i in 0..<codeLengthCount {
      if bitCount < 3 { try refill() }
      lengths[order[i]] = UInt8(bits(3))
      consume(3)
    }
    do {
      try HuffmanEntry.codeLengthPayloads.withUnsafeBufferPointer {
        payloads throws(HuffmanBuildFailure) in
        try codeLengthTable.build(
          lengths: lengths, count: 19, payloads: payloads.baseAddress!, allowSingleCode: false)
      }
    } catch {
      throw self.error(
        .invalidCodeLengths, "code-length code is \(describe(error))", at: headerOffset)
    }
    // The literal/length and distance code lengths, one sequence.
    let total = literalCount + distanceCount
    var i = 0
    let table = codeLengthTable.entries
    while i < total {
      try refill()
      let entry = table[Int(truncatingIfNeeded: bitBuffer) & 0x7F]
      if (entry >> HuffmanEntry.kindShift) & 7 == HuffmanEntry.invalid {
        throw error(.invalidSymbol, "bit pattern not in the code-length code")
      }
      consume(Int(entry & 0xFF))
      let symbol = Int(entry >> 16)
      if symbol < 16 {
        lengths[i] = UInt8(symbol)
        i += 1
        continue
      }
      var repeatCount: Int
      var value: UInt8 = 0
      switch symbol {
      case 16:
        guard i > 0 else {
          throw error(
            .invalidCodeLengths, "code 16 (repeat previous length) with no previous length")
        }
        value = lengths[i - 1]
        repeatCount = 3 + Int(bits(2))
        consume(2)
      case 17:
        repeatCount = 3 + Int(bits(3))
        consume(3)
      default:
        repeatCount = 11 + Int(bits(7))
        consume(7)
      }
      guard i + repeatCount <= total else {
        throw error(
          .invalidCodeLengths,
          "a repeat code runs past the \(total) declared code lengths (to \(i + repeatCount))")
      }
      for k in 0..<repeatCount { lengths[i + k] = value }
      i += repeatCount
    }
    if bitCount < padding { throw truncated() }
    guard lengths[256] != 0 else {
      throw error(.invalidCodeLengths, "the end-of-block symbol 256 has no code", at: headerOffset)
    }
    try buildTables(literalCount: literalCount, distanceCount: distanceCount)
  }

  // MARK: The hot loop

  /// Decodes symbols of the current Huffman block. Returns true at the end of the block,
  /// false when the output needs more room.
  private func decodeHuffman(
    _ out: UnsafeMutablePointer<UInt8>, capacity: Int, produced: inout Int, memberStart: Int
  ) throws(DataFormatError) -> Bool {
    let literals = UnsafePointer(literalTable.entries)
    let distances = UnsafePointer(distanceTable.entries)
    let input = self.input
    let inputCount = self.inputCount
    let fastEnd = inputCount - 8
    let outputLimit = capacity - Inflater.outputSlack
    var bb = bitBuffer
    var bc = bitCount
    var pos = position
    var o = produced
    defer {
      bitBuffer = bb
      bitCount = bc
      position = pos
      produced = o
    }
    let literalMask = UInt64((1 << Inflater.literalPrimaryBits) - 1)
    let distanceMask = UInt64((1 << Inflater.distancePrimaryBits) - 1)
    while true {
      if o > outputLimit { return false }
      // Refill to at least 56 bits.
      if pos <= fastEnd {
        bb |=
          UInt64(littleEndian: UnsafeRawPointer(input + pos).loadUnaligned(as: UInt64.self))
          << UInt64(bc)
        pos &+= (63 &- bc) >> 3
        bc |= 56
      } else {
        if bc < padding { throw truncated() }
        while bc <= 56 {
          if pos < inputCount {
            bb |= UInt64(input[pos]) << UInt64(bc)
            pos += 1
          } else {
            padding += 8
          }
          bc += 8
        }
      }
      var entry = literals[Int(truncatingIfNeeded: bb & literalMask)]
      if (entry >> HuffmanEntry.kindShift) & 7 == HuffmanEntry.link {
        bb >>= UInt64(Inflater.literalPrimaryBits)
        bc &-= Inflater.literalPrimaryBits
        let subMask = (UInt64(1) << UInt64((entry >> 8) & 0xF)) &- 1
        entry = literals[Int(entry >> 16) &+ Int(truncatingIfNeeded: bb & subMask)]
      }
      bb >>= UInt64(entry & 0xFF)
      bc &-= Int(entry & 0xFF)
      let kind = (entry >> HuffmanEntry.kindShift) & 7
      if kind == HuffmanEntry.literal {
        out[o] = UInt8(truncatingIfNeeded: entry >> 16)
        o &+= 1
        // A second literal fits in the remaining bits (at least 41) without a refill.
        let second = literals[Int(truncatingIfNeeded: bb & literalMask)]
        if (second >> HuffmanEntry.kindShift) & 7 != HuffmanEntry.literal { continue }
        bb >>= UInt64(second & 0xFF)
        bc &-= Int(second & 0xFF)
        out[o] = UInt8(truncatingIfNeeded: second >> 16)
        o &+= 1
        continue
      }
      if kind == HuffmanEntry.length {
        let extra = UInt64((entry >> 8) & 0xF)
        let length = Int(entry >> 16) &+ Int(truncatingIfNeeded: bb & ((1 << extra) &- 1))
        bb >>= extra
        bc &-= Int(extra)
        var d = distances[Int(truncatingIfNeeded: bb & distanceMask)]
        if (d >> HuffmanEntry.kindShift) & 7 == HuffmanEntry.link {
          bb >>= UInt64(Inflater.distancePrimaryBits)
          bc &-= Inflater.distancePrimaryBits
          let subMask = (UInt64(1) << UInt64((d >> 8) & 0xF)) &- 1
          d = distances[Int(d >> 16) &+ Int(truncatingIfNeeded: bb & subMask)]
        }
        bb >>= UInt64(d & 0xFF)
        bc &-= Int(d & 0xFF)
        if (d >> HuffmanEntry.kindShift) & 7 != HuffmanEntry.literal {
          if bc < padding { throw truncated() }
          throw DataFormatError(
            path: path, offset: pos - max(0, bc - padding) / 8, kind: .invalidSymbol,
            detail: "bit pattern is not a distance code of this block (or is distance symbol 30/31)"
          )
        }
        let dExtra = UInt64((d >> 8) & 0xF)
        let distance = Int(d >> 16) &+ Int(truncatingIfNeeded: bb & ((1 << dExtra) &- 1))
        bb >>= dExtra
        bc &-= Int(dExtra)
        if distance > o &- memberStart {
          if bc < padding { throw truncated() }
          throw DataFormatError(
            path: path, offset: pos - max(0, bc - padding) / 8, kind: .distanceTooFar,
            detail: "match distance \(distance) exceeds the \(o - memberStart) bytes decoded so far"
          )
        }
        copyMatch(out + o, distance: distance, length: length)
        o &+= length
        continue
      }
      if kind == HuffmanEntry.endOfBlock {
        if bc < padding { throw truncated() }
        return true
      }
      if bc < padding { throw truncated() }
      throw DataFormatError(
        path: path, offset: pos - max(0, bc - padding) / 8, kind: .invalidSymbol,
        detail: "bit pattern is not a literal/length code of this block (or is symbol 286/287)")
    }
  }

  /// Copies `length` bytes from `distance` bytes back; may write up to 7 bytes past the end
  /// (the output keeps `outputSlack` bytes of room).
  @inline(__always)
  private func copyMatch(_ destination: UnsafeMutablePointer<UInt8>, distance: Int, length: Int) {
    var src = UnsafeRawPointer(destination - distance)
    var dst = UnsafeMutableRawPointer(destination)
    if distance >= 8 {
      let end = dst + length
      repeat {
        dst.storeBytes(of: src.loadUnaligned(as: UInt64.self), as: UInt64.self)
        src += 8
        dst += 8
      } while dst < end
    } else if distance == 1 {
      dst.initializeMemory(as: UInt8.self, repeating: destination[-1], count: length)
    } else {
      let s = destination - distance
      for i in 0..<length { destination[i] = s[i] }
    }
  }
}
