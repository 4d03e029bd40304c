import SNNBase

/// N-MNIST (Orchard, Jayawant, Cohen & Thakor 2015): MNIST digits recorded by an ATIS
/// event camera on a pan-tilt unit making three saccades, about 300 ms per sample.
///
/// **File format.** Each `.bin` file is a headerless list of 5-byte events: byte 0 = x,
/// byte 1 = y (both 0–33 on the 34 × 34 sensor), the top bit of byte 2 = polarity (1 = ON),
/// and the low 7 bits of byte 2 followed by bytes 3 and 4 = a 23-bit timestamp in µs, most
/// significant byte first. An event with y = 240 is not an event but a timestamp-overflow
/// marker: it is dropped and 2^13 µs is added to the timestamps of every later event of the
/// file. This is the rule of the reader in the `tonic` library (neuromorphs/tonic,
/// `tonic/datasets/nmnist.py`: `all_ts[overflow_index:] += 2**13` for each index where
/// y == 240); the dataset's web page describes only the 40-bit event layout. No marker
/// occurs in the shared subset.
///
/// **Layout.** `Train/<label>/<id>.bin` and `Test/<label>/<id>.bin`, or the official
/// `Train.zip` / `Test.zip` holding the same paths. Samples are ordered by label, then by
/// numeric id, so the order does not depend on the file system.
///
/// **First saccade.** The first of the three saccades ends near 100 ms: over the 1,000
/// training samples of the shared subset, the event rate falls to its minimum at 88–91 ms
/// and rises again from about 92 ms. `firstSaccadeOnly` keeps events with timestamp
/// < ``firstSaccadeEnd`` = 100,000 µs, the cut `tonic` uses, which keeps about a third of
/// the events.
public enum NMNIST {
  public static let width = 34
  public static let height = 34
  /// The y value that marks a timestamp overflow.
  public static let overflowMarker: UInt8 = 240
  /// Added to the timestamps after each overflow marker (µs).
  public static let overflowIncrement: UInt32 = 1 << 13
  /// Events at or after this time (µs) are dropped by `firstSaccadeOnly`.
  public static let firstSaccadeEnd: UInt32 = 100_000

  /// The folder (under the data root) that holds the full dataset.
  public static let defaultFolder = "nmnist"

  /// Decodes one `.bin` file's bytes.
  ///
  /// - Parameters:
  ///   - path: the file name used in errors.
  ///   - firstSaccadeOnly: keep only events before ``firstSaccadeEnd``.
  /// - Throws: `DataFormatError` for a size that is not a multiple of 5 (`.truncated`, at
  ///   the incomplete event) and for coordinates outside 0–33 (`.valueOutOfRange`, at the
  ///   event's offset).
  public static func decode(
    _ bytes: [UInt8], label: UInt8, path: String = "", firstSaccadeOnly: Bool = false
  )
    throws(DataFormatError) -> EventSample
  {
    var columns = EventDataset(name: path, width: width, height: height)
    try bytes.withUnsafeBufferPointer { buffer throws(DataFormatError) in
      try decode(
        UnsafeRawBufferPointer(buffer), path: path, firstSaccadeOnly: firstSaccadeOnly,
        into: &columns)
    }
    var sample = columns.sample(0)
    sample.label = label
    return sample
  }

