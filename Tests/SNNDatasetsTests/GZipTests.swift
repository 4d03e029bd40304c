import SNNBase
import Testing

@testable import SNNDatasets

@Suite struct GZipTests {
  /// `gzip.compress(b"hello gzip\n", mtime=0)` from Python.
  static let hello: [UInt8] = [
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57,
    0x48, 0xaf, 0xca, 0x2c, 0xe0, 0x02, 0x00, 0x39, 0x7c, 0x63, 0x56, 0x0b, 0x00, 0x00, 0x00,
  ]

  func expectError(_ kind: DataFormatError.Kind, _ bytes: [UInt8], offset: Int? = nil) {
    do {
      _ = try GZip.decompress(bytes, path: "x.gz")
      Issue.record("expected \(kind)")
    } catch {
      #expect(error.kind == kind, "\(error)")
      #expect(error.path == "x.gz")
      if let offset { #expect(error.offset == offset, "\(error)") }
    }
  }

  @Test func pythonVector() throws {
    #expect(GZip.hasMagic(Self.hello))
    #expect(try GZip.decompress(Self.hello) == Array("hello gzip\n".utf8))
  }

  @Test func allOptionalHeaderFields() throws {
    let payload = Array("optional fields".utf8)
    var w = BitWriter()
    w.storedBlock(payload, final: true)
    // FHCRC | FEXTRA | FNAME | FCOMMENT
    let flags: UInt8 = 0x02 | 0x04 | 0x08 | 0x10
    var header: [UInt8] = [0x1F, 0x8B, 8, flags, 1, 2, 3, 4, 0, 255]
    header += [5, 0, 65, 66, 2, 0, 9]  // XLEN = 5, one subfield "AB" of 2 bytes + 1 byte
    header += Array("name.idx".utf8) + [0]
    header += Array("a comment".utf8) + [0]
    let headerCRC = CRC32.checksum(header)
    header += [UInt8(headerCRC & 0xFF), UInt8((headerCRC >> 8) & 0xFF)]
    var file = header + w.bytes
    let crc = CRC32.checksum(payload)
    for s in stride(from: 0, to: 32, by: 8) {
      file.append(UInt8(truncatingIfNeeded: crc >> UInt32(s)))
    }
    file += [UInt8(payload.count), 0, 0, 0]
    #expect(try GZip.decompress(file) == payload)
    // A wrong header CRC is caught.
    var bad = file
    bad[header.count - 1] ^= 0xFF
    expectError(.checksumMismatch, bad, offset: header.count - 2)
  }

  @Test func multipleMembersAndZeroPadding() throws {
    let one = Self.hello
    var w = BitWriter()
    w.fixedBlock(Array("second member".utf8).map { .literal($0) }, final: true)
    let text = Array("second member".utf8)
    let two = gzipMember(deflate: w.bytes, crc: CRC32.checksum(text), size: text.count)
    #expect(try GZip.decompress(one + two) == Array("hello gzip\n".utf8) + text)
    #expect(try GZip.decompress(one + two + [0, 0, 0]) == Array("hello gzip\n".utf8) + text)
    expectError(.badMagic, one + [0, 0, 0x41], offset: one.count + 2)
    expectError(.badMagic, one + [0x1F, 0x8C], offset: one.count)
  }

  @Test func headerErrors() {
    expectError(.badMagic, [0x50, 0x4B, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0], offset: 0)
    var method = Self.hello
    method[2] = 9
    expectError(.unsupported, method, offset: 2)
    var reserved = Self.hello
    reserved[3] = 0x20
    expectError(.badHeader, reserved, offset: 3)
    expectError(.truncated, Array(Self.hello[..<9]))
    // FNAME without its terminating zero.
    var name = Array(Self.hello[..<10])
    name[3] = 0x08
    expectError(.truncated, name + Array("abc".utf8))
  }

  @Test func trailerErrors() {
    var crc = Self.hello
    crc[crc.count - 8] ^= 0x01
    expectError(.checksumMismatch, crc, offset: crc.count - 8)
    var size = Self.hello
    size[size.count - 4] = 12
    expectError(.sizeMismatch, size, offset: size.count - 4)
    // A corrupted data byte (same length) is caught by the CRC or the decoder.
    var data = Self.hello
    data[14] ^= 0x10
    #expect(throws: DataFormatError.self) { try GZip.decompress(data) }
  }

  @Test func everyTruncationFails() {
    for cut in 0..<Self.hello.count {
      #expect(throws: DataFormatError.self) { try GZip.decompress(Array(Self.hello[..<cut])) }
    }
  }

  @Test(.enabled(if: TestData.available)) func realMNISTFilesDecompressAndCheck() throws {
    let root = TestData.root!
    // Sizes: IDX header (16 bytes for images, 8 for labels) + payload.
    let expected: [(String, Int)] = [
      ("mnist/train-images-idx3-ubyte.gz", 16 + 60_000 * 784),
      ("mnist/train-labels-idx1-ubyte.gz", 8 + 60_000),
      ("mnist/t10k-images-idx3-ubyte.gz", 16 + 10_000 * 784),
      ("mnist/t10k-labels-idx1-ubyte.gz", 8 + 10_000),
      ("fashion-mnist/train-images-idx3-ubyte.gz", 16 + 60_000 * 784),
      ("fashion-mnist/t10k-labels-idx1-ubyte.gz", 8 + 10_000),
    ]
    for (name, size) in expected {
      let path = root + "/" + name
      let bytes = try FileIO.read(path)
      let out = try GZip.decompress(bytes, path: path)
      #expect(out.count == size, "\(name)")
      #expect(out[0] == 0 && out[1] == 0 && out[2] == 0x08, "\(name)")
    }
  }
}
