import SNNBase

/// Checks dataset files against the checksums their publishers list, and against
/// `SHA256SUMS` files where a folder has one.
///
/// Published archive checksums (MD5):
/// - MNIST (LeCun, Cortes & Burges), from the original distribution page:
///   train-images f68b3c2dcbeaaa9fbdd348bbdeb94873, train-labels
///   d53e105ee54ea40749a09fcbcd1e9432, t10k-images 9fb629c4189551a2d022fa330f9573f3,
///   t10k-labels ec29112dd5afa0611ce80d1b7f02629c.
/// - Fashion-MNIST, from the "Get the Data" table of the README of
///   github.com/zalandoresearch/fashion-mnist: train-images 8d4fb7e6c68d591d4c3dfef9ec88bf0d,
///   train-labels 25c81989df183df01b3e8a0aad5dffbe, t10k-images
///   bef4ecab320f06d8554ea6380940ec79, t10k-labels bb300cfdad3c16e7a12a480ee83cd310.
/// - N-MNIST, as listed by the `tonic` library (neuromorphs/tonic,
///   `tonic/datasets/nmnist.py`) and SpikingJelly for the archives of the dataset's
///   download page: Train.zip 20959b8e626244a1b502305a9e6e2031, Test.zip
///   69ca8762b2fe404d9b9bad1103e97832.
///
/// When an archive's MD5 differs (a re-compressed copy, as Debian ships Fashion-MNIST), the
/// decompressed contents are checked instead — gzip CRC-32 and length, IDX type and shape,
/// labels 0–9 and the published class counts — and the result says so: no publisher lists
/// checksums of the uncompressed files, so such a file is reported as "contents checked",
/// never as identical to the original.
public enum DatasetVerifier {
  /// The verdict on one file (or one checksum list).
  public enum Status: String, Sendable, Equatable {
    /// The checksum matches a published or listed value.
    case ok
    /// The archive differs from the published one, but its decoded contents pass every
    /// check available without a published checksum of the uncompressed data.
    case contentsChecked = "contents checked"
    /// Expected but absent.
    case missing
    /// A checksum does not match, or the contents do not decode.
    case corrupt
  }

  public struct Result: Sendable, Equatable {
    /// The path relative to the folder that was verified.
    public var path: String
    public var status: Status
    public var detail: String
  }

  /// Published facts about one file.
  struct Expected {
    var name: String
    var md5: String
    /// IDX shape of the decompressed file, if it is an IDX file.
    var shape: [Int]?
    /// Label counts per class, if published (Fashion-MNIST is balanced).
    var labelCounts: [Int]?
  }

  static let mnist: [Expected] = [
    Expected(
      name: "train-images-idx3-ubyte.gz", md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
      shape: [60_000, 28, 28]),
    Expected(
      name: "train-labels-idx1-ubyte.gz", md5: "d53e105ee54ea40749a09fcbcd1e9432", shape: [60_000]),
    Expected(
      name: "t10k-images-idx3-ubyte.gz", md5: "9fb629c4189551a2d022fa330f9573f3",
      shape: [10_000, 28, 28]),
    Expected(
      name: "t10k-labels-idx1-ubyte.gz", md5: "ec29112dd5afa0611ce80d1b7f02629c", shape: [10_000]),
  ]

  static let fashionMNIST: [Expected] = [
    Expected(
      name: "train-images-idx3-ubyte.gz", md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
      shape: [60_000, 28, 28]),
    Expected(
      name: "train-labels-idx1-ubyte.gz", md5: "25c81989df183df01b3e8a0aad5dffbe", shape: [60_000],
      labelCounts: Array(repeating: 6000, count: 10)),
    Expected(
      name: "t10k-images-idx3-ubyte.gz", md5: "bef4ecab320f06d8554ea6380940ec79",
      shape: [10_000, 28, 28]),
    Expected(
      name: "t10k-labels-idx1-ubyte.gz", md5: "bb300cfdad3c16e7a12a480ee83cd310", shape: [10_000],
      labelCounts: Array(repeating: 1000, count: 10)),
  ]

  static let nmnist: [Expected] = [
    Expected(name: "Train.zip", md5: "20959b8e626244a1b502305a9e6e2031"),
    Expected(name: "Test.zip", md5: "69ca8762b2fe404d9b9bad1103e97832"),
  ]