  /// Decodes one file's events and appends them as a new sample of `dataset` (label 0; the
  /// caller sets it).
  static func decode(
    _ bytes: UnsafeRawBufferPointer, path: String, firstSaccadeOnly: Bool,
    into dataset: inout EventDataset
  ) throws(DataFormatError) {
    let n = bytes.count
    guard n % 5 == 0 else {
      throw DataFormatError(
        path: path, offset: n - n % 5, kind: .truncated,
        detail: "file size \(n) is not a multiple of 5 (the last event has \(n % 5) of its 5 bytes)"
      )
    }
    let eventCount = n / 5
    let cutoff = firstSaccadeOnly ? firstSaccadeEnd : UInt32.max
    // Decode into scratch columns, then append the events kept (memcpy speed).
    var failure: DataFormatError? = nil
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 3 * max(eventCount, 1)) { columns in
      withUnsafeTemporaryAllocation(of: UInt32.self, capacity: max(eventCount, 1)) { times in
        let x = columns.baseAddress!, y = x + eventCount, p = y + eventCount
        let t = times.baseAddress!
        var kept = 0
        var shift: UInt32 = 0
        var o = 0
        for k in 0..<eventCount {
          let b0 = bytes[o], b1 = bytes[o + 1], b2 = bytes[o + 2]
          if b1 == overflowMarker {
            shift &+= overflowIncrement
          } else {
            if b0 >= width || b1 >= height {
              failure = DataFormatError(
                path: path, offset: o, kind: .valueOutOfRange,
                detail:
                  "event \(k) at (x \(b0), y \(b1)) lies outside the 34x34 sensor (expected 0-33)")
              return
            }
            let time =
              (UInt32(b2 & 0x7F) << 16 | UInt32(bytes[o + 3]) << 8 | UInt32(bytes[o + 4])) &+ shift
            if time < cutoff {
              x[kept] = b0
              y[kept] = b1
              p[kept] = b2 >> 7
              t[kept] = time
              kept += 1
            }
          }
          o += 5
        }
        // Nothing of a failing file reaches the dataset.
        dataset.x.append(contentsOf: UnsafeBufferPointer(start: x, count: kept))
        dataset.y.append(contentsOf: UnsafeBufferPointer(start: y, count: kept))
        dataset.polarity.append(contentsOf: UnsafeBufferPointer(start: p, count: kept))
        dataset.timestamp.append(contentsOf: UnsafeBufferPointer(start: t, count: kept))
      }
    }
    if let failure { throw failure }
    dataset.offsets.append(dataset.x.count)
    dataset.labels.append(0)
    dataset.sources.append(path)
  }

  /// Reads one `.bin` file.
  public static func readSample(path: String, label: UInt8, firstSaccadeOnly: Bool = false)
    throws(DatasetError)
    -> EventSample
  {
    let bytes = try DataFile.read(path)
    do {
      return try decode(bytes, label: label, path: path, firstSaccadeOnly: firstSaccadeOnly)
    } catch {
      throw .malformed(error)
    }
  }

  /// The folder or archive name of a split: `Train` / `Test`.
  public static func splitName(_ split: DatasetSplit) -> String {
    split == .train ? "Train" : "Test"
  }

  /// Loads a split from `root/<folder>/`: the folder `Train/` (or `Test/`) if present, else
  /// the archive `Train.zip` (or `Test.zip`).
  ///
  /// - Parameters:
  ///   - folder: the dataset folder under the root (`nmnist`; the shared 1,100-sample subset
  ///     lives in `nmnist-small`).
  ///   - firstSaccadeOnly: keep only events before 100 ms.
  /// - Throws: `DatasetError.notFound` naming both places tried; `.malformed` for any bad
  ///   file (nothing is returned half-loaded).
  public static func load(
    split: DatasetSplit, root: DataRoot, firstSaccadeOnly: Bool = false,
    folder: String = defaultFolder
  ) throws(DatasetError) -> EventDataset {
    let base = root.appending(folder)
    let directory = base + "/" + splitName(split)
    let archive = directory + ".zip"
    let name = "\(folder)/\(split.rawValue)" + (firstSaccadeOnly ? " (first saccade)" : "")
    if FileIO.isDirectory(directory) {
      var set = try load(directory: directory, firstSaccadeOnly: firstSaccadeOnly)
      set.name = name
      return set
    }
    if FileIO.exists(archive) {
      var set = try load(archive: archive, firstSaccadeOnly: firstSaccadeOnly)
      set.name = name
      return set
    }
    throw .notFound(
      DatasetNotFound(dataset: folder, root: root, searched: [directory + "/", archive]))
  }

  /// A sample's location, for ordering: label, then numeric id, then name.
  struct SampleKey: Comparable {
    var label: UInt8
    var id: Int
    var name: String
    static func < (a: SampleKey, b: SampleKey) -> Bool {
      (a.label, a.id, a.name) < (b.label, b.id, b.name)
    }
  }

  /// The numeric id of `00012.bin` (Int.max when the stem is not a number).
  static func numericID(_ fileName: String) -> Int {
    Int(fileName.dropLast(4)) ?? Int.max
  }

  /// The label of a label folder named `0`...`9`.
  static func label(ofFolder name: String) -> UInt8? {
    guard name.utf8.count == 1, let c = name.utf8.first, c >= 0x30, c <= 0x39 else { return nil }
    return c - 0x30
  }

  /// Loads `directory/<label>/<id>.bin` (a `Train` or `Test` folder).
  ///
  /// - Throws: `.malformed` with `.badLayout` for a label folder whose name is not a
  ///   digit and for a folder without any `.bin` file; `.file` for unreadable entries.
  public static func load(directory: String, firstSaccadeOnly: Bool = false) throws(DatasetError)
    -> EventDataset
  {
    var samples: [(key: SampleKey, path: String, source: String)] = []
    let top: [Directory.Item]
    do {
      top = try Directory.list(directory)
    } catch {
      throw .file(error)
    }
    let splitFolder = directory.split(separator: "/").last.map(String.init) ?? directory
    for item in top where item.isDirectory && !item.name.hasPrefix(".") {
      guard let label = label(ofFolder: item.name) else {
        throw .malformed(
          DataFormatError(
            path: directory + "/" + item.name, offset: nil, kind: .badLayout,
            detail:
              "label folder '\(item.name)' is not a digit 0-9 (expected \(splitFolder)/<label>/<id>.bin)"
          ))
      }
      let files: [Directory.Item]
      do {
        files = try Directory.list(directory + "/" + item.name)
      } catch {
        throw .file(error)
      }
      for file in files
      where !file.isDirectory && file.name.hasSuffix(".bin") && !file.name.hasPrefix(".") {
        samples.append(
          (
            SampleKey(label: label, id: numericID(file.name), name: file.name),
            directory + "/" + item.name + "/" + file.name,
            splitFolder + "/" + item.name + "/" + file.name
          ))
      }
    }
    guard !samples.isEmpty else {
      throw .malformed(
        DataFormatError(
          path: directory, offset: nil, kind: .badLayout,
          detail: "no samples: expected label folders 0-9 holding <id>.bin files"))
    }
    samples.sort { $0.key < $1.key }
    let keys = samples.map(\.key)
    let sources = samples.map(\.source)
    let paths = samples.map(\.path)
    return try decodeInParallel(
      count: samples.count, keys: keys, sources: sources, firstSaccadeOnly: firstSaccadeOnly,
      name: directory
    ) { i throws(DatasetError) -> (bytes: [UInt8], path: String) in
      (try DataFile.read(paths[i]), paths[i])
    }
  }

  /// Loads the samples of an N-MNIST archive (`Train.zip` / `Test.zip`): every member whose
  /// path ends in `<label>/<id>.bin`. Members are inflated and checked (CRC-32) as they are
  /// decoded; nothing is written to disk.
  public static func load(archive path: String, firstSaccadeOnly: Bool = false) throws(DatasetError)
    -> EventDataset
  {
    let zip = try ZIPArchive(path: path)
    return try load(archive: zip, firstSaccadeOnly: firstSaccadeOnly)
  }

  /// Loads the samples of an opened archive.
  public static func load(archive zip: ZIPArchive, firstSaccadeOnly: Bool = false)
    throws(DatasetError) -> EventDataset
  {
    var members: [(key: SampleKey, entry: ZIPArchive.Entry)] = []
    for entry in zip.entries where !entry.isDirectory && entry.name.hasSuffix(".bin") {
      let parts = entry.name.split(separator: "/", omittingEmptySubsequences: false)
      let fileName = String(parts.last!)
      // Resource forks and other metadata that macOS adds to archives.
      if fileName.hasPrefix("._") || parts.contains("__MACOSX") { continue }
      guard parts.count >= 2 else {
        throw .malformed(
          DataFormatError(
            path: zip.path, offset: entry.localHeaderOffset, kind: .badLayout,
            detail:
              "member '\(entry.name)' is not in a label folder (expected .../<label>/<id>.bin)"))
      }
      guard let label = label(ofFolder: String(parts[parts.count - 2])) else {
        throw .malformed(
          DataFormatError(
            path: zip.path, offset: entry.localHeaderOffset, kind: .badLayout,
            detail:
              "member '\(entry.name)': label folder '\(parts[parts.count - 2])' is not a digit 0-9")
        )
      }
      members.append((SampleKey(label: label, id: numericID(fileName), name: entry.name), entry))
    }
    guard !members.isEmpty else {
      throw .malformed(
        DataFormatError(
          path: zip.path, offset: nil, kind: .badLayout,
          detail: "the archive holds no <label>/<id>.bin members (\(zip.entries.count) entries)"))
    }
    members.sort { $0.key < $1.key }
    let entries = members.map(\.entry)
    return try decodeInParallel(
      count: members.count, keys: members.map(\.key), sources: entries.map(\.name),
      firstSaccadeOnly: firstSaccadeOnly, name: zip.path
    ) { i throws(DatasetError) -> (bytes: [UInt8], path: String) in
      do throws(DataFormatError) {
        return (try zip.extract(entries[i]), zip.path + ":" + entries[i].name)
      } catch {
        throw .malformed(error)
      }
    }
  }

  /// Reads and decodes samples `0..<count` on all cores, in contiguous chunks, and joins
  /// the chunks in order. If any sample fails, the error of the lowest-numbered failing
  /// sample is thrown (the same error every run) and nothing is returned.
  static func decodeInParallel(
    count: Int, keys: [SampleKey], sources: [String], firstSaccadeOnly: Bool, name: String,
    read: (Int) throws(DatasetError) -> (bytes: [UInt8], path: String)
  ) throws(DatasetError) -> EventDataset {
    let chunkCount = min(count, max(1, Parallel.defaultThreads) * 4)
    var parts = [EventDataset](
      repeating: EventDataset(name: name, width: width, height: height), count: chunkCount)
    var failures = [(index: Int, error: DatasetError)?](repeating: nil, count: chunkCount)
    parts.withUnsafeMutableBufferPointer { partBuffer in
      failures.withUnsafeMutableBufferPointer { failureBuffer in
        let partPointer = UncheckedSendable(partBuffer)
        let failurePointer = UncheckedSendable(failureBuffer)
        Parallel.forEach(iterations: chunkCount) { chunk in
          let range = Parallel.chunkRange(chunk, of: chunkCount, count: count)
          var part = EventDataset(name: name, width: width, height: height)
          for i in range {
            do {
              let file = try read(i)
              try file.bytes.withUnsafeBufferPointer { buffer throws(DataFormatError) in
                try decode(
                  UnsafeRawBufferPointer(buffer), path: file.path,
                  firstSaccadeOnly: firstSaccadeOnly, into: &part)
              }
              part.labels[part.labels.count - 1] = keys[i].label
              part.sources[part.sources.count - 1] = sources[i]
            } catch let error as DatasetError {
              failurePointer.value[chunk] = (i, error)
              return
            } catch let error as DataFormatError {
              failurePointer.value[chunk] = (i, .malformed(error))
              return
            } catch {
              fatalError("unexpected error \(error)")
            }
          }
          partPointer.value[chunk] = part
        }
      }
    }
    if let first = failures.compactMap({ $0 }).min(by: { $0.index < $1.index }) {
      throw first.error
    }
    var result = EventDataset(name: name, width: width, height: height)
    let total = parts.reduce(0) { $0 + $1.eventCount }
    result.x.reserveCapacity(total)
    result.y.reserveCapacity(total)
    result.polarity.reserveCapacity(total)
    result.timestamp.reserveCapacity(total)
    // Release each chunk once it is copied, so that the join does not keep two full copies
    // of a large dataset resident.
    for i in parts.indices {
      result.append(contentsOf: parts[i])
      parts[i] = EventDataset(name: name, width: width, height: height)
    }
    return result
  }
}
