import SNNBase
import Testing

@testable import SNNCommandLine
@testable import SNNDatasets

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Each test gets its own instance, and with it a scratch folder that `deinit` deletes.
@Suite final class DataCommandTests {
  let scratch = "/tmp/snn-data-cli-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"

  deinit { Directory.removeTree(scratch) }

  func run(_ args: [String], environment: [String: String] = [:]) -> (
    code: Int32, out: String, err: String
  ) {
    let out = StringSink()
    let err = StringSink()
    let context = CommandContext(
      standardOutput: out, standardError: err, environment: environment,
      standardErrorIsTerminal: false)
    let code = SNNTool.run(args, context: context)
    return (code, out.text, err.text)
  }

  /// A fresh path inside this test's scratch folder (the folder is made on first use).
  func temporary(_ name: String) -> String {
    mkdir(scratch, 0o755)
    return scratch + "/\(name)-\(UInt64.random(in: 0...UInt64.max))"
  }

  static func mkdirs(_ path: String) {
    var prefix = ""
    for part in path.split(separator: "/") {
      prefix += "/" + part
      mkdir(prefix, 0o755)
    }
  }

  /// A gzip file holding `bytes` in one stored block.
  static func gzip(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 0x01]
    out += [
      UInt8(bytes.count & 0xFF), UInt8(bytes.count >> 8), UInt8(~bytes.count & 0xFF),
      UInt8((~bytes.count >> 8) & 0xFF),
    ]
    out += bytes
    let crc = CRC32.checksum(bytes)
    for s in stride(from: 0, to: 32, by: 8) {
      out.append(UInt8(truncatingIfNeeded: crc >> UInt32(s)))
    }
    for s in stride(from: 0, to: 32, by: 8) {
      out.append(UInt8(truncatingIfNeeded: bytes.count >> s))
    }
    return out
  }

  /// A folder `name` with a 3-image MNIST-format test split (2x3 images).
  func imageFolder(_ name: String) throws -> String {
    let dir = temporary("images") + "/" + name
    DataCommandTests.mkdirs(dir)
    let images: [UInt8] =
      [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 3] + (0..<18).map { UInt8($0 * 14) }
    try FileIO.writeAtomically(DataCommandTests.gzip(images), to: dir + "/t10k-images-idx3-ubyte.gz")
    try FileIO.writeAtomically(
      DataCommandTests.gzip([0, 0, 8, 1, 0, 0, 0, 3, 4, 4, 7]), to: dir + "/t10k-labels-idx1-ubyte.gz")
    return dir
  }

  static func event(_ x: UInt8, _ y: UInt8, _ on: Bool, _ t: UInt32) -> [UInt8] {
    [x, y, (on ? 0x80 : 0) | UInt8((t >> 16) & 0x7F), UInt8((t >> 8) & 0xFF), UInt8(t & 0xFF)]
  }

  /// `Train/<label>/<id>.bin` with three samples.
  func eventFolder() throws -> String {
    let dir = temporary("events") + "/Train"
    for label in ["2", "5"] { DataCommandTests.mkdirs(dir + "/" + label) }
    try FileIO.writeAtomically(
      DataCommandTests.event(1, 2, true, 10) + DataCommandTests.event(3, 4, false, 2010), to: dir + "/2/1.bin")
    try FileIO.writeAtomically(DataCommandTests.event(5, 6, true, 100), to: dir + "/2/7.bin")
    try FileIO.writeAtomically(
      DataCommandTests.event(7, 8, false, 0) + DataCommandTests.event(9, 9, true, 4000) + DataCommandTests.event(0, 0, true, 5000),
      to: dir + "/5/3.bin")
    return dir
  }

  // MARK: inspect

  @Test func inspectsAnIDXFileAndDrawsASample() throws {
    let dir = try imageFolder("mnist")
    let svg = temporary("digit.svg")
    let r = run([
      "data", "inspect", dir + "/t10k-images-idx3-ubyte.gz", "--sample", "1", "--svg", svg,
    ])
    #expect(r.code == 0, "\(r.err)")
    #expect(r.out.contains("format: IDX ubyte [3, 2, 3] (gzip, "))
    #expect(r.out.contains("samples: 3 images of 2x3"))
    #expect(r.out.contains("sample 1: 6 non-zero pixels of 6"))
    #expect(String(decoding: try FileIO.read(svg), as: UTF8.self).hasPrefix("<svg"))
    let labels = run(["data", "inspect", dir + "/t10k-labels-idx1-ubyte.gz"])
    #expect(
      labels.out.contains("labels: 0: 0  1: 0  2: 0  3: 0  4: 2  5: 0  6: 0  7: 1  8: 0  9: 0"))
  }

  @Test func inspectsAFolderAsJSON() throws {
    let dir = try imageFolder("fashion-mnist")
    let r = run(["data", "inspect", dir, "--json"])
    #expect(r.code == 0, "\(r.err)")
    let json = try JSONValue.parse(r.out)
    #expect(json["kind"]?.stringValue == "MNIST-format folder")
    #expect(json["splits"]?["test"]?["samples"]?.doubleValue == 3)
    #expect(
      json["splits"]?["test"]?["labels"]?.arrayValue?.compactMap(\.doubleValue) == [
        0, 0, 0, 0, 2, 0, 0, 1, 0, 0,
      ])
    #expect(json["splits"]?["train"] == nil)
  }

  @Test func inspectsEventsFolderSampleAndFile() throws {
    let dir = try eventFolder()
    let svg = temporary("events.svg")
    let r = run(["data", "inspect", dir, "--sample", "2", "--svg", svg])
    #expect(r.code == 0, "\(r.err)")
    #expect(r.out.contains("samples: 3 (34x34 sensor)"))
    #expect(r.out.contains("labels: 0: 0  1: 0  2: 2  3: 0  4: 0  5: 1"))
    #expect(r.out.contains("events per sample: mean 2.0, min 1, max 3"))
    #expect(r.out.contains("time span per sample: mean 2.3 ms, min 0.0 ms, max 5.0 ms"))
    #expect(r.out.contains("sample 2 (Train/5/3.bin, label 5): events: 3 (2 ON, 1 OFF)"))
    #expect(String(decoding: try FileIO.read(svg), as: UTF8.self).contains("time (ms)"))
    let file = run(["data", "inspect", dir + "/2/1.bin", "--json"])
    let json = try JSONValue.parse(file.out)
    #expect(json["kind"]?.stringValue == "N-MNIST sample")
    #expect(json["label"]?.doubleValue == 2)
    #expect(json["sample"]?["events"]?.doubleValue == 2)
    #expect(json["sample"]?["last_us"]?.doubleValue == 2010)
    // The dataset folder above Train/ works too.
    let parent = String(dir.dropLast("/Train".count))
    let top = run(["data", "inspect", parent])
    #expect(top.code == 0 && top.out.contains("[train]") && !top.out.contains("[test]"))
  }

  @Test func inspectErrorsGiveOneLineAndTheRightExitCode() throws {
    let missing = run(["data", "inspect", "/nonexistent/snn/file.idx"])
    #expect(missing.code == ExitCode.noInput)
    #expect(
      missing.err.hasPrefix("snn data inspect: error: /nonexistent/snn/file.idx: cannot open"))

    let bad = temporary("bad.idx")
    try FileIO.writeAtomically([0, 0, 8, 1, 0, 0, 0, 5, 1, 2], to: bad)
    let malformed = run(["data", "inspect", bad])
    #expect(malformed.code == ExitCode.dataError)
    #expect(
      malformed.err
        == "snn data inspect: error: \(bad): byte 10: truncated: IDX ubyte array of shape [5] needs 5 payload bytes, the file has 2\n"
    )

    let corruptGzip = temporary("bad.gz")
    var gz = DataCommandTests.gzip([0, 0, 8, 1, 0, 0, 0, 1, 3])
    gz[gz.count - 6] ^= 1
    try FileIO.writeAtomically(gz, to: corruptGzip)
    let crc = run(["data", "inspect", corruptGzip])
    #expect(crc.code == ExitCode.dataError)
    #expect(crc.err.contains("checksum mismatch: CRC-32"))

    let events = try eventFolder()
    try FileIO.writeAtomically(DataCommandTests.event(40, 1, true, 0), to: events + "/5/9.bin")
    let outside = run(["data", "inspect", events])
    #expect(outside.code == ExitCode.dataError)
    #expect(outside.err.contains("5/9.bin: byte 0: value out of range"))

    let range = run(["data", "inspect", try eventFolder(), "--sample", "3"])
    #expect(range.code == ExitCode.usage)
    #expect(range.err.contains("--sample"))

    let empty = temporary("empty")
    DataCommandTests.mkdirs(empty)
    let notData = run(["data", "inspect", empty])
    #expect(notData.code == ExitCode.dataError)
    #expect(notData.err.contains("not a dataset folder"))

    let noPath = run(["data", "inspect"])
    #expect(noPath.code == ExitCode.usage)
  }

  /// A ZIP with stored members (the minimal layout: local headers, central directory, end).
  static func storedZIP(_ members: [(String, [UInt8])]) -> [UInt8] {
    func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
    func u32(_ v: Int) -> [UInt8] { u16(v & 0xFFFF) + u16((v >> 16) & 0xFFFF) }
    var out: [UInt8] = []
    var central: [UInt8] = []
    for (name, data) in members {
      let crc = Int(CRC32.checksum(data))
      let n = Array(name.utf8)
      let offset = out.count
      out += [0x50, 0x4B, 3, 4] + u16(20) + u16(0) + u16(0) + u16(0) + u16(0) + u32(crc) + u32(data.count)
      out += u32(data.count) + u16(n.count) + u16(0) + n + data
      central += [0x50, 0x4B, 1, 2] + u16(20) + u16(20) + u16(0) + u16(0) + u16(0) + u16(0) + u32(crc)
      central += u32(data.count) + u32(data.count) + u16(n.count) + u16(0) + u16(0) + u16(0) + u16(0) + u32(0)
      central += u32(offset) + n
    }
    let cdOffset = out.count
    out += central + [0x50, 0x4B, 5, 6] + u16(0) + u16(0) + u16(members.count) + u16(members.count)
    out += u32(central.count) + u32(cdOffset) + u16(0)
    return out
  }

  @Test func inspectsAnArchiveAndReportsABadOne() throws {
    let zip = temporary("Test.zip")
    try FileIO.writeAtomically(
      DataCommandTests.storedZIP([
        ("Test/7/2.bin", DataCommandTests.event(1, 1, true, 5) + DataCommandTests.event(2, 2, true, 105_000)),
        ("Test/3/1.bin", DataCommandTests.event(3, 3, false, 7)),
      ]), to: zip)
    let r = run(["data", "inspect", zip, "--first-saccade", "--json"])
    #expect(r.code == 0, "\(r.err)")
    let json = try JSONValue.parse(r.out)
    #expect(json["kind"]?.stringValue == "N-MNIST archive")
    #expect(json["samples"]?.doubleValue == 2)
    #expect(json["events"]?.doubleValue == 2)  // the event at 105 ms is cut
    var bytes = try FileIO.read(zip)
    bytes[30 + 12] ^= 0xFF  // a payload byte of the first member: its CRC-32 no longer matches
    try FileIO.writeAtomically(bytes, to: zip)
    let bad = run(["data", "inspect", zip])
    #expect(bad.code == ExitCode.dataError)
    #expect(bad.err.contains("checksum mismatch"))
    #expect(bad.err.contains("member 'Test/7/2.bin'"))
  }

  // MARK: verify

  @Test func verifyReportsCorruptFilesAndFailsWith65() throws {
    // A "fashion-mnist" folder whose files are not the published ones and whose contents
    // have the wrong shape: corrupt.
    let dir = try imageFolder("fashion-mnist")
    let r = run(["data", "verify", dir])
    #expect(r.code == ExitCode.dataError)
    #expect(r.out.contains("t10k-images-idx3-ubyte.gz"))
    #expect(r.out.contains("corrupt"))
    #expect(r.out.contains("expected ubyte [10000, 28, 28]"))
    #expect(r.out.contains("train-images-idx3-ubyte.gz"))
    #expect(r.out.contains("missing"))
    #expect(r.err.contains("snn data verify: error: 2 files in"))
  }

  @Test func verifyChecksSHA256SUMS() throws {
    let dir = temporary("sums") + "/custom"
    DataCommandTests.mkdirs(dir + "/sub")
    try FileIO.writeAtomically(Array("hello\n".utf8), to: dir + "/sub/a.txt")
    try FileIO.writeAtomically(Array("world\n".utf8), to: dir + "/b.txt")
    let a = SHA256.hexDigest(Array("hello\n".utf8))
    let b = SHA256.hexDigest(Array("world\n".utf8))
    try FileIO.writeAtomically("\(a)  ./sub/a.txt\n\(b)  b.txt\n", to: dir + "/SHA256SUMS")
    let ok = run(["data", "verify", dir, "--json"])
    #expect(ok.code == 0, "\(ok.err)")
    let json = try JSONValue.parse(ok.out)
    #expect(json["summary"]?["ok"]?.doubleValue == 1)
    #expect(json["summary"]?["corrupt"]?.doubleValue == 0)
    try FileIO.writeAtomically(Array("w0rld\n".utf8), to: dir + "/b.txt")
    let bad = run(["data", "verify", dir])
    #expect(bad.code == ExitCode.dataError)
    #expect(bad.out.contains("custom/SHA256SUMS") || bad.out.contains("SHA256SUMS"))
    #expect(bad.out.contains("b.txt"))
    #expect(bad.out.contains("differs from SHA256SUMS"))
    // Through SNN_DATA, as a data root holding the folder.
    let root = String(dir.dropLast("/custom".count))
    let viaEnvironment = run(["data", "verify"], environment: ["SNN_DATA": root])
    #expect(viaEnvironment.code == ExitCode.dataError)
    #expect(viaEnvironment.out.contains("custom/b.txt"))
    let nothing = run(["data", "verify", temporary("nothing-here")])
    #expect(nothing.code == ExitCode.noInput)
  }

  @Test(.enabled(if: getenv("SNN_DATA") != nil)) func verifyTheSharedData() throws {
    let root = String(cString: getenv("SNN_DATA"))
    let r = run(["data", "verify", root])
    #expect(r.code == 0, "\(r.out)\(r.err)")
    #expect(r.out.contains("mnist/train-images-idx3-ubyte.gz          ok"))
    #expect(r.out.contains("fashion-mnist/train-images-idx3-ubyte.gz  contents checked"))
    #expect(
      r.out.contains("nmnist-small/SHA256SUMS                   ok                1100 of 1100"))
    // A copy of the MNIST test labels with one flipped byte: the MD5 differs and the gzip
    // CRC-32 fails, so it is corrupt.
    let copy = temporary("copy") + "/mnist"
    DataCommandTests.mkdirs(copy)
    var labels = try FileIO.read(root + "/mnist/t10k-labels-idx1-ubyte.gz")
    labels[labels.count / 2] ^= 0x20
    try FileIO.writeAtomically(labels, to: copy + "/t10k-labels-idx1-ubyte.gz")
    let broken = run(["data", "verify", copy])
    #expect(broken.code == ExitCode.dataError)
    #expect(broken.out.contains("t10k-labels-idx1-ubyte.gz"))
    #expect(broken.out.contains("corrupt"))
  }
}

