import SNNBase
import Testing

@testable import SNNDatasets

@Suite struct NMNISTDecodeTests {
  @Test func decodesFieldsPolarityAndTwentyThreeBitTimestamps() throws {
    let bytes =
      nmnistEvent(x: 0, y: 33, on: true, t: 0) + nmnistEvent(x: 33, y: 0, on: false, t: 0x7F_FFFF)
      + [12, 13, 0xFF, 0x01, 0x02]
    let s = try NMNIST.decode(bytes, label: 7)
    #expect(s.x == [0, 33, 12] && s.y == [33, 0, 13])
    #expect(s.polarity == [1, 0, 1])
    #expect(s.timestamp == [0, 8_388_607, 0x7F_0102])
    #expect(s.label == 7 && s.width == 34 && s.height == 34)
  }

  @Test func overflowMarkersShiftLaterTimestampsAndAreDropped() throws {
    var bytes = nmnistEvent(x: 1, y: 1, on: true, t: 100)
    bytes += [0, 240, 0, 0, 0]  // marker
    bytes += nmnistEvent(x: 2, y: 2, on: false, t: 50)
    bytes += [7, 240, 0x80, 0x12, 0x34]  // a second marker (its own fields are ignored)
    bytes += nmnistEvent(x: 3, y: 3, on: true, t: 60)
    let s = try NMNIST.decode(bytes, label: 0)
    #expect(s.count == 3)
    let expected: [UInt32] = [100, 50 + 8192, 60 + 2 * 8192]
    #expect(s.timestamp == expected)
    #expect(s.x == [1, 2, 3])
  }

  @Test func firstSaccadeKeepsEventsBeforeOneHundredMilliseconds() throws {
    let bytes =
      nmnistEvent(x: 1, y: 1, on: true, t: 99_999) + nmnistEvent(x: 2, y: 2, on: true, t: 100_000)
      // The last event: 95,000 + 8,192 ≥ 100,000.
      + [0, 240, 0, 0, 0] + nmnistEvent(x: 3, y: 3, on: true, t: 95_000)
    #expect(try NMNIST.decode(bytes, label: 0, firstSaccadeOnly: true).x == [1])
    #expect(try NMNIST.decode(bytes, label: 0).timestamp == [99_999, 100_000, 103_192])
  }

  @Test func malformedEventsNameTheFileAndOffset() {
    let good = nmnistEvent(x: 1, y: 1, on: true, t: 1)
    do {
      _ = try NMNIST.decode(good + good + [1, 2, 3], label: 0, path: "a.bin")
      Issue.record("expected an error")
    } catch {
      #expect(error.kind == .truncated && error.offset == 10 && error.path == "a.bin")
      #expect(error.description.contains("not a multiple of 5"))
    }
    for bad in [
      nmnistEvent(x: 34, y: 0, on: true, t: 1), nmnistEvent(x: 0, y: 34, on: true, t: 1),
      [255, 239, 0, 0, 0],
    ] {
      do {
        _ = try NMNIST.decode(good + bad, label: 0, path: "b.bin")
        Issue.record("expected an error")
      } catch {
        #expect(error.kind == .valueOutOfRange && error.offset == 5, "\(error)")
      }
    }
  }
}

@Suite struct NMNISTFolderTests {
  /// Writes `Train/<label>/<name>` files under a fresh folder; returns the Train path.
  func makeTrainFolder(_ files: [(folder: String, name: String, bytes: [UInt8])]) throws -> String {
    let root = temporaryPath("nmnist")
    try makeDirectory(root)
    try makeDirectory(root + "/Train")
    for f in files {
      try makeDirectory(root + "/Train/" + f.folder)
      try FileIO.writeAtomically(f.bytes, to: root + "/Train/" + f.folder + "/" + f.name)
    }
    return root + "/Train"
  }

