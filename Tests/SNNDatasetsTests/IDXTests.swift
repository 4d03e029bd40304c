import SNNBase
import Testing

@testable import SNNDatasets

@Suite struct IDXTests {
  @Test func parsesEveryDataType() throws {
    // int16, shape [2]: -2, 256 (big-endian).
    let shorts = try IDXArray.parse([0, 0, 0x0B, 1, 0, 0, 0, 2, 0xFF, 0xFE, 0x01, 0x00])
    #expect(shorts.dataType == .int16 && shorts.shape == [2])
    #expect(shorts.doubleValues() == [-2, 256])
    // ubyte [2, 3].
    let bytes = try IDXArray.parse([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 255])
    #expect(bytes.shape == [2, 3] && bytes.payload == [1, 2, 3, 4, 5, 255])
    // signed byte.
    #expect(
      try IDXArray.parse([0, 0, 0x09, 1, 0, 0, 0, 2, 0x80, 0x7F]).doubleValues() == [-128, 127])
    // int32 -1 and 0x01020304.
    let ints = try IDXArray.parse([0, 0, 0x0C, 1, 0, 0, 0, 2, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4])
    #expect(ints.doubleValues() == [-1, 16_909_060])
    // float32 1.5 = 0x3FC00000, float64 -0.25 = 0xBFD0000000000000.
    #expect(
      try IDXArray.parse([0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3F, 0xC0, 0, 0]).doubleValues() == [1.5])
    #expect(
      try IDXArray.parse([0, 0, 0x0E, 1, 0, 0, 0, 1, 0xBF, 0xD0, 0, 0, 0, 0, 0, 0]).doubleValues()
        == [-0.25])
    // Round trip through encoded().
    #expect(try IDXArray.parse(ints.encoded()) == ints)
  }

  func expectError(_ kind: DataFormatError.Kind, offset: Int, _ bytes: [UInt8]) {
    do {
      _ = try IDXArray.parse(bytes, path: "f.idx")
      Issue.record("expected \(kind)")
    } catch {
      #expect(error.kind == kind, "\(error)")
      #expect(error.offset == offset, "\(error)")
      #expect(error.description.hasPrefix("f.idx: byte \(offset): "))
    }
  }

  @Test func malformedHeadersAndSizes() {
    expectError(.truncated, offset: 2, [0, 0])
    expectError(.badMagic, offset: 0, [0, 1, 8, 1, 0, 0, 0, 0])
    expectError(.badHeader, offset: 2, [0, 0, 0x0A, 1, 0, 0, 0, 0])
    expectError(.badHeader, offset: 3, [0, 0, 8, 0])
    expectError(.truncated, offset: 10, [0, 0, 8, 2, 0, 0, 0, 1, 0, 0])
    expectError(.truncated, offset: 11, [0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3])
    expectError(.sizeMismatch, offset: 10, [0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3])
    expectError(.truncated, offset: 9, [0, 0, 0x0B, 1, 0, 0, 0, 1, 0])  // 2-byte element, 1 byte
    // Sizes whose product overflows.
    expectError(
      .badHeader, offset: 8,
      [0, 0, 8, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
  }

  @Test func readsGzipAndPlainFiles() throws {
    let idx: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]
    var w = BitWriter()
    w.storedBlock(idx, final: true)
    let gz = gzipMember(deflate: w.bytes, crc: CRC32.checksum(idx), size: idx.count)
    let plainPath = temporaryPath("plain.idx")
    let gzPath = temporaryPath("compressed.gz")
    try FileIO.writeAtomically(idx, to: plainPath)
    try FileIO.writeAtomically(gz, to: gzPath)
    #expect(try IDXArray.read(plainPath).payload == [7, 8, 9])
    #expect(try IDXArray.read(gzPath).payload == [7, 8, 9])
    // A corrupted gzip file reports the gzip error with the file's path.
    var bad = gz
    bad[bad.count - 5] ^= 1
    try FileIO.writeAtomically(bad, to: gzPath)
    #expect(throws: DatasetError.self) { try IDXArray.read(gzPath) }
    do {
      _ = try IDXArray.read(gzPath)
    } catch {
      #expect(error.formatError?.kind == .checksumMismatch)
      #expect(error.formatError?.path == gzPath)
    }
    // A missing file is a file error, not a format error.
    do {
      _ = try IDXArray.read(gzPath + ".missing")
      Issue.record("expected an error")
    } catch {
      guard case .file(let e) = error else { Issue.record("expected .file, got \(error)"); return }
      #expect(e.operation == .open)
    }
  }
}