  /// The published checksums that apply to a dataset folder of this name.
  static func expectations(forFolder name: String) -> [Expected] {
    switch name {
    case "mnist": return mnist
    case "fashion-mnist": return fashionMNIST
    case "nmnist": return nmnist
    default: return []
    }
  }

  /// Known dataset folder names, checked when verifying a data root.
  public static let knownFolders = ["mnist", "fashion-mnist", "nmnist", "nmnist-small"]

  /// Verifies `directory`: a data root (its known dataset folders and any subfolder with a
  /// `SHA256SUMS` file) or a single dataset folder.
  ///
  /// - Throws: `DatasetError.notFound` when the folder holds nothing to verify.
  public static func verify(_ directory: String, progress: (String) -> Void = { _ in })
    throws(DatasetError)
    -> [Result]
  {
    let dir = DataRoot.trimmingTrailingSlashes(directory)
    let name = dir.split(separator: "/").last.map(String.init) ?? dir
    if isDatasetFolder(dir, name: name) {
      return verifyFolder(dir, name: name, prefix: "", progress: progress)
    }
    var results: [Result] = []
    var folders = knownFolders.filter { FileIO.isDirectory(dir + "/" + $0) }
    if let items = try? Directory.list(dir) {
      for item in items.sorted(by: { $0.name < $1.name })
      where item.isDirectory && !folders.contains(item.name)
        && FileIO.exists(dir + "/" + item.name + "/SHA256SUMS")
      {
        folders.append(item.name)
      }
    }
    guard !folders.isEmpty else {
      throw .notFound(
        DatasetNotFound(
          dataset: "any dataset", root: DataRoot(path: dir),
          searched: knownFolders.map { dir + "/" + $0 + "/" } + [dir + "/*/SHA256SUMS"]))
    }
    for folder in folders {
      results += verifyFolder(
        dir + "/" + folder, name: folder, prefix: folder + "/", progress: progress)
    }
    // Datasets with published checksums that are not there at all: one line each.
    for folder in ["mnist", "fashion-mnist", "nmnist"] where !folders.contains(folder) {
      let files = expectations(forFolder: folder).map(\.name).joined(separator: ", ")
      results.append(
        Result(
          path: folder + "/", status: .missing, detail: "folder not present (expected \(files))"))
    }
    return results
  }

  static func isDatasetFolder(_ dir: String, name: String) -> Bool {
    if !expectations(forFolder: name).isEmpty || knownFolders.contains(name) { return true }
    if FileIO.exists(dir + "/SHA256SUMS") { return true }
    return mnist.contains { FileIO.exists(dir + "/" + $0.name) }
  }

  static func verifyFolder(_ dir: String, name: String, prefix: String, progress: (String) -> Void)
    -> [Result]
  {
    var results: [Result] = []
    var expected = expectations(forFolder: name)
    if expected.isEmpty && mnist.contains(where: { FileIO.exists(dir + "/" + $0.name) }) {
      expected = mnist
    }
    let sums = dir + "/SHA256SUMS"
    let listed = FileIO.exists(sums) ? (try? FileIO.read(sums)).map(parseSums) ?? [] : []
    for e in expected {
      progress(prefix + e.name)
      results.append(check(e, in: dir, prefix: prefix, listed: listed))
    }
    if FileIO.exists(sums) {
      progress(prefix + "SHA256SUMS")
      results += checkSums(dir, prefix: prefix, listed: listed)
    }
    return results
  }