  @Test func orderIsLabelThenNumericID() throws {
    let e = { (t: UInt32) in nmnistEvent(x: 1, y: 2, on: true, t: t) }
    let dir = try makeTrainFolder([
      ("1", "10.bin", e(10)), ("1", "9.bin", e(9) + e(19)), ("0", "00100.bin", e(100)),
      ("0", "00002.bin", e(2)),
      ("0", "README.txt", [1, 2, 3]),
    ])
    let set = try NMNIST.load(directory: dir)
    #expect(set.count == 4)
    #expect(set.labels == [0, 0, 1, 1])
    #expect(
      set.sources == ["Train/0/00002.bin", "Train/0/00100.bin", "Train/1/9.bin", "Train/1/10.bin"])
    #expect(set.offsets == [0, 1, 2, 4, 5])
    #expect(set.timestamp == [2, 100, 9, 19, 10])
    #expect(set.sample(2).timestamp == [9, 19])
    #expect(set.sample(2).label == 1)
  }

  @Test func layoutErrors() throws {
    let e = nmnistEvent(x: 1, y: 2, on: true, t: 1)
    let notDigit = try makeTrainFolder([("0", "1.bin", e), ("ten", "2.bin", e)])
    do {
      _ = try NMNIST.load(directory: notDigit)
      Issue.record("expected an error")
    } catch {
      #expect(error.formatError?.kind == .badLayout)
      #expect(error.description.contains("'ten' is not a digit"))
    }
    let empty = try makeTrainFolder([])
    do {
      _ = try NMNIST.load(directory: empty)
      Issue.record("expected an error")
    } catch {
      #expect(error.formatError?.kind == .badLayout)
      #expect(error.description.contains("no samples"))
    }
    // One bad file among good ones: the error names it, and nothing is returned.
    let oneBad = try makeTrainFolder([
      ("0", "1.bin", e), ("3", "7.bin", e + [1, 2]), ("5", "2.bin", e),
    ])
    do {
      _ = try NMNIST.load(directory: oneBad)
      Issue.record("expected an error")
    } catch {
      #expect(error.formatError?.kind == .truncated)
      #expect(error.formatError?.path.hasSuffix("Train/3/7.bin") == true)
      #expect(error.formatError?.offset == 5)
    }
  }

  @Test func missingSplitNamesFolderAndArchive() {
    let root = DataRoot(path: temporaryPath("none"), source: .explicit)
    do {
      _ = try NMNIST.load(split: .test, root: root)
      Issue.record("expected an error")
    } catch {
      guard case .notFound(let missing) = error else { Issue.record("\(error)"); return }
      #expect(missing.searched == [root.path + "/nmnist/Test/", root.path + "/nmnist/Test.zip"])
    }
  }
}

@Suite struct ZIPTests {
  /// Made with Python's zipfile: a directory entry `Train/`, `Train/0/00002.bin` stored
  /// (3 events), `Train/1/00010.bin` deflated (12 events), `Train/1/00003.bin` deflated
  /// (1 event).
  static let pythonZIP: [UInt8] = [
    0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x54, 0x72,
    0x61, 0x69, 0x6e, 0x2f, 0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7a, 0x09,
    0x7c, 0x5d, 0x82, 0xdb, 0x9d, 0x51, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x11, 0x00,
    0x00, 0x00, 0x54, 0x72, 0x61, 0x69, 0x6e, 0x2f, 0x30, 0x2f, 0x30, 0x30, 0x30, 0x30, 0x32, 0x2e,
    0x62, 0x69, 0x6e, 0x01, 0x02, 0x80, 0x00, 0x0a, 0x21, 0x00, 0x00, 0x00, 0x14, 0x05, 0x05, 0x81,
    0x86, 0xa0, 0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x7a, 0x09, 0x7c, 0x5d,
    0x5b, 0x67, 0x3c, 0x44, 0x3e, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00,
    0x54, 0x72, 0x61, 0x69, 0x6e, 0x2f, 0x31, 0x2f, 0x30, 0x30, 0x30, 0x31, 0x30, 0x2e, 0x62, 0x69,
    0x6e, 0x63, 0x60, 0x60, 0x60, 0x7e, 0xc1, 0xc8, 0xde, 0xc0, 0x22, 0xc5, 0xc4, 0xc7, 0xc0, 0xe2,
    0xc3, 0x2c, 0xda, 0xc0, 0x52, 0xc7, 0x22, 0xc3, 0xc0, 0xb2, 0x81, 0x95, 0xb1, 0x81, 0xe5, 0x11,
    0x1b, 0x07, 0x03, 0xab, 0x08, 0x3b, 0x7f, 0x03, 0xab, 0x1b, 0x87, 0x18, 0x03, 0x6b, 0x05, 0xa7,
    0x6c, 0x03, 0xeb, 0x2a, 0x2e, 0x26, 0x06, 0xd6, 0x3b, 0xdc, 0x9c, 0x0d, 0x6c, 0x7c, 0x00, 0x50,
    0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x7a, 0x09, 0x7c, 0x5d, 0x92, 0x03, 0x48,
    0xb6, 0x07, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x54, 0x72, 0x61,
    0x69, 0x6e, 0x2f, 0x31, 0x2f, 0x30, 0x30, 0x30, 0x30, 0x33, 0x2e, 0x62, 0x69, 0x6e, 0x63, 0x60,
    0x60, 0x60, 0x60, 0x05, 0x00, 0x50, 0x4b, 0x01, 0x02, 0x14, 0x03, 0x14, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x54, 0x72, 0x61, 0x69, 0x6e, 0x2f, 0x50, 0x4b, 0x01, 0x02, 0x14, 0x03, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x7a, 0x09, 0x7c, 0x5d, 0x82, 0xdb, 0x9d, 0x51, 0x0f, 0x00, 0x00,
    0x00, 0x0f, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x80, 0x01, 0x24, 0x00, 0x00, 0x00, 0x54, 0x72, 0x61, 0x69, 0x6e, 0x2f, 0x30, 0x2f, 0x30,
    0x30, 0x30, 0x30, 0x32, 0x2e, 0x62, 0x69, 0x6e, 0x50, 0x4b, 0x01, 0x02, 0x14, 0x03, 0x14, 0x00,
    0x00, 0x00, 0x08, 0x00, 0x7a, 0x09, 0x7c, 0x5d, 0x5b, 0x67, 0x3c, 0x44, 0x3e, 0x00, 0x00, 0x00,
    0x3c, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x80, 0x01, 0x62, 0x00, 0x00, 0x00, 0x54, 0x72, 0x61, 0x69, 0x6e, 0x2f, 0x31, 0x2f, 0x30, 0x30,
    0x30, 0x31, 0x30, 0x2e, 0x62, 0x69, 0x6e, 0x50, 0x4b, 0x01, 0x02, 0x14, 0x03, 0x14, 0x00, 0x00,
    0x00, 0x08, 0x00, 0x7a, 0x09, 0x7c, 0x5d, 0x92, 0x03, 0x48, 0xb6, 0x07, 0x00, 0x00, 0x00, 0x05,
    0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,
    0x01, 0xcf, 0x00, 0x00, 0x00, 0x54, 0x72, 0x61, 0x69, 0x6e, 0x2f, 0x31, 0x2f, 0x30, 0x30, 0x30,
    0x30, 0x33, 0x2e, 0x62, 0x69, 0x6e, 0x50, 0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
    0x04, 0x00, 0xf1, 0x00, 0x00, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00,
  ]