@Suite struct MNISTTests {
  /// Writes a tiny MNIST-layout folder: `count` images of 2x3, labels as given.
  func makeFolder(images count: Int, labels: [UInt8], compress: Bool) throws -> DataRoot {
    let root = temporaryPath("mnist-root")
    try makeDirectory(root)
    try makeDirectory(root + "/mnist")
    let imageBytes: [UInt8] =
      [0, 0, 8, 3, 0, 0, 0, UInt8(count), 0, 0, 0, 2, 0, 0, 0, 3]
      + (0..<(count * 6)).map { UInt8($0 * 10) }
    let labelBytes: [UInt8] = [0, 0, 8, 1, 0, 0, 0, UInt8(labels.count)] + labels
    for (name, bytes) in [
      ("train-images-idx3-ubyte", imageBytes), ("train-labels-idx1-ubyte", labelBytes),
    ] {
      if compress {
        var w = BitWriter()
        w.fixedBlock(bytes.map { .literal($0) }, final: true)
        try FileIO.writeAtomically(
          gzipMember(deflate: w.bytes, crc: CRC32.checksum(bytes), size: bytes.count),
          to: root + "/mnist/" + name + ".gz")
      } else {
        try FileIO.writeAtomically(bytes, to: root + "/mnist/" + name)
      }
    }
    return DataRoot(path: root)
  }

  @Test func loadsBothFileNamings() throws {
    for compress in [false, true] {
      let root = try makeFolder(images: 3, labels: [2, 0, 9], compress: compress)
      let set = try MNIST.load(.mnist, split: .train, root: root)
      #expect(set.count == 3 && set.rows == 2 && set.cols == 3)
      #expect(set.labels == [2, 0, 9])
      #expect(Array(set.image(1)) == [60, 70, 80, 90, 100, 110])
      #expect(set.labelHistogram() == [1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
      #expect(set.name == "mnist/train")
    }
  }

  @Test func badLabelsAndCountsAreRejected() throws {
    let mismatch = try makeFolder(images: 3, labels: [1, 2], compress: false)
    do {
      _ = try MNIST.load(.mnist, split: .train, root: mismatch)
      Issue.record("expected an error")
    } catch {
      #expect(error.formatError?.kind == .sizeMismatch, "\(error)")
    }
    let badLabel = try makeFolder(images: 3, labels: [1, 10, 2], compress: false)
    do {
      _ = try MNIST.load(.mnist, split: .train, root: badLabel)
      Issue.record("expected an error")
    } catch {
      #expect(error.formatError?.kind == .valueOutOfRange, "\(error)")
      #expect(error.formatError?.offset == 9)
      #expect(error.description.contains("train-labels-idx1-ubyte"))
    }
  }

  @Test func missingDatasetNamesPathsAndTheFix() throws {
    let root = DataRoot.resolve(explicit: nil, environment: ["SNN_DATA": "/nonexistent/data/"])
    #expect(root.path == "/nonexistent/data" && root.source == .environment)
    do {
      _ = try MNIST.load(.fashionMNIST, split: .test, root: root)
      Issue.record("expected an error")
    } catch {
      guard case .notFound(let missing) = error else {
        Issue.record("wrong error \(error)"); return
      }
      #expect(
        missing.searched == [
          "/nonexistent/data/fashion-mnist/t10k-images-idx3-ubyte.gz",
          "/nonexistent/data/fashion-mnist/t10k-images-idx3-ubyte",
        ])
      #expect(error.description.contains("SNN_DATA"))
      #expect(error.description.contains("--data"))
    }
  }

  @Test func dataRootResolutionOrder() {
    #expect(
      DataRoot.resolve(explicit: "/a", environment: ["SNN_DATA": "/b", "HOME": "/h"])
        == DataRoot(path: "/a", source: .explicit))
    #expect(
      DataRoot.resolve(explicit: nil, environment: ["SNN_DATA": "/b", "HOME": "/h"])
        == DataRoot(path: "/b", source: .environment))
    #expect(
      DataRoot.resolve(explicit: "", environment: ["SNN_DATA": "", "HOME": "/h/"])
        == DataRoot(path: "/h/.snn/data", source: .defaultLocation))
  }

  @Test func normalization() throws {
    let n = PixelNormalization.mnist
    #expect(abs(n.value(0) - (-0.1307 / 0.3081)) < 1e-6)
    #expect(abs(n.value(255) - (1 - 0.1307) / 0.3081) < 1e-6)
    #expect(PixelNormalization.unit.value(51) == Float(51) / 255)
    let set = try ImageDataset(
      name: "t", count: 2, rows: 1, cols: 2, pixels: [0, 255, 51, 102], labels: [0, 1])
    #expect(set.normalizedBatch([1, 0], .unit) == [Float(51) / 255, Float(102) / 255, 0, 1])
    #expect(set.normalizedImage(1, .unit) == [Float(51) / 255, Float(102) / 255])
  }

  // Facts below were computed independently with Python (gzip + numpy) from the files in
  // /work/shared/data: label counts (np.bincount), the first labels, and pixel statistics.
  @Test(.enabled(if: TestData.available)) func realMNIST() throws {
    let root = DataRoot(path: TestData.root!)
    let train = try MNIST.load(.mnist, split: .train, root: root)
    #expect(train.count == 60_000 && train.rows == 28 && train.cols == 28)
    #expect(train.pixels.count == 47_040_000)
    #expect(train.labelHistogram() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    #expect(Array(train.labels[..<10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    #expect(train.image(0).reduce(0) { $0 + Int($1) } == 27_525)
    #expect(train.image(0)[train.image(0).startIndex + 14 * 28 + 14] == 240)
    let stats = train.pixelStatistics()
    #expect(abs(stats.mean - 0.13066) < 5e-5 && abs(stats.std - 0.30811) < 5e-5)
    let test = try MNIST.load(.mnist, split: .test, root: root)
    #expect(test.count == 10_000)
    #expect(test.labelHistogram() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    #expect(Array(test.labels[..<10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
  }

  @Test(.enabled(if: TestData.available)) func realFashionMNIST() throws {
    let root = DataRoot(path: TestData.root!)
    let train = try MNIST.load(.fashionMNIST, split: .train, root: root)
    #expect(train.labelHistogram() == Array(repeating: 6000, count: 10))
    #expect(Array(train.labels[..<10]) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
    #expect(train.image(0).reduce(0) { $0 + Int($1) } == 76_247)
    let stats = train.pixelStatistics()
    #expect(abs(stats.mean - 0.28604) < 5e-5 && abs(stats.std - 0.35302) < 5e-5)
    let test = try MNIST.load(.fashionMNIST, split: .test, root: root)
    #expect(test.labelHistogram() == Array(repeating: 1000, count: 10))
    #expect(Array(test.labels[..<10]) == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])
  }
}

