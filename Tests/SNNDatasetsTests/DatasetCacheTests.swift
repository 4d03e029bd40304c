import SNNBase
import Testing

@testable import SNNDatasets

@Suite struct DatasetCacheTests {
  /// A tiny MNIST folder (gzip files) and a fresh cache folder.
  func makeMNIST(labels: [UInt8]) throws -> DataRoot {
    let root = temporaryPath("cache-root")
    try makeDirectory(root)
    try makeDirectory(root + "/mnist")
    let count = labels.count
    let images: [UInt8] =
      [0, 0, 8, 3, 0, 0, 0, UInt8(count), 0, 0, 0, 2, 0, 0, 0, 2]
      + (0..<(count * 4)).map { UInt8($0) }
    let labelFile: [UInt8] = [0, 0, 8, 1, 0, 0, 0, UInt8(count)] + labels
    for (name, bytes) in [
      ("t10k-images-idx3-ubyte.gz", images), ("t10k-labels-idx1-ubyte.gz", labelFile),
    ] {
      var w = BitWriter()
      w.storedBlock(bytes, final: true)
      try FileIO.writeAtomically(
        gzipMember(deflate: w.bytes, crc: CRC32.checksum(bytes), size: bytes.count),
        to: root + "/mnist/" + name)
    }
    return DataRoot(path: root)
  }

  @Test func missThenHitThenRebuildWhenTheSourceChanges() throws {
    let root = try makeMNIST(labels: [1, 2, 3])
    let cache = DatasetCache(directory: temporaryPath("cache") + "/nested/dir")
    defer {
      Directory.removeTree(String(cache.directory.dropLast("/nested/dir".count)))
      Directory.removeTree(root.path)
    }
    let direct = try MNIST.load(.mnist, split: .test, root: root)
    let first = try MNIST.load(.mnist, split: .test, root: root, cache: cache)
    #expect(first.outcome == .rebuilt(reason: "no entry"))
    #expect(first.dataset == direct)
    let second = try MNIST.load(.mnist, split: .test, root: root, cache: cache)
    #expect(second.outcome == .hit)
    #expect(second.dataset == direct)
    // New labels in the source file: a new key, so the old entry is not used.
    let changed = try makeMNIST(labels: [1, 2, 4])
    let moved = DataRoot(path: root.path)
    try FileIO.writeAtomically(
      try FileIO.read(changed.path + "/mnist/t10k-labels-idx1-ubyte.gz"),
      to: moved.path + "/mnist/t10k-labels-idx1-ubyte.gz")
    let third = try MNIST.load(.mnist, split: .test, root: moved, cache: cache)
    #expect(third.outcome == .rebuilt(reason: "no entry"))
    #expect(third.dataset.labels == [1, 2, 4])
  }

  @Test func corruptEntriesAreRejectedAndRebuilt() throws {
    let root = try makeMNIST(labels: [0, 9])
    let cache = DatasetCache(directory: temporaryPath("cache"))
    defer {
      Directory.removeTree(cache.directory)
      Directory.removeTree(root.path)
    }
    let (dataset, _) = try MNIST.load(.mnist, split: .test, root: root, cache: cache)
    let files = try Directory.list(cache.directory).map { cache.directory + "/" + $0.name }
    #expect(files.count == 1)
    let path = files[0]
    let good = try FileIO.read(path)
    func expectRebuild(_ bytes: [UInt8], _ reason: String) throws {
      try FileIO.writeAtomically(bytes, to: path)
      let r = try MNIST.load(.mnist, split: .test, root: root, cache: cache)
      #expect(r.outcome == .rebuilt(reason: reason))
      #expect(r.dataset == dataset)
      #expect(try FileIO.read(path) == good)  // rewritten
    }
    var payload = good
    payload[good.count - 1] ^= 1
    try expectRebuild(payload, "payload checksum mismatch")
    try expectRebuild(
      Array(good.dropLast()), "payload length \(good.count - 64), file holds \(good.count - 65)")
    var magic = good
    magic[0] = 0x58
    try expectRebuild(magic, "bad magic")
    var version = good
    version[8] = 99
    try expectRebuild(version, "format version 99, expected 1")
    var key = good
    key[16] ^= 0xFF
    try expectRebuild(key, "header checksum mismatch")
    try expectRebuild(Array(good[..<30]), "truncated header (30 bytes)")
    try expectRebuild([], "truncated header (0 bytes)")
    // A well-formed entry whose payload does not decode.
    let entryKey = try #require(try cacheKey(of: path, in: cache))
    try cache.write(entryKey, payload: [1, 2, 3])
    let r = try MNIST.load(.mnist, split: .test, root: root, cache: cache)
    #expect(r.outcome == .rebuilt(reason: "payload malformed"))
    #expect(try MNIST.load(.mnist, split: .test, root: root, cache: cache).outcome == .hit)
  }

