import SNNBase

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

// Cache payloads for the datasets and the cached variants of the loaders.

extension ImageDataset {
  /// The cache payload: name, count, rows, cols, class count, pixels, labels.
  func cachePayload() -> [UInt8] {
    var w = ByteWriter(capacity: pixels.count + labels.count + 128)
    w.string(name)
    w.int(count)
    w.int(rows)
    w.int(cols)
    w.int(classCount)
    w.array(pixels)
    w.array(labels)
    return w.bytes
  }

  init?(cachePayload raw: UnsafeRawBufferPointer) {
    var decoded: ImageDataset?
    do {
      var r = ByteReader(raw)
      guard let name = r.string(), let count = r.int(), let rows = r.int(), let cols = r.int(),
        let classCount = r.int(), let pixels = r.bytesArray(), let labels = r.bytesArray(),
        r.isAtEnd
      else { return nil }
      decoded = try? ImageDataset(
        name: name, count: count, rows: rows, cols: cols, pixels: pixels, labels: labels,
        classCount: classCount)
    }
    guard let decoded else { return nil }
    self = decoded
  }
}

extension EventDataset {
  /// The cache payload: name, sensor size, offsets, labels, sources, then the columns.
  func cachePayload() -> [UInt8] {
    var w = ByteWriter(capacity: eventCount * 7 + count * 40 + 128)
    w.string(name)
    w.int(width)
    w.int(height)
    w.array(offsets)
    w.array(labels)
    w.int(sources.count)
    for s in sources { w.string(s) }
    w.array(x)
    w.array(y)
    w.array(polarity)
    w.array(timestamp)
    return w.bytes
  }

  init?(cachePayload raw: UnsafeRawBufferPointer) {
    var decoded: EventDataset?
    do {
      var r = ByteReader(raw)
      guard let name = r.string(), let width = r.int(), let height = r.int(),
        let offsets = r.intArray(),
        let labels = r.bytesArray(), let sourceCount = r.count(width: 8),
        sourceCount == labels.count
      else { return nil }
      var sources: [String] = []
      for _ in 0..<sourceCount {
        guard let s = r.string() else { return nil }
        sources.append(s)
      }
      guard let x = r.bytesArray(), let y = r.bytesArray(), let polarity = r.bytesArray(),
        let timestamp = r.u32Array(), r.isAtEnd
      else { return nil }
      let n = x.count
      guard y.count == n, polarity.count == n, timestamp.count == n,
        offsets.count == labels.count + 1,
        offsets.first == 0, offsets.last == n,
        zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }),
        width > 0, height > 0, width <= 256, height <= 256,
        x.allSatisfy({ Int($0) < width }), y.allSatisfy({ Int($0) < height })
      else { return nil }
      var set = EventDataset(name: name, width: width, height: height)
      set.x = x
      set.y = y
      set.polarity = polarity
      set.timestamp = timestamp
      set.offsets = offsets
      set.labels = labels
      set.sources = sources
      decoded = set
    }
    guard let decoded else { return nil }
    self = decoded
  }
}

/// Identities of source files for cache keys.
enum SourceIdentity {
  /// `path=<p> xxh64=<hex> size=<n>` of a file's contents (memory-mapped, not copied).
  static func contents(_ path: String) throws(DatasetError) -> String {
    let source: ByteSource
    do {
      source = try ByteSource(mapping: path)
    } catch {
      throw .file(error)
    }
    return "file=\(path) size=\(source.count) xxh64=\(hex(XXH64.hash(source.bytes)))\n"
  }

  /// Relative paths, sizes and modification times of every file below `directory`.
  static func metadata(_ directory: String) throws(DatasetError) -> String {
    var lines: [String] = []
    func walk(_ dir: String, _ relative: String) throws(DatasetError) {
      let items: [Directory.Item]
      do {
        items = try Directory.list(dir)
      } catch {
        throw .file(error)
      }
      for item in items {
        let path = dir + "/" + item.name
        let rel = relative.isEmpty ? item.name : relative + "/" + item.name
        if item.isDirectory {
          try walk(path, rel)
        } else {
          var info = stat()
          if stat(path, &info) == 0 {
            lines.append("\(rel) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)")
          }
        }
      }
    }
    try walk(directory, "")
    lines.sort()
    return "folder=\(directory)\n" + lines.joined(separator: "\n") + "\n"
  }
}

extension MNIST {
  /// Loads one split through `cache`: a valid entry for the same source files is used, a
  /// missing, stale or corrupt one is rebuilt from the files and written back.
  public static func load(
    _ variant: Variant, split: DatasetSplit, root: DataRoot, cache: DatasetCache
  )
    throws(DatasetError) -> (dataset: ImageDataset, outcome: DatasetCache.Outcome)
  {
    let names = fileNames(split)
    let folder = root.appending(variant.folder)
    let images = try locate(folder: folder, name: names.images, dataset: variant.folder, root: root)
    let labels = try locate(folder: folder, name: names.labels, dataset: variant.folder, root: root)
    let description =
      "loader=idx-images v1\n" + (try SourceIdentity.contents(images))
      + (try SourceIdentity.contents(labels))
    let key = DatasetCache.Key(
      kind: "\(variant.folder)-\(split.rawValue)", description: description)
    let name = "\(variant.folder)/\(split.rawValue)"
    let result = try cache.load(
      key, decode: { ImageDataset(cachePayload: $0) }, encode: { $0.cachePayload() },
      build: { () throws(DatasetError) in
        try load(imagesPath: images, labelsPath: labels, name: name)
      })
    return (result.value, result.outcome)
  }
}

extension NMNIST {
  /// Loads a split through `cache` (see ``DatasetCache`` for how folders and archives are
  /// keyed). The first-saccade cut is part of the key.
  public static func load(
    split: DatasetSplit, root: DataRoot, firstSaccadeOnly: Bool = false,
    folder: String = defaultFolder,
    cache: DatasetCache
  ) throws(DatasetError) -> (dataset: EventDataset, outcome: DatasetCache.Outcome) {
    let base = root.appending(folder)
    let directory = base + "/" + splitName(split)
    let archive = directory + ".zip"
    let identity: String
    if FileIO.isDirectory(directory) {
      identity = try SourceIdentity.metadata(directory)
    } else if FileIO.exists(archive) {
      identity = try SourceIdentity.contents(archive)
    } else {
      throw .notFound(
        DatasetNotFound(dataset: folder, root: root, searched: [directory + "/", archive]))
    }
    let description =
      "loader=nmnist v1\nfirstSaccadeOnly=\(firstSaccadeOnly) cut=\(firstSaccadeEnd) overflow=\(overflowIncrement)\n"
      + identity
    let key = DatasetCache.Key(
      kind: "\(folder)-\(split.rawValue)" + (firstSaccadeOnly ? "-saccade1" : ""),
      description: description)
    let result = try cache.load(
      key, decode: { EventDataset(cachePayload: $0) }, encode: { $0.cachePayload() },
      build: { () throws(DatasetError) in
        try load(split: split, root: root, firstSaccadeOnly: firstSaccadeOnly, folder: folder)
      })
    return (result.value, result.outcome)
  }
}