  /// `(hash, path)` pairs of a `sha256sum`-style list; `./` prefixes are dropped.
  static func parseSums(_ bytes: [UInt8]) -> [(hash: String, path: String)] {
    String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line in
      let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
      guard parts.count == 2, parts[0].count == 64 else { return nil }
      var path = parts[1].trimmingPrefix(while: { $0 == " " || $0 == "*" })
      if path.hasPrefix("./") { path = path.dropFirst(2) }
      return (String(parts[0]).lowercased(), String(path))
    }
  }

  static func check(
    _ e: Expected, in dir: String, prefix: String, listed: [(hash: String, path: String)]
  ) -> Result {
    let path = dir + "/" + e.name
    let shown = prefix + e.name
    guard FileIO.exists(path) else {
      // An uncompressed copy is checked by its contents alone.
      let plain = String(e.name.dropLast(3))
      if e.name.hasSuffix(".gz") && FileIO.exists(dir + "/" + plain) {
        return checkContents(e, path: dir + "/" + plain, shown: prefix + plain, archive: nil)
      }
      return Result(path: shown, status: .missing, detail: "not found (published MD5 \(e.md5))")
    }
    let source: ByteSource
    do {
      source = try ByteSource(mapping: path)
    } catch {
      return Result(path: shown, status: .corrupt, detail: "unreadable: \(error.reason)")
    }
    let md5 = hexString(MD5.hash(source.bytes))
    if md5 == e.md5 {
      return Result(path: shown, status: .ok, detail: "MD5 \(md5) matches the published checksum")
    }
    return checkContents(e, path: path, shown: shown, archive: (md5, source))
  }

  /// Checks what can be checked without a published checksum of the decoded data.
  static func checkContents(
    _ e: Expected, path: String, shown: String, archive: (md5: String, source: ByteSource)?
  )
    -> Result
  {
    let archiveNote =
      archive.map {
        "archive MD5 \($0.md5) differs from the published \(e.md5) (a re-compressed or modified copy); "
      }
      ?? "uncompressed copy (the published MD5 \(e.md5) is of the .gz archive); "
    let noProof =
      "no published checksum of the uncompressed data exists to prove it equals the original"
    if e.name.hasSuffix(".zip") {
      // A ZIP: open it and check every member's CRC-32.
      do {
        let zip = try ZIPArchive(path: path)
        var members = 0
        for entry in zip.entries where !entry.isDirectory {
          do {
            _ = try zip.extract(entry)
          } catch {
            return Result(path: shown, status: .corrupt, detail: archiveNote + error.description)
          }
          members += 1
        }
        return Result(
          path: shown, status: .contentsChecked,
          detail: archiveNote + "all \(members) members inflate and match their CRC-32; " + noProof)
      } catch {
        return Result(path: shown, status: .corrupt, detail: archiveNote + error.description)
      }
    }
    do {
      let array = try IDXArray.read(path)
      if let shape = e.shape, array.shape != shape || array.dataType != .uint8 {
        return Result(
          path: shown, status: .corrupt,
          detail: archiveNote
            + "contents are IDX \(array.dataType.name) \(array.shape), expected ubyte \(shape)")
      }
      var facts = "contents decode (gzip CRC-32 and length ok) as IDX ubyte \(array.shape)"
      if array.shape.count == 1 {
        guard array.payload.allSatisfy({ $0 < 10 }) else {
          return Result(
            path: shown, status: .corrupt, detail: archiveNote + "a label is 10 or more")
        }
        if let counts = e.labelCounts {
          var histogram = [Int](repeating: 0, count: 10)
          for label in array.payload { histogram[Int(label)] += 1 }
          guard histogram == counts else {
            return Result(
              path: shown, status: .corrupt,
              detail: archiveNote + "label counts \(histogram) differ from the published \(counts)")
          }
          facts += " with the published class counts (\(counts[0]) per class)"
        }
      }
      return Result(
        path: shown, status: .contentsChecked, detail: archiveNote + facts + "; " + noProof)
    } catch {
      return Result(path: shown, status: .corrupt, detail: archiveNote + error.description)
    }
  }

  /// Checks every file listed in `SHA256SUMS`; one result for the list, plus one per file
  /// that is missing or does not match.
  static func checkSums(_ dir: String, prefix: String, listed: [(hash: String, path: String)])
    -> [Result]
  {
    guard !listed.isEmpty else {
      return [
        Result(
          path: prefix + "SHA256SUMS", status: .corrupt, detail: "no 'hash  path' lines in the list"
        )
      ]
    }
    var results: [Result] = []
    var matched = 0
    for (hash, file) in listed {
      let path = dir + "/" + file
      guard let source = try? ByteSource(mapping: path) else {
        results.append(
          Result(
            path: prefix + file, status: .missing, detail: "listed in SHA256SUMS but not found"))
        continue
      }
      let actual = hexString(SHA256.hash(source.bytes))
      if actual == hash {
        matched += 1
      } else {
        results.append(
          Result(
            path: prefix + file, status: .corrupt,
            detail: "SHA-256 \(actual) differs from SHA256SUMS (\(hash))"))
      }
    }
    let anyCorrupt = results.contains { $0.status == .corrupt }
    let summary = Result(
      path: prefix + "SHA256SUMS",
      status: matched == listed.count ? .ok : anyCorrupt ? .corrupt : .missing,
      detail: "\(matched) of \(listed.count) listed files match their SHA-256")
    return [summary] + results
  }
}