  /// The key of an existing entry, read back from its header.
  func cacheKey(of path: String, in cache: DatasetCache) throws -> DatasetCache.Key? {
    let bytes = try FileIO.read(path)
    guard bytes.count >= 24 else { return nil }
    var digest: UInt64 = 0
    for i in 0..<8 { digest |= UInt64(bytes[16 + i]) << UInt64(8 * i) }
    let name = String(path.split(separator: "/").last!)
    let kind = String(name.dropLast(".snncache".count + 17))
    return DatasetCache.Key(kind: kind, digest: digest)
  }

  @Test func unwritableCacheStillLoads() throws {
    let root = try makeMNIST(labels: [5])
    let blocker = temporaryPath("file")
    try FileIO.writeAtomically([1], to: blocker)
    let cache = DatasetCache(directory: blocker + "/cache")
    let r = try MNIST.load(.mnist, split: .test, root: root, cache: cache)
    #expect(r.dataset.labels == [5])
    guard case .notWritten = r.outcome else {
      Issue.record("expected notWritten, got \(r.outcome)"); return
    }
  }

  @Test func eventDatasetsRoundTripAndParametersChangeTheKey() throws {
    let root = temporaryPath("nmnist-cache")
    try makeDirectory(root)
    try makeDirectory(root + "/nmnist")
    try makeDirectory(root + "/nmnist/Train")
    try makeDirectory(root + "/nmnist/Train/4")
    let events =
      nmnistEvent(x: 1, y: 2, on: true, t: 5) + nmnistEvent(x: 3, y: 4, on: false, t: 150_000)
    try FileIO.writeAtomically(events, to: root + "/nmnist/Train/4/1.bin")
    let cache = DatasetCache(directory: temporaryPath("cache"))
    let data = DataRoot(path: root)
    defer {
      Directory.removeTree(cache.directory)
      Directory.removeTree(root)
    }
    let a = try NMNIST.load(split: .train, root: data, cache: cache)
    let b = try NMNIST.load(split: .train, root: data, cache: cache)
    let c = try NMNIST.load(split: .train, root: data, firstSaccadeOnly: true, cache: cache)
    #expect(
      a.outcome == .rebuilt(reason: "no entry") && b.outcome == .hit
        && c.outcome == .rebuilt(reason: "no entry"))
    let direct = try NMNIST.load(split: .train, root: data)
    #expect(a.dataset == b.dataset && a.dataset == direct)
    #expect(a.dataset.eventCount == 2 && c.dataset.eventCount == 1)
    // Adding a file changes the folder's identity.
    try FileIO.writeAtomically(events, to: root + "/nmnist/Train/4/2.bin")
    let d = try NMNIST.load(split: .train, root: data, cache: cache)
    #expect(d.outcome == .rebuilt(reason: "no entry") && d.dataset.count == 2)
  }

  @Test(.enabled(if: TestData.available)) func realMNISTThroughTheCache() throws {
    let cache = DatasetCache(directory: temporaryPath("cache"))
    defer { Directory.removeTree(cache.directory) }
    let root = DataRoot(path: TestData.root!)
    let direct = try MNIST.load(.mnist, split: .test, root: root)
    #expect(try MNIST.load(.mnist, split: .test, root: root, cache: cache).outcome != .hit)
    let hit = try MNIST.load(.mnist, split: .test, root: root, cache: cache)
    #expect(hit.outcome == .hit && hit.dataset == direct)
  }
}
