import SNNBase
import Testing

@testable import SNNDatasets

@Suite struct CRC32Tests {
  @Test func standardCheckValues() {
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(CRC32.checksum([]) == 0)
    #expect(
      CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
  }

  @Test func slicedUpdateMatchesBitwiseReferenceAndChunking() {
    var lcg = TestLCG(state: 7)
    let data = (0..<10_001).map { _ in UInt8(truncatingIfNeeded: lcg.next()) }
    // Bit-at-a-time reference.
    var reference: UInt32 = 0xFFFF_FFFF
    for byte in data {
      reference ^= UInt32(byte)
      for _ in 0..<8 {
        reference = (reference & 1) != 0 ? (reference >> 1) ^ 0xEDB8_8320 : reference >> 1
      }
    }
    reference = ~reference
    #expect(CRC32.checksum(data) == reference)
    var chunked = CRC32()
    var start = 0
    for size in [1, 7, 8, 9, 100, 3, 4096] {
      chunked.update(data, range: start..<start + size)
      start += size
    }
    chunked.update(data, range: start..<data.count)
    #expect(chunked.value == reference)
  }
}

@Suite struct InflateTests {
  // MARK: Stored blocks

  @Test func storedBlockBuiltByHand() throws {
    // BFINAL=1, BTYPE=00, LEN=5, NLEN=~5, "hello".
    let stream: [UInt8] = [0x01, 0x05, 0x00, 0xFA, 0xFF, 0x68, 0x65, 0x6C, 0x6C, 0x6F]
    #expect(try Deflate.inflate(stream) == Array("hello".utf8))
  }

  @Test func severalStoredBlocksIncludingEmptyAndMaximal() throws {
    var lcg = TestLCG(state: 1)
    let big = (0..<65_535).map { _ in UInt8(truncatingIfNeeded: lcg.next()) }
    var w = BitWriter()
    w.storedBlock([], final: false)
    w.storedBlock(Array("abc".utf8), final: false)
    w.storedBlock(big, final: false)
    w.storedBlock(big.reversed(), final: true)
    let out = try Deflate.inflate(w.bytes)
    #expect(out == Array("abc".utf8) + big + big.reversed())
  }

  // MARK: Fixed Huffman

  @Test func fixedBlockWithEveryLiteralValue() throws {
    let tokens = (0..<256).map { Token.literal(UInt8($0)) } + [.literal(255), .literal(0)]
    var w = BitWriter()
    w.fixedBlock(tokens, final: true)
    #expect(try Deflate.inflate(w.bytes) == expand(tokens))
  }