  @Test func readsPythonArchiveStoredAndDeflated() throws {
    let zip = try ZIPArchive(bytes: Self.pythonZIP, path: "t.zip")
    #expect(
      zip.entries.map(\.name) == [
        "Train/", "Train/0/00002.bin", "Train/1/00010.bin", "Train/1/00003.bin",
      ])
    #expect(zip.entries.map(\.method) == [0, 0, 8, 8])
    let stored = try zip.extract(zip.entries[1])
    #expect(
      stored
        == nmnistEvent(x: 1, y: 2, on: true, t: 10) + nmnistEvent(x: 33, y: 0, on: false, t: 20)
        + nmnistEvent(x: 5, y: 5, on: true, t: 100_000))
    let deflated = try zip.extract(zip.entries[2])
    #expect(deflated.count == 60)
    #expect(Array(deflated[..<10]) == [0, 0, 0, 3, 232, 1, 7, 128, 4, 26])  // from Python
    let set = try NMNIST.load(archive: zip)
    #expect(set.sources == ["Train/0/00002.bin", "Train/1/00003.bin", "Train/1/00010.bin"])
    #expect(set.labels == [0, 1, 1])
    #expect(set.offsets == [0, 3, 4, 16])
    let expectedTimes: [UInt32] = (0..<12).map { (i: Int) -> UInt32 in UInt32(1000 + i * 50) }
    let expectedX: [UInt8] = (0..<12).map { (i: Int) -> UInt8 in UInt8(i % 34) }
    #expect(set.sample(2).timestamp == expectedTimes)
    #expect(set.sample(2).x == expectedX)
    let firstSaccade = try NMNIST.load(archive: zip, firstSaccadeOnly: true)
    #expect(firstSaccade.offsets == [0, 2, 3, 15])
  }

  @Test func writerArchivesRoundTripWithCommentAndBothMethods() throws {
    let a = nmnistEvent(x: 3, y: 4, on: true, t: 7)
    var b: [UInt8] = []
    for i in 0..<50 { b += nmnistEvent(x: UInt8(i % 34), y: 1, on: i % 2 == 0, t: UInt32(i)) }
    let bytes = makeZIP(
      [
        TestZIPMember(name: "Test/2/5.bin", data: a),
        TestZIPMember(name: "Test/2/4.bin", data: b, method: 8),
      ],
      comment: Array("comment with PK\u{5}\u{6} inside".utf8))
    let set = try NMNIST.load(archive: ZIPArchive(bytes: bytes, path: "w.zip"))
    #expect(set.sources == ["Test/2/4.bin", "Test/2/5.bin"])
    #expect(set.eventCount == 51)
  }

  @Test func membersWithDataDescriptors() throws {
    let a = nmnistEvent(x: 3, y: 4, on: true, t: 7) + nmnistEvent(x: 5, y: 6, on: false, t: 9)
    let bytes = makeZIP([
      TestZIPMember(name: "Train/1/2.bin", data: a, method: 8, dataDescriptor: true),
      TestZIPMember(name: "Train/1/1.bin", data: a, dataDescriptor: true),
    ])
    let zip = try ZIPArchive(bytes: bytes)
    #expect(zip.entries.allSatisfy { $0.flags & 8 != 0 })
    #expect(try zip.extract(zip.entries[0]) == a)
    let set = try NMNIST.load(archive: zip)
    #expect(set.sources == ["Train/1/1.bin", "Train/1/2.bin"] && set.eventCount == 4)
  }

  func expectZIPError(_ kind: DataFormatError.Kind, _ bytes: [UInt8], contains text: String = "") {
    do {
      let zip = try ZIPArchive(bytes: bytes, path: "bad.zip")
      _ = try NMNIST.load(archive: zip)
      Issue.record("expected \(kind)")
    } catch let error as DataFormatError {
      #expect(error.kind == kind, "\(error)")
      #expect(error.description.contains(text), "\(error)")
      #expect(error.path == "bad.zip")
    } catch let error as DatasetError {
      #expect(error.formatError?.kind == kind, "\(error)")
      #expect(error.description.contains(text), "\(error)")
      #expect(error.formatError?.path.hasPrefix("bad.zip") == true)
    } catch {
      Issue.record("unexpected \(error)")
    }
  }

  @Test func archiveErrors() {
    let e = nmnistEvent(x: 1, y: 1, on: true, t: 1)
    expectZIPError(
      .checksumMismatch, makeZIP([TestZIPMember(name: "T/0/1.bin", data: e, crcOverride: 1234)]),
      contains: "T/0/1.bin")
    expectZIPError(
      .checksumMismatch,
      makeZIP([TestZIPMember(name: "T/0/1.bin", data: e, method: 8, crcOverride: 0)]))
    expectZIPError(
      .unsupported, makeZIP([TestZIPMember(name: "T/0/1.bin", data: e, method: 12)]),
      contains: "method 12")
    expectZIPError(
      .unsupported, makeZIP([TestZIPMember(name: "T/0/1.bin", data: e, flags: 1)]),
      contains: "encrypted")
    expectZIPError(
      .unsupported, makeZIP([TestZIPMember(name: "T/0/1.bin", data: e)], zip64Locator: true),
      contains: "ZIP64")
    expectZIPError(
      .badLayout, makeZIP([TestZIPMember(name: "T/x/1.bin", data: e)]),
      contains: "'x' is not a digit")
    expectZIPError(
      .badLayout, makeZIP([TestZIPMember(name: "T/readme.txt", data: e)]),
      contains: "no <label>/<id>.bin")
    expectZIPError(
      .badMagic, Array(repeating: 0x41, count: 100), contains: "end-of-central-directory")
    expectZIPError(.badMagic, Array(repeating: 0x41, count: 10))
    // A bad local header signature.
    var local = makeZIP([TestZIPMember(name: "T/0/1.bin", data: e)])
    local[0] = 0x51
    expectZIPError(.badMagic, local, contains: "local header")
    // A bad central directory signature.
    var central = makeZIP([TestZIPMember(name: "T/0/1.bin", data: e)])
    let cd = 30 + 9 + e.count
    central[cd] = 0
    expectZIPError(.badMagic, central, contains: "central directory")
    // Events inside a member are checked too, and the error names archive and member.
    expectZIPError(
      .valueOutOfRange,
      makeZIP([
        TestZIPMember(name: "T/0/1.bin", data: nmnistEvent(x: 40, y: 1, on: true, t: 1), method: 8)
      ]), contains: "bad.zip:T/0/1.bin")
  }

  @Test func everyTruncationOfAnArchiveFails() {
    let bytes = makeZIP([
      TestZIPMember(name: "T/0/1.bin", data: nmnistEvent(x: 1, y: 1, on: true, t: 1)),
      TestZIPMember(name: "T/1/2.bin", data: nmnistEvent(x: 2, y: 2, on: false, t: 2), method: 8),
    ])
    #expect((try? NMNIST.load(archive: ZIPArchive(bytes: bytes))) != nil)
    for cut in 0..<bytes.count {
      let prefix = Array(bytes[..<cut])
      var failed = false
      do {
        _ = try NMNIST.load(archive: ZIPArchive(bytes: prefix))
      } catch {
        failed = true
      }
      #expect(failed, "a prefix of \(cut) bytes loaded")
    }
  }
}

