import SNN

/// `snn data bench`: throughput of the dataset readers on the real files.
struct DataBenchCommand: Command {
  static let help = CommandHelp(
    name: "data bench",
    abstract: "Time the dataset readers (inflate, CRC-32, hashes, loaders, cache).",
    discussion: """
      Runs each reader several times on the files under the data folder and prints the \
      median, minimum and maximum time and the throughput. The machine may be shared: \
      compare figures measured in the same run.
      """,
    options: [
      OptionHelp(
        "--data", value: "DIR", help: "The data folder (else SNN_DATA, else ~/.snn/data)."),
      OptionHelp("--repeat", value: "N", help: "Runs per measurement.", default: "7"),
      OptionHelp(
        "--only", value: "LIST",
        help: "Comma-separated subset: inflate, crc, md5, sha256, xxh64, mnist, nmnist, cache."),
      .flag("--json", help: "Print the results as JSON."),
    ],
    examples: [
      "snn data bench --data /work/shared/data", "snn data bench --only inflate --repeat 11",
    ])

  static let allParts = ["inflate", "crc", "md5", "sha256", "xxh64", "mnist", "nmnist", "cache"]

  var dataFolder: String?
  var repeats: Int
  var parts: [String]
  var json: Bool

  init(parsing arguments: inout ArgumentParser) throws {
    dataFolder = try arguments.string("--data", expected: "a folder")
    repeats = try arguments.int("--repeat", default: 7, in: 1...1000)
    if let only = try arguments.string(
      "--only", expected: "a list of " + Self.allParts.joined(separator: ", "))
    {
      parts = only.split(separator: ",").map(String.init)
      for p in parts where !Self.allParts.contains(p) {
        throw CommandLineError.invalidValue(
          option: "--only", value: only,
          expected: "names from " + Self.allParts.joined(separator: ", "))
      }
    } else {
      parts = Self.allParts
    }
    json = try arguments.flag("--json")
  }

  struct Row {
    var name: String
    var bytes: Int  // per run (0 = no throughput)
    var seconds: [Double]
  }

  func run(in context: CommandContext) throws {
    let root = DataRoot.resolve(explicit: dataFolder, environment: context.environment)
    var rows: [Row] = []
    func measure(_ name: String, bytes: Int, _ body: () throws -> Void) rethrows {
      var times: [Double] = []
      for _ in 0..<repeats {
        let watch = Stopwatch()
        try body()
        times.append(watch.elapsedSeconds)
      }
      rows.append(Row(name: name, bytes: bytes, seconds: times))
      if !json { context.print(format(rows.last!)) }
    }
    let imagesPath = root.appending("mnist/train-images-idx3-ubyte.gz")
    let compressed = try FileIO.read(imagesPath)
    let decompressed = try GZip.decompress(compressed, path: imagesPath)
    if !json {
      context.print("data folder: \(root)")
      context.print("runs per measurement: \(repeats) (median [min, max])")
    }
    if parts.contains("inflate") {
      try measure("gunzip mnist/train-images (MB out)", bytes: decompressed.count) {
        let out = try GZip.decompress(compressed, path: imagesPath)
        precondition(out.count == decompressed.count)
      }
    }
    if parts.contains("crc") {
      measure("CRC-32", bytes: decompressed.count) { _ = CRC32.checksum(decompressed) }
    }
    if parts.contains("md5") {
      measure("MD5", bytes: decompressed.count) { _ = MD5.hash(decompressed) }
    }
    if parts.contains("sha256") {
      measure("SHA-256", bytes: decompressed.count) { _ = SHA256.hash(decompressed) }
    }
    if parts.contains("xxh64") {
      measure("XXH64", bytes: decompressed.count) { _ = XXH64.hash(decompressed) }
    }
    if parts.contains("mnist") {
      try measure("MNIST train load (gz -> ImageDataset)", bytes: 0) {
        _ = try MNIST.load(.mnist, split: .train, root: root)
      }
    }
    if parts.contains("nmnist") {
      try measure("N-MNIST small train load (1,000 files)", bytes: 0) {
        _ = try NMNIST.load(split: .train, root: root, folder: "nmnist-small")
      }
    }
    if parts.contains("cache") {
      let cache = DatasetCache(
        directory: DatasetCache.defaultDirectory(environment: context.environment) + "/bench")
      // Warm the entries (first load builds them), then time hits.
      let mnistOutcome = try MNIST.load(.mnist, split: .train, root: root, cache: cache).outcome
      if !json { context.print("cache: \(cache.directory) (MNIST warm-up: \(mnistOutcome))") }
      try measure("MNIST train load from cache", bytes: 0) {
        let r = try MNIST.load(.mnist, split: .train, root: root, cache: cache)
        precondition(r.outcome == .hit)
      }
      if FileIO.isDirectory(root.appending("nmnist-small/Train")) {
        _ = try NMNIST.load(split: .train, root: root, folder: "nmnist-small", cache: cache)
        try measure("N-MNIST small train load from cache", bytes: 0) {
          let r = try NMNIST.load(split: .train, root: root, folder: "nmnist-small", cache: cache)
          precondition(r.outcome == .hit)
        }
      }
    }
    let peak = ResourceUsage.peakResidentBytes()
    if !json { context.print("peak resident memory: \(Format.fixed(Double(peak) / 1e6, digits: 1)) MB") }
    if json {
      var list: [JSONValue] = []
      for r in rows {
        let med = DataCommands.median(r.seconds)
        var o: JSONValue = [
          "name": .string(r.name), "median_s": .number(med), "min_s": .number(r.seconds.min()!),
          "max_s": .number(r.seconds.max()!),
        ]
        if r.bytes > 0 { o.set("mb_per_s", .number(Double(r.bytes) / med / 1e6)) }
        list.append(o)
      }
      context.printJSON([
        "data": .string(root.path), "repeat": .number(Double(repeats)), "results": .array(list),
      ])
    }
  }

  func format(_ r: Row) -> String {
    let med = DataCommands.median(r.seconds)
    var line =
      r.name.padding(48) + Format.seconds(med) + " [" + Format.seconds(r.seconds.min()!) + ", "
      + Format.seconds(r.seconds.max()!) + "]"
    if r.bytes > 0 { line += "  " + Format.fixed(Double(r.bytes) / med / 1e6, digits: 0) + " MB/s" }
    return line
  }
}

extension String {
  func padding(_ width: Int) -> String {
    count >= width ? self + " " : self + String(repeating: " ", count: width - count)
  }
}