  @Test func fixedBlockMatchesOfEveryKind() throws {
    var tokens: [Token] = Array("abcdefghijklmnop".utf8).map { .literal($0) }
    tokens += [
      .match(length: 3, distance: 1),  // run of the last byte
      .match(length: 10, distance: 2),  // overlapping, short period
      .match(length: 17, distance: 7),
      .match(length: 258, distance: 8),  // wide copy, overlapping
      .match(length: 31, distance: 16),
      .literal(0x7A),
      .match(length: 258, distance: 300),
      .match(length: 4, distance: 1),
    ]
    // Every length code and its extra bits.
    for length in [
      3, 4, 10, 11, 12, 13, 18, 19, 22, 23, 34, 35, 66, 67, 130, 131, 226, 227, 257, 258,
    ] {
      tokens.append(.match(length: length, distance: 5))
    }
    // Distances with extra bits, up to the full 32 KiB window.
    let prefix = (0..<33_000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 7) }
    for distance in [
      1, 4, 5, 6, 7, 8, 9, 12, 13, 24, 25, 48, 49, 96, 97, 192, 193, 1024, 1025, 4097, 8192, 16_385,
      24_577, 32_768,
    ] {
      tokens.append(.match(length: 5, distance: distance))
    }
    var w = BitWriter()
    w.storedBlock(Array(prefix[..<30_000]), final: false)
    w.storedBlock(Array(prefix[30_000...]), final: false)
    w.fixedBlock(tokens, final: true)
    let out = try Deflate.inflate(w.bytes)
    #expect(out == prefix + expand(tokens, after: prefix))
  }

  // MARK: Dynamic Huffman

  /// Literal/length code lengths 1, 2, ..., 14 for 'a'...'n' and 15 for 'z' and end of
  /// block: a complete code whose longest codes need the decoder's subtables.
  static var deepLengths: [Int] {
    var lengths = [Int](repeating: 0, count: 257)
    for (i, c) in "abcdefghijklmn".utf8.enumerated() { lengths[Int(c)] = i + 1 }
    lengths[Int(UInt8(ascii: "z"))] = 15
    lengths[256] = 15
    return lengths
  }

  @Test func dynamicBlockWithFifteenBitCodes() throws {
    let text = Array("nmlkjihgfedcbazzaabnz".utf8)
    var w = BitWriter()
    w.dynamicBlock(
      literalLengths: Self.deepLengths, distanceLengths: [0], tokens: text.map { .literal($0) },
      final: true)
    #expect(try Deflate.inflate(w.bytes) == text)
  }

  @Test func dynamicBlockWithRepeatCodesAndMatches() throws {
    // Literals 'a'...'h' length 4, end of block 4, length symbols 257–264 length 4: 17
    // codes of length 4 would over-subscribe, so use 16 of length 4 (complete code).
    var lit = [Int](repeating: 0, count: 265)
    for c in 97...103 { lit[c] = 4 }  // 'a'...'g' (7)
    lit[256] = 4
    for s in 257...264 { lit[s] = 4 }  // 8 length symbols
    // Distances: symbols 0–3 length 2 (complete).
    let dist = [2, 2, 2, 2]
    // Send the 265 + 4 lengths with 18 (zeros 11–138), 17 (zeros 3–10), 16 (repeat 3–6).
    // 0–96: 97 zeros = 18 (97 → extra 86); 97–103: 4 then 16 ×6 (extra 3); 104–255: 152
    // zeros = 18 (138 → 127) + 17 (14? no: 14 > 10) → 18 (138) + 18? 14 ≥ 11 → 18 (extra 3);
    // 256: 4; 257–264: 4 ×8 = literal 4 then 16 (6) + literal 4; distances 2, 16 (3).
    let sequence: [(symbol: Int, extra: Int)] = [
      (18, 97 - 11), (4, 0), (16, 6 - 3), (18, 138 - 11), (18, 14 - 11), (4, 0), (4, 0),
      (16, 6 - 3),
      (4, 0), (2, 0), (16, 3 - 3),
    ]
    // Code-length code: symbols 2, 4, 16, 18 with length 2 (complete); 17 unused here.
    var cl = [Int](repeating: 0, count: 19)
    cl[2] = 2
    cl[4] = 2
    cl[16] = 2
    cl[18] = 2
    let tokens: [Token] = [
      .literal(97), .literal(98), .literal(99), .match(length: 3, distance: 3),
      .match(length: 10, distance: 1),
      .literal(103), .match(length: 4, distance: 4),
    ]
    var w = BitWriter()
    w.dynamicBlock(
      literalLengths: lit, distanceLengths: dist, tokens: tokens, final: true,
      codeLengthLengths: cl,
      lengthSymbols: sequence)
    #expect(try Deflate.inflate(w.bytes) == expand(tokens))
  }

  @Test func singleDistanceCodeAndEmptyDistanceCodeAreAllowed() throws {
    // RFC 1951 3.2.7: one distance code of one bit is allowed (an incomplete code).
    var lit = [Int](repeating: 0, count: 258)
    lit[97] = 1
    lit[256] = 2
    lit[257] = 2
    let tokens: [Token] = [.literal(97), .match(length: 3, distance: 1)]
    var w = BitWriter()
    w.dynamicBlock(literalLengths: lit, distanceLengths: [1], tokens: tokens, final: false)
    // A literal-only block with no distance codes at all.
    var lit2 = [Int](repeating: 0, count: 257)
    lit2[98] = 1
    lit2[256] = 1
    w.dynamicBlock(literalLengths: lit2, distanceLengths: [0], tokens: [.literal(98)], final: true)
    #expect(try Deflate.inflate(w.bytes) == Array("aaaab".utf8))
  }

  @Test func mixedBlockTypesInOneStream() throws {
    var w = BitWriter()
    w.fixedBlock(Array("fixed ".utf8).map { .literal($0) }, final: false)
    w.storedBlock(Array("stored ".utf8), final: false)
    w.dynamicBlock(
      literalLengths: Self.deepLengths, distanceLengths: [0],
      tokens: [.literal(97), .literal(122)], final: false)
    w.fixedBlock([.literal(33), .match(length: 6, distance: 10)], final: true)
    #expect(try Deflate.inflate(w.bytes) == Array("fixed stored az!stored".utf8))
  }

  // MARK: Vectors produced by zlib (Python `zlib.compressobj(9, DEFLATED, -15)`)

  /// The first sentence of *A Tale of Two Cities*, compressed by zlib into one dynamic block.
  static let dickens: [UInt8] = [
    0x75, 0xcb, 0xdb, 0x09, 0x80, 0x30, 0x0c, 0x46, 0xe1, 0x55, 0x32, 0x80, 0xb8, 0x87, 0x63, 0xf4,
    0xf2, 0xd7, 0x06, 0x6a, 0x23, 0x4d, 0xa4, 0xb8, 0xbd, 0xf4, 0x49, 0x84, 0xfa, 0xfc, 0x9d, 0xb3,
    0x19, 0x75, 0xa7, 0x64, 0x19, 0xe4, 0xa1, 0x46, 0x92, 0xc8, 0xf8, 0x80, 0x2e, 0xc4, 0xaf, 0x74,
    0x69, 0x7f, 0xe4, 0x76, 0x0c, 0xe8, 0xac, 0x51, 0x8e, 0x99, 0x24, 0x91, 0xc2, 0x9a, 0x2b, 0xf4,
    0x3b, 0xe2, 0x94, 0x90, 0x47, 0xe0, 0x51, 0x18, 0x69, 0x6e, 0x5c, 0x43, 0x43, 0xbc, 0x0a, 0xdb,
    0xbd, 0x3e,
  ]
  static let dickensText =
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity."

  /// 1,500 bytes of words drawn by `TestLCG(state: 12345)` (`words[h % 9]`), compressed by
  /// zlib into one dynamic block with many matches.
  static let words: [UInt8] = [
    0x75, 0x54, 0x5b, 0x6e, 0xc3, 0x30, 0x0c, 0xfb, 0xd7, 0x29, 0x74, 0xb5, 0x14, 0x33, 0xd0, 0xa1,
    0xa9, 0x5b, 0xc4, 0x5d, 0x81, 0xdd, 0x7e, 0x8b, 0xfc, 0x10, 0x29, 0xbb, 0x1f, 0x71, 0xec, 0x58,
    0x92, 0x29, 0x92, 0xce, 0x9e, 0xb6, 0x5b, 0xf9, 0xcd, 0xdb, 0xb3, 0xa4, 0xfd, 0x7f, 0x2a, 0xf7,
    0x74, 0xbf, 0x1c, 0x5b, 0xb6, 0x45, 0x79, 0x7e, 0xdf, 0x52, 0x7a, 0xa7, 0xfc, 0x12, 0x9b, 0xea,
    0xd8, 0x6d, 0x19, 0xfc, 0xca, 0xe9, 0xe7, 0x78, 0x64, 0x8b, 0xb7, 0xf0, 0x1e, 0x5c, 0xbf, 0xab,
    0x6d, 0xd8, 0x70, 0xd6, 0x7e, 0x5d, 0x8f, 0x54, 0xae, 0x8f, 0xfd, 0xab, 0x47, 0x89, 0xd8, 0x5e,
    0x5f, 0x8e, 0x7d, 0x2b, 0x05, 0xa5, 0x55, 0x60, 0x51, 0xa7, 0x72, 0x16, 0x3c, 0x1f, 0xb5, 0xa1,
    0x8e, 0x04, 0xc1, 0xab, 0xad, 0x80, 0x5b, 0x68, 0x6d, 0x91, 0x8f, 0x05, 0x62, 0xb8, 0x99, 0x8a,
    0xb5, 0x6d, 0x8f, 0x1c, 0x01, 0xac, 0x3d, 0xde, 0x02, 0x3d, 0x02, 0x50, 0xef, 0xce, 0x3c, 0x61,
    0x55, 0x3c, 0xba, 0xbd, 0x9c, 0x3b, 0x25, 0xb2, 0x31, 0x9f, 0x36, 0x00, 0x13, 0x15, 0xf2, 0x43,
    0xa0, 0xf0, 0x89, 0x64, 0x4d, 0xfe, 0x5a, 0x8d, 0xca, 0xd7, 0x48, 0xc5, 0x52, 0xca, 0x91, 0xea,
    0x16, 0xa2, 0x1e, 0x81, 0x58, 0x27, 0x83, 0x6c, 0x11, 0xb9, 0x65, 0x56, 0x3d, 0x11, 0xc7, 0x96,
    0xa3, 0x81, 0x02, 0x3a, 0x19, 0xb5, 0x14, 0x16, 0x87, 0x5c, 0xe4, 0xc0, 0x89, 0x19, 0x51, 0x54,
    0x9e, 0xf3, 0x27, 0xb2, 0x66, 0xdf, 0x58, 0x79, 0xfe, 0xe4, 0x4a, 0xcd, 0x77, 0x0f, 0x9c, 0x4e,
    0x28, 0x10, 0x83, 0x8c, 0x02, 0x55, 0x00, 0x72, 0x09, 0x54, 0x41, 0x30, 0x43, 0x06, 0xb2, 0xfc,
    0xd2, 0xd3, 0x51, 0x90, 0xc6, 0x34, 0x19, 0x36, 0xdc, 0x8d, 0x58, 0x22, 0x88, 0xfe, 0x99, 0x2f,
    0xd6, 0x18, 0xef, 0x7c, 0xeb, 0x6a, 0x10, 0xd3, 0x95, 0xee, 0x67, 0x89, 0xc6, 0xd6, 0xc0, 0x98,
    0x02, 0x98, 0xa9, 0x0b, 0xa2, 0x73, 0x5c, 0x02, 0x1f, 0x62, 0xef, 0xdd, 0x20, 0x9c, 0xcd, 0x17,
    0x4c, 0x54, 0xa7, 0xdf, 0xc2, 0xf2, 0x7f, 0x17, 0xd4, 0x37, 0x67, 0x2c, 0xc8, 0x8d, 0xef, 0xc9,
    0x7e, 0x3a, 0x80, 0x6b, 0x20, 0xb2, 0xfc, 0x01,
  ]

  static var wordsText: [UInt8] {
    let words = ["spike", "neuron", "synapse", "event", "threshold", "membrane", "leak", " ", "\n"]
    var lcg = TestLCG(state: 12345)
    var out: [UInt8] = []
    while out.count < 1500 { out += Array(words[Int(lcg.next() % 9)].utf8) }
    return Array(out[..<1500])
  }

  @Test func zlibVectors() throws {
    #expect(try Deflate.inflate(Self.dickens) == Array(Self.dickensText.utf8))
    let words = try Deflate.inflate(Self.words)
    #expect(words == Self.wordsText)
    #expect(CRC32.checksum(words) == 0x4F6F_A8EE)  // zlib.crc32 of the same text
  }

  // MARK: Malformed streams

  func expectError(
    _ kind: DataFormatError.Kind, _ bytes: [UInt8], limit: Int = Deflate.defaultLimit
  ) {
    do {
      let out = try Deflate.inflate(bytes, path: "test.deflate", limit: limit)
      Issue.record("expected \(kind), decoded \(out.count) bytes")
    } catch {
      #expect(error.kind == kind, "\(error)")
      #expect(error.path == "test.deflate")
      #expect(error.offset != nil)
    }
  }

  @Test func reservedBlockTypeIsRejected() {
    expectError(.badBlockType, [0x07, 0x00, 0x00])  // BFINAL=1, BTYPE=11
  }

  @Test func storedLengthComplementMismatch() {
    expectError(.badHeader, [0x01, 0x05, 0x00, 0xFB, 0xFF, 0x68, 0x65, 0x6C, 0x6C, 0x6F])
  }

  @Test func overSubscribedAndIncompleteCodesAreRejected() {
    // Code-length code with four codes of length 1: over-subscribed.
    var w = BitWriter()
    w.write(1, bits: 1)
    w.write(2, bits: 2)
    w.write(0, bits: 5)
    w.write(0, bits: 5)
    w.write(0, bits: 4)  // HCLEN = 4
    for _ in 0..<4 { w.write(1, bits: 3) }
    w.write(0, bits: 16)
    expectError(.invalidCodeLengths, w.bytes)

    // Literal/length code that is incomplete (two codes of length 2).
    var lit = [Int](repeating: 0, count: 257)
    lit[97] = 2
    lit[256] = 2
    var v = BitWriter()
    v.dynamicBlock(literalLengths: lit, distanceLengths: [0], tokens: [.literal(97)], final: true)
    expectError(.invalidCodeLengths, v.bytes)

    // Over-subscribed literal/length code (three codes of length 1).
    var lit3 = [Int](repeating: 0, count: 257)
    lit3[97] = 1
    lit3[98] = 1
    lit3[256] = 1
    var u = BitWriter()
    u.dynamicBlock(
      literalLengths: lit3, distanceLengths: [0], tokens: [], final: true, endOfBlock: false)
    u.write(0, bits: 8)
    expectError(.invalidCodeLengths, u.bytes)

    // Distance code of two symbols with lengths 1 and 2: incomplete, not the allowed case.
    var t = BitWriter()
    t.dynamicBlock(
      literalLengths: Self.deepLengths, distanceLengths: [1, 2], tokens: [.literal(97)], final: true
    )
    expectError(.invalidCodeLengths, t.bytes)
  }

  @Test func missingEndOfBlockCodeAndBadRepeatsAreRejected() {
    var lit = [Int](repeating: 0, count: 257)
    lit[97] = 1
    lit[98] = 1
    var w = BitWriter()
    w.dynamicBlock(
      literalLengths: lit, distanceLengths: [0], tokens: [], final: true, endOfBlock: false)
    w.write(0, bits: 8)
    expectError(.invalidCodeLengths, w.bytes)

    // Code 16 (repeat previous) as the very first code length.
    var cl = [Int](repeating: 0, count: 19)
    cl[0] = 1
    cl[16] = 1
    var r = BitWriter()
    r.dynamicBlock(
      literalLengths: Self.deepLengths, distanceLengths: [0], tokens: [], final: true,
      codeLengthLengths: cl,
      lengthSymbols: [(16, 0)], endOfBlock: false)
    r.write(0, bits: 16)
    expectError(.invalidCodeLengths, r.bytes)

    // A zero run (18, 138 zeros) twice: 276 > 257 + 1 declared lengths.
    var z = [Int](repeating: 0, count: 19)
    z[18] = 1
    z[1] = 1
    var q = BitWriter()
    q.dynamicBlock(
      literalLengths: [Int](repeating: 0, count: 257), distanceLengths: [0], tokens: [],
      final: true,
      codeLengthLengths: z, lengthSymbols: [(18, 127), (18, 127)], endOfBlock: false)
    q.write(0, bits: 16)
    expectError(.invalidCodeLengths, q.bytes)
  }

  @Test func tooManyDeclaredCodesAreRejected() {
    var w = BitWriter()
    w.write(1, bits: 1)
    w.write(2, bits: 2)
    w.write(30, bits: 5)  // HLIT = 287 > 286
    w.write(0, bits: 5)
    w.write(0, bits: 4)
    w.write(0, bits: 32)
    expectError(.badHeader, w.bytes)
  }

  @Test func distanceBeforeTheStartIsRejected() {
    var w = BitWriter()
    w.fixedBlock([.literal(97), .literal(98), .match(length: 3, distance: 3)], final: true)
    expectError(.distanceTooFar, w.bytes)
  }

  @Test func invalidFixedSymbolsAreRejected() {
    // Literal/length symbol 286 (8-bit code 0xC6) in a fixed block.
    var w = BitWriter()
    w.write(1, bits: 1)
    w.write(1, bits: 2)
    w.writeCode(FixedHuffman.literalCodes[97], length: 8)
    w.writeCode(0xC6, length: 8)
    w.write(0, bits: 16)
    expectError(.invalidSymbol, w.bytes)
    // Distance symbol 30 after a valid length symbol.
    var v = BitWriter()
    v.write(1, bits: 1)
    v.write(1, bits: 2)
    v.writeCode(FixedHuffman.literalCodes[97], length: 8)
    v.writeCode(FixedHuffman.literalCodes[257], length: 7)
    v.writeCode(30, length: 5)
    v.write(0, bits: 16)
    expectError(.invalidSymbol, v.bytes)
  }

  @Test func everyTruncationIsAnErrorNeverAWrongResult() {
    var w = BitWriter()
    w.fixedBlock(
      Array("truncate me, truncate me".utf8).map { .literal($0) } + [
        .match(length: 20, distance: 12)
      ], final: false)
    w.storedBlock(Array("stored part".utf8), final: false)
    w.dynamicBlock(
      literalLengths: Self.deepLengths, distanceLengths: [0],
      tokens: Array("abcn".utf8).map { .literal($0) },
      final: true)
    let full = w.bytes
    #expect((try? Deflate.inflate(full)) != nil)
    for cut in 0..<full.count {
      do {
        _ = try Deflate.inflate(Array(full[..<cut]))
        Issue.record("prefix of \(cut) bytes decoded without error")
      } catch {
        #expect(error.kind == .truncated, "cut \(cut): \(error)")
      }
    }
    for vector in [Self.dickens, Self.words] {
      for cut in 0..<vector.count {
        #expect(throws: DataFormatError.self) { try Deflate.inflate(Array(vector[..<cut])) }
      }
    }
  }

  @Test func trailingBytesAndOutputLimit() {
    var w = BitWriter()
    w.storedBlock(Array("abc".utf8), final: true)
    expectError(.badLayout, w.bytes + [0])
    var big = BitWriter()
    big.fixedBlock(
      [.literal(1)] + Array(repeating: Token.match(length: 258, distance: 1), count: 100),
      final: true)
    expectError(.tooLarge, big.bytes, limit: 10_000)
    #expect((try? Deflate.inflate(big.bytes, limit: 25_801)) != nil)
  }

  @Test func corruptedVectorsNeverTrapAndMostlyFail() {
    // Flip each bit of the zlib vectors; every outcome must be an error or some output, never
    // a crash, and the unmodified stream must still decode.
    var failures = 0
    var trials = 0
    for vector in [Self.dickens, Self.words] {
      for i in 0..<vector.count {
        for bit in [0, 3, 7] {
          var corrupted = vector
          corrupted[i] ^= UInt8(1 << bit)
          trials += 1
          if (try? Deflate.inflate(corrupted)) == nil { failures += 1 }
        }
      }
    }
    #expect(failures > 0)
    #expect(trials == 3 * (Self.dickens.count + Self.words.count))
  }
}