// Facts below were computed independently with Python/numpy from /work/shared/data/nmnist-small
// (decoding each file with the 5-byte rule, sorting by label then numeric id): sample counts,
// label histograms, total and first-saccade (t < 100,000 µs) event counts, and per-file event
// counts, ON counts, first events and last timestamps.
@Suite(.enabled(if: TestData.available)) struct NMNISTRealDataTests {
  static var root: DataRoot { DataRoot(path: TestData.root!) }

  @Test func trainSplit() throws {
    let set = try NMNIST.load(split: .train, root: Self.root, folder: "nmnist-small")
    #expect(set.count == 1000)
    #expect(set.labelHistogram() == [97, 116, 99, 93, 105, 92, 94, 117, 87, 100])
    #expect(set.eventCount == 4_133_231)
    #expect(set.sources.first == "Train/0/00002.bin" && set.sources.last == "Train/9/00981.bin")
    #expect(set.sources[1] == "Train/0/00022.bin")
    let known: [(String, Int, Int, (UInt8, UInt8, UInt8, UInt32), UInt32)] = [
      ("Train/0/00002.bin", 5028, 2509, (10, 30, 1, 937), 305_341),
      ("Train/0/00022.bin", 5545, 2732, (7, 22, 0, 2463), 306_232),
      ("Train/4/00907.bin", 4526, 2244, (20, 18, 0, 4226), 309_010),
      ("Train/9/00981.bin", 3393, 1709, (17, 8, 1, 2629), 307_685),
    ]
    for (source, events, on, first, last) in known {
      let i = try #require(set.sources.firstIndex(of: source))
      let s = set.sample(i)
      #expect(s.count == events && s.onCount == on, "\(source)")
      #expect((s.x[0], s.y[0], s.polarity[0], s.timestamp[0]) == first, "\(source)")
      #expect(s.timestamp.last == last, "\(source)")
      #expect(Int(s.label) == Int(source.split(separator: "/")[1])!)
    }
    #expect(set.x.allSatisfy { $0 < 34 } && set.y.allSatisfy { $0 < 34 })
    for i in 0..<set.count { #expect(set.sample(i).isTimeOrdered) }
    let firstSaccade = try NMNIST.load(
      split: .train, root: Self.root, firstSaccadeOnly: true, folder: "nmnist-small")
    #expect(firstSaccade.eventCount == 1_488_721)
    #expect(firstSaccade.timestamp.allSatisfy { $0 < 100_000 })
  }

  @Test func testSplit() throws {
    let set = try NMNIST.load(split: .test, root: Self.root, folder: "nmnist-small")
    #expect(set.count == 100)
    #expect(set.labelHistogram() == [8, 14, 8, 11, 14, 7, 10, 15, 2, 11])
    #expect(set.eventCount == 385_596)
    let i = try #require(set.sources.firstIndex(of: "Test/4/00057.bin"))
    #expect(set.sample(i).count == 4264 && set.sample(i).onCount == 2098)
    #expect(set.sources.last == "Test/9/00100.bin" && set.sample(99).count == 4877)
    #expect(
      try NMNIST.load(split: .test, root: Self.root, firstSaccadeOnly: true, folder: "nmnist-small")
        .eventCount == 130_181)
  }

  @Test func archiveOfRealFilesMatchesTheFolder() throws {
    // Pack the 100 test files into a ZIP (half stored, half deflated) and load it.
    let folder = try NMNIST.load(split: .test, root: Self.root, folder: "nmnist-small")
    var members: [TestZIPMember] = []
    for (i, source) in folder.sources.enumerated().reversed() {
      let bytes = try FileIO.read(Self.root.path + "/nmnist-small/" + source)
      members.append(TestZIPMember(name: source, data: bytes, method: i % 2 == 0 ? 0 : 8))
    }
    let path = temporaryPath("Test.zip")
    try FileIO.writeAtomically(makeZIP(members), to: path)
    defer { Directory.removeTree(path) }
    var fromZip = try NMNIST.load(archive: path)
    fromZip.name = folder.name
    #expect(fromZip == folder)
  }
}
