import SNNBase
import Testing

@testable import SNNTraining

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@Suite struct CheckpointFileTests {
  let header: JSONValue = [
    "format": "test", "epoch": 3, "loss": JSONValue(0.1 + 0.2), "names": ["a", "b"],
    "nested": ["x": nil],
  ]
  let blobs = [
    TensorBlob(name: "param/w", shape: [2, 3], values: [1, -2, .pi, -0.0, .nan, .infinity]),
    TensorBlob(name: "scalar", shape: [], values: [42]),
    TensorBlob(name: "empty", shape: [0, 5], values: []),
    TensorBlob(
      name: "ünïcode/Δ", shape: [4],
      // The third value is a subnormal, about 1e-40.
      values: [
        Float.leastNonzeroMagnitude, .greatestFiniteMagnitude, Float(bitPattern: 0x0001_16C2), 7,
      ]),
  ]

  func decodeError(_ bytes: [UInt8]) -> CheckpointError? {
    do {
      _ = try CheckpointFile.decode(bytes, path: "c.ckpt")
      return nil
    } catch {
      return error
    }
  }

  /// `bytes` with the CRC recomputed, to reach the structural checks behind it.
  func resealed(_ bytes: [UInt8]) -> [UInt8] {
    var b = bytes
    let crc = CRC32.checksum(Array(b[0..<(b.count - 4)]))
    withUnsafeBytes(of: crc.littleEndian) { for i in 0..<4 { b[b.count - 4 + i] = $0[i] } }
    return b
  }

  @Test func crc32MatchesTheStandardCheckValue() {
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(CRC32.checksum([]) == 0)
    // Slicing-by-8 agrees with the bytewise tail for every length and split.
    let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
    let whole = CRC32.checksum(data)
    for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
      let first = CRC32.checksum(Array(data[0..<split]))
      let both = Array(data[split...]).withUnsafeBytes { CRC32.checksum($0, continuing: first) }
      #expect(both == whole)
    }
  }

  @Test func roundTripKeepsEveryBit() throws {
    let bytes = CheckpointFile.encode(header: header, blobs: blobs)
    #expect(Array(bytes[0..<8]) == CheckpointFile.magic)
    let (h, b) = try CheckpointFile.decode(bytes, path: "x")
    #expect(h == header)
    #expect(h["loss"]?.doubleValue?.bitPattern == (0.1 + 0.2).bitPattern)
    #expect(b.count == blobs.count)
    for (x, y) in zip(b, blobs) { #expect(x.isBitIdentical(to: y), "\(x.name)") }
  }

  @Test func fileRoundTripIsAtomic() throws {
    let dir = temporaryDirectory("ckpt")
    let path = dir + "/run.ckpt"
    try CheckpointFile.write(header: header, blobs: blobs, to: path)
    try CheckpointFile.write(header: header, blobs: Array(blobs.prefix(1)), to: path)
    let (h, b) = try CheckpointFile.read(path)
    #expect(h == header && b.count == 1)
    var entries: [String] = []
    if let d = opendir(dir) {
      while let e = readdir(d) {
        let name = withUnsafeBytes(of: e.pointee.d_name) {
          String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name != "." && name != ".." { entries.append(name) }
      }
      closedir(d)
    }
    #expect(entries == ["run.ckpt"])  // no temporary file left behind
    unlink(path)
    rmdir(dir)
  }

  @Test func missingFileIsUnreadable() {
    do {
      _ = try CheckpointFile.read("/nonexistent/dir/x.ckpt")
      Issue.record("expected an error")
    } catch {
      #expect(error.kind == .unreadable && error.fileError?.code == ENOENT)
      #expect(error.description.contains("/nonexistent/dir/x.ckpt"))
    }
  }

  @Test func everyTruncationIsRejected() {
    let bytes = CheckpointFile.encode(header: header, blobs: blobs)
    for n in 0..<bytes.count {
      let error = decodeError(Array(bytes[0..<n]))
      #expect(error?.kind == .truncated, "truncated to \(n) bytes: \(String(describing: error))")
      #expect(error?.offset == n)
    }
    let longer = bytes + [0]
    #expect(decodeError(longer)?.kind == .trailingData)
  }

  @Test func everyFlippedByteIsRejectedWithTheRightKind() {
    let bytes = CheckpointFile.encode(header: header, blobs: blobs)
    for offset in 0..<bytes.count {
      for mask: UInt8 in [0x01, 0x80, 0xFF] {
        var corrupted = bytes
        corrupted[offset] ^= mask
        let error = decodeError(corrupted)
        let expected: [CheckpointError.Kind]
        switch offset {
        case 0..<8: expected = [.badMagic]
        case 8..<12: expected = [.unsupportedVersion]
        // A changed length: shorter than the file, longer, or below the minimum.
        case 12..<20: expected = [.truncated, .trailingData, .invalidHeader]
        default: expected = [.checksumMismatch]
        }
        #expect(
          error.map { expected.contains($0.kind) } == true,
          "byte \(offset) ^ \(mask): \(String(describing: error))")
      }
    }
  }

  @Test func errorsNameTheFieldAndOffset() {
    var bytes = CheckpointFile.encode(header: header, blobs: blobs)
    bytes[8] = 2
    let version = decodeError(bytes)
    #expect(version?.kind == .unsupportedVersion && version?.found == "2" && version?.offset == 8)
    #expect(
      version?.description
        == "c.ckpt: unsupported checkpoint version at byte 8: version: expected 1, found 2")

    bytes = CheckpointFile.encode(header: header, blobs: blobs)
    bytes[100] ^= 1
    let crc = decodeError(bytes)
    #expect(crc?.kind == .checksumMismatch && crc?.offset == bytes.count - 4)
    #expect(crc?.description.contains("c.ckpt: checkpoint checksum mismatch") == true)

    let junk = Array("not a checkpoint at all".utf8)
    #expect(decodeError(junk)?.kind == .badMagic)
  }

  @Test func structuralDamageBehindAValidChecksumIsRejected() {
    let good = CheckpointFile.encode(header: header, blobs: blobs)
    let headerLength = Int(CheckpointFile.load(UInt32.self, good, 20))
    // Header not JSON.
    var b = good
    b[24] = UInt8(ascii: "?")
    var error = decodeError(resealed(b))
    #expect(error?.kind == .invalidHeader && error?.offset == 24)
    // Header length beyond the file.
    b = good
    b[23] = 0x7F
    error = decodeError(resealed(b))
    #expect(error?.kind == .invalidHeader || error?.kind == .invalidBlob)
    // First blob's dimension too large for the file.
    let blobStart = 24 + headerLength + 4
    let nameLength = Int(CheckpointFile.load(UInt32.self, good, blobStart))
    let firstDimension = blobStart + 4 + nameLength + 4
    b = good
    b[firstDimension + 4] = 1  // 2 + 2^32
    error = decodeError(resealed(b))
    #expect(error?.kind == .invalidBlob && error?.field == "blob 'param/w' dimension 0")
    // A rank of 9.
    b = good
    b[firstDimension - 4] = 9
    error = decodeError(resealed(b))
    #expect(error?.kind == .invalidBlob && error?.field == "blob 'param/w' rank")
    // Invalid UTF-8 in a name.
    b = good
    b[blobStart + 4] = 0xFF
    error = decodeError(resealed(b))
    #expect(error?.kind == .invalidBlob && error?.field == "blob #1 name")
    // One blob fewer than the count says.
    b = good
    b[24 + headerLength] += 1
    error = decodeError(resealed(b))
    #expect(error?.kind == .invalidBlob)
    // A duplicate name.
    let twice = CheckpointFile.encode(header: header, blobs: [blobs[1], blobs[1]])
    #expect(decodeError(twice)?.field == "blob 'scalar'")
  }
}