@Suite struct BatchSamplerTests {
  @Test func epochOrderIsAPermutationAndAPureFunctionOfSeedAndEpoch() {
    let s = BatchSampler(count: 1000, batchSize: 64, seed: 42)
    let e0 = s.order(epoch: 0)
    #expect(e0.sorted() == Array(0..<1000))
    #expect(e0 != Array(0..<1000))
    #expect(s.order(epoch: 0) == e0)
    // The batch size does not change the order.
    #expect(BatchSampler(count: 1000, batchSize: 32, seed: 42).order(epoch: 0) == e0)
    #expect(s.order(epoch: 1) != e0)
    #expect(BatchSampler(count: 1000, batchSize: 64, seed: 43).order(epoch: 0) != e0)
    #expect(
      BatchSampler(count: 10, batchSize: 3, seed: 1, shuffle: false).order(epoch: 5)
        == Array(0..<10))
  }

  @Test func partialBatchKeptOrDropped() {
    let keep = BatchSampler(count: 10, batchSize: 4, seed: 7)
    #expect(keep.batchesPerEpoch == 3)
    let batches = keep.batches(epoch: 2)
    #expect(batches.map(\.count) == [4, 4, 2])
    #expect(batches.flatMap { $0 }.sorted() == Array(0..<10))
    let drop = BatchSampler(count: 10, batchSize: 4, seed: 7, dropLast: true)
    #expect(drop.batchesPerEpoch == 2)
    #expect(drop.batches(epoch: 2).map(Array.init) == batches.prefix(2).map(Array.init))
    #expect(BatchSampler(count: 8, batchSize: 4, seed: 7, dropLast: true).batchesPerEpoch == 2)
    #expect(BatchSampler(count: 0, batchSize: 4, seed: 7).batchesPerEpoch == 0)
  }

  @Test func resumingMidEpochReproducesTheRemainingBatches() {
    let sampler = BatchSampler(count: 257, batchSize: 16, seed: 99)
    // A run that goes straight through epochs 0–2.
    var straight: [[Int]] = []
    for epoch in 0..<3 { straight += sampler.batches(epoch: epoch).map(Array.init) }
    // A run that stops after batch 5 of epoch 1 and resumes from (epoch 1, batch 6) with a
    // freshly constructed sampler.
    var resumed: [[Int]] = sampler.batches(epoch: 0).map(Array.init)
    resumed += sampler.batches(epoch: 1).prefix(6).map(Array.init)
    let restarted = BatchSampler(count: 257, batchSize: 16, seed: 99)
    let order = restarted.order(epoch: 1)
    for b in 6..<restarted.batchesPerEpoch { resumed.append(Array(restarted.batch(b, of: order))) }
    resumed += restarted.batches(epoch: 2).map(Array.init)
    #expect(resumed == straight)
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

func makeDirectory(_ path: String) throws {
  if mkdir(path, 0o755) != 0 && errno != EEXIST {
    throw FileError(path: path, operation: .write, code: errno, reason: "mkdir failed")
  }
}
