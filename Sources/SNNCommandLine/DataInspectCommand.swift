import SNN

/// `snn data inspect PATH`: what a dataset file or folder holds.
struct DataInspectCommand: Command {
  static let help = CommandHelp(
    name: "data inspect", abstract: "Describe a dataset file or folder (IDX, MNIST, N-MNIST).",
    usage: ["data inspect PATH [--sample K --svg FILE] [--split train|test] [--json]"],
    discussion: """
      PATH may be an IDX file (.gz or not), an MNIST or Fashion-MNIST folder, an N-MNIST \
      .bin file, an N-MNIST split folder (Train/ with label folders 0-9), an N-MNIST \
      dataset folder (holding Train/ and Test/ or Train.zip and Test.zip), or an N-MNIST \
      archive (.zip). Prints sample counts, the label histogram and, for events, events per \
      sample and time span.

      --sample K shows sample K; with --svg FILE it is drawn: an image, or for events the \
      accumulated event frame next to a raster of every event.
      """,
    options: [
      OptionHelp("--sample", value: "K", help: "Show sample K (0-based)."),
      OptionHelp(
        "--svg", value: "FILE", help: "Draw the sample (default sample 0) into an SVG file."),
      OptionHelp(
        "--split", value: "NAME",
        help: "The split to sample from in a dataset folder: train or test.", default: "train"),
      .flag("--first-saccade", help: "N-MNIST: keep only events before 100 ms."),
      .flag("--json", help: "Print the description as JSON."),
    ],
    examples: [
      "snn data inspect ~/.snn/data/mnist",
      "snn data inspect ~/.snn/data/mnist/t10k-images-idx3-ubyte.gz --sample 0 --svg digit.svg",
      "snn data inspect ~/.snn/data/nmnist-small/Train --sample 3 --svg events.svg",
    ])

  var path: String
  var sample: Int?
  var svg: String?
  var split: DatasetSplit
  var firstSaccade: Bool
  var json: Bool

  init(parsing arguments: inout ArgumentParser) throws {
    sample = try arguments.optionalInt("--sample", in: 0...Int.max)
    svg = try arguments.string("--svg", expected: "an output file")
    split =
      try arguments.choice("--split", ["train", "test"], default: "train") == "train"
      ? .train : .test
    firstSaccade = try arguments.flag("--first-saccade")
    json = try arguments.flag("--json")
    path = DataRoot.trimmingTrailingSlashesForCLI(try arguments.requiredPositional("PATH"))
  }

  func run(in context: CommandContext) throws {
    var report = Report(path: path)
    if FileIO.isDirectory(path) {
      try inspectFolder(&report)
    } else {
      guard FileIO.exists(path) else {
        throw FileError(path: path, operation: .open, code: 2, reason: "No such file or directory")
      }
      try inspectFile(&report)
    }
    if json {
      context.printJSON(report.json)
    } else {
      for line in report.lines { context.print(line) }
    }
  }

  // MARK: What the path holds

  func inspectFile(_ report: inout Report) throws {
    if path.hasSuffix(".zip") || startsWithZIPSignature(path) {
      let set = try NMNIST.load(archive: path, firstSaccadeOnly: firstSaccade)
      report.kind = "N-MNIST archive"
      try describe(events: set, into: &report)
    } else if path.hasSuffix(".bin") {
      let parent = path.split(separator: "/").dropLast().last.map(String.init) ?? ""
      let label = parent.count == 1 ? UInt8(parent).flatMap { $0 < 10 ? $0 : nil } : nil
      let sample = try NMNIST.readSample(
        path: path, label: label ?? 0, firstSaccadeOnly: firstSaccade)
      report.kind = "N-MNIST sample"
      var set = EventDataset(name: path, width: sample.width, height: sample.height)
      set.append(sample, source: path)
      report.add(
        "label", label.map { .number(Double($0)) } ?? .null,
        text: label.map { "label: \($0) (from the folder name)" }
          ?? "label: unknown (the parent folder is not a digit)")
      try describe(events: set, into: &report, single: true)
    } else {
      try describe(idx: path, into: &report)
    }
  }

  func inspectFolder(_ report: inout Report) throws {
    let items = try listNames(path)
    let mnistNames = DatasetSplit.allCases.flatMap {
      [MNIST.fileNames($0).images, MNIST.fileNames($0).labels]
    }
    if items.contains(where: { name in mnistNames.contains { name == $0 || name == $0 + ".gz" } }) {
      report.kind = "MNIST-format folder"
      try describeMNISTFolder(into: &report)
    } else if items.contains(where: {
      $0.count == 1 && $0.first!.isNumber && FileIO.isDirectory(path + "/" + $0)
    }) {
      report.kind = "N-MNIST split folder"
      try describe(
        events: try NMNIST.load(directory: path, firstSaccadeOnly: firstSaccade), into: &report)
    } else {
      let splits = DatasetSplit.allCases.filter { s in
        FileIO.isDirectory(path + "/" + NMNIST.splitName(s))
          || FileIO.exists(path + "/" + NMNIST.splitName(s) + ".zip")
      }
      guard !splits.isEmpty else {
        throw DataFormatError(
          path: path, offset: nil, kind: .badLayout,
          detail:
            "not a dataset folder: expected MNIST IDX files, label folders 0-9, or Train/Test folders or .zip archives"
        )
      }
      report.kind = "N-MNIST dataset folder"
      let parentPath = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
        .joined(separator: "/")
      let parent = DataRoot(
        path: parentPath.isEmpty ? (path.hasPrefix("/") ? "/" : ".") : parentPath)
      let folder = String(path.split(separator: "/").last ?? "")
      var splitObjects: [(key: String, value: JSONValue)] = []
      for s in splits {
        var sub = Report(path: path + "/" + NMNIST.splitName(s))
        let set = try NMNIST.load(
          split: s, root: parent, firstSaccadeOnly: firstSaccade, folder: folder)
        try describe(events: set, into: &sub, sampleAllowed: s == split)
        report.lines.append("[\(s.rawValue)]")
        report.lines += sub.lines.map { "  " + $0 }
        splitObjects.append((s.rawValue, sub.json))
      }
      report.fields.append(("splits", .object(splitObjects)))
    }
  }

  // MARK: Descriptions

  func describe(idx path: String, into report: inout Report) throws {
    let raw = try FileIO.read(path)
    let compressed = GZip.hasMagic(raw)
    let bytes = compressed ? try GZip.decompress(raw, path: path) : raw
    let decodedSize = bytes.count
    let array = try IDXArray.parse(consume bytes, path: path)
    report.kind = "IDX file"
    report.add(
      "format", .string("IDX \(array.dataType.name) \(array.shape)"),
      text: "format: IDX \(array.dataType.name) \(array.shape)"
        + (compressed
          ? " (gzip, \(Format.grouped(raw.count)) -> \(Format.grouped(decodedSize)) bytes)"
          : " (\(Format.grouped(raw.count)) bytes)"))
    report.fields.append(("shape", .array(array.shape.map { .number(Double($0)) })))
    report.fields.append(("gzip", .bool(compressed)))
    if array.dataType == .uint8 && array.shape.count == 3 {
      let set = try ImageDataset(
        name: path, count: array.shape[0], rows: array.shape[1], cols: array.shape[2],
        pixels: array.payload,
        labels: [UInt8](repeating: 0, count: array.shape[0]))
      report.add(
        "samples", .number(Double(set.count)),
        text: "samples: \(Format.grouped(set.count)) images of \(set.rows)x\(set.cols)")
      let stats = set.pixelStatistics()
      report.add(
        "pixels", ["mean": .number(stats.mean), "std": .number(stats.std)],
        text:
          "pixels (scaled to [0, 1]): mean \(Format.fixed(stats.mean, digits: 4)), std \(Format.fixed(stats.std, digits: 4))"
      )
      try sampleImage(set, labelled: false, into: &report)
    } else if array.dataType == .uint8 && array.shape.count == 1
      && array.payload.allSatisfy({ $0 < 10 })
    {
      var histogram = [Int](repeating: 0, count: 10)
      for label in array.payload { histogram[Int(label)] += 1 }
      report.add(
        "samples", .number(Double(array.shape[0])),
        text: "samples: \(Format.grouped(array.shape[0])) labels")
      addHistogram(histogram, into: &report)
      if sample != nil || svg != nil {
        throw CommandLineError.invalidValue(
          option: sample != nil ? "--sample" : "--svg", value: "\(sample ?? 0)",
          expected: "an image or event file (this is a label file)")
      }
    } else {
      let values = array.elementCount <= 10_000_000 ? array.doubleValues() : []
      if let lo = values.min(), let hi = values.max() {
        report.add("range", [.number(lo), .number(hi)], text: "values: min \(lo), max \(hi)")
      }
    }
  }

  func describeMNISTFolder(into report: inout Report) throws {
    var splitObjects: [(key: String, value: JSONValue)] = []
    for s in DatasetSplit.allCases {
      let names = MNIST.fileNames(s)
      guard let images = firstExisting([names.images + ".gz", names.images]),
        let labels = firstExisting([names.labels + ".gz", names.labels])
      else { continue }
      let set = try MNIST.load(imagesPath: images, labelsPath: labels, name: s.rawValue)
      var sub = Report(path: path)
      sub.add(
        "samples", .number(Double(set.count)),
        text: "samples: \(Format.grouped(set.count)) images of \(set.rows)x\(set.cols)")
      addHistogram(set.labelHistogram(), into: &sub)
      let stats = set.pixelStatistics()
      sub.add(
        "pixels", ["mean": .number(stats.mean), "std": .number(stats.std)],
        text:
          "pixels (scaled to [0, 1]): mean \(Format.fixed(stats.mean, digits: 4)), std \(Format.fixed(stats.std, digits: 4))"
      )
      if s == split { try sampleImage(set, labelled: true, into: &sub) }
      report.lines.append("[\(s.rawValue)]")
      report.lines += sub.lines.map { "  " + $0 }
      splitObjects.append((s.rawValue, sub.json))
    }
    guard !splitObjects.isEmpty else {
      throw DataFormatError(
        path: path, offset: nil, kind: .badLayout,
        detail: "an MNIST folder needs both the images and the labels file of a split")
    }
    report.fields.append(("splits", .object(splitObjects)))
  }

  func describe(
    events set: EventDataset, into report: inout Report, single: Bool = false,
    sampleAllowed: Bool = true
  ) throws {
    if !single {
      report.add(
        "samples", .number(Double(set.count)),
        text: "samples: \(Format.grouped(set.count)) (\(set.width)x\(set.height) sensor)")
      addHistogram(set.labelHistogram(), into: &report)
      let per = set.eventsPerSample()
      report.add(
        "events_per_sample",
        [
          "mean": .number(per.mean), "min": .number(Double(per.min)),
          "max": .number(Double(per.max)),
        ],
        text:
          "events per sample: mean \(Format.fixed(per.mean, digits: 1)), min \(Format.grouped(per.min)), max \(Format.grouped(per.max))"
      )
      let d = set.durations()
      report.add(
        "time_span_ms",
        [
          "mean": .number(d.mean / 1000), "min": .number(Double(d.min) / 1000),
          "max": .number(Double(d.max) / 1000),
        ],
        text:
          "time span per sample: mean \(Format.fixed(d.mean / 1000, digits: 1)) ms, min \(Format.fixed(Double(d.min) / 1000, digits: 1)) ms, max \(Format.fixed(Double(d.max) / 1000, digits: 1)) ms"
      )
      report.add(
        "events", .number(Double(set.eventCount)), text: "events: \(Format.grouped(set.eventCount))"
      )
    }
    guard sampleAllowed, single || sample != nil || svg != nil else { return }
    let k = single ? 0 : (sample ?? 0)
    guard k < set.count else {
      throw CommandLineError.invalidValue(
        option: "--sample", value: "\(k)", expected: "a sample index below \(set.count)")
    }
    let s = set.sample(k)
    let xs = s.x.map(Int.init), ys = s.y.map(Int.init)
    var fields: [(key: String, value: JSONValue)] = [
      ("index", .number(Double(k))), ("source", .string(set.sources[k])),
      ("label", .number(Double(s.label))),
      ("events", .number(Double(s.count))), ("on", .number(Double(s.onCount))),
      ("first_us", .number(Double(s.timestamp.first ?? 0))),
      ("last_us", .number(Double(s.timestamp.last ?? 0))),
    ]
    let prefix = single ? "" : "sample \(k) (\(set.sources[k]), label \(s.label)): "
    report.lines.append(
      prefix
        + "events: \(Format.grouped(s.count)) (\(Format.grouped(s.onCount)) ON, \(Format.grouped(s.count - s.onCount)) OFF)"
    )
    report.lines.append(
      "  time: \(Format.fixed(Double(s.timestamp.first ?? 0) / 1000, digits: 3)) to \(Format.fixed(Double(s.timestamp.last ?? 0) / 1000, digits: 3)) ms (span \(Format.fixed(Double(s.duration) / 1000, digits: 1)) ms)"
    )
    if let x0 = xs.min(), let x1 = xs.max(), let y0 = ys.min(), let y1 = ys.max() {
      report.lines.append("  x: \(x0)-\(x1), y: \(y0)-\(y1)")
      fields.append(("x_range", [.number(Double(x0)), .number(Double(x1))]))
      fields.append(("y_range", [.number(Double(y0)), .number(Double(y1))]))
    }
    if let svg {
      try FileIO.writeAtomically(
        DatasetPlot.events(
          s, title: "\(set.sources[k].isEmpty ? set.name : set.sources[k]), label \(s.label)"),
        to: svg)
      report.lines.append("  wrote \(svg)")
      fields.append(("svg", .string(svg)))
    }
    report.fields.append(("sample", .object(fields)))
  }

  func sampleImage(_ set: ImageDataset, labelled: Bool, into report: inout Report) throws {
    guard sample != nil || svg != nil else { return }
    let k = sample ?? 0
    guard k < set.count else {
      throw CommandLineError.invalidValue(
        option: "--sample", value: "\(k)", expected: "a sample index below \(set.count)")
    }
    let pixels = set.image(k)
    let ink = pixels.filter { $0 > 0 }.count
    var fields: [(key: String, value: JSONValue)] = [
      ("index", .number(Double(k))), ("nonzero_pixels", .number(Double(ink))),
    ]
    var line = "sample \(k): \(ink) non-zero pixels of \(set.pixelsPerImage)"
    if labelled {
      line += ", label \(set.labels[k])"
      fields.append(("label", .number(Double(set.labels[k]))))
    }
    report.lines.append(line)
    if let svg {
      let title =
        labelled
        ? "\(set.name) #\(k), label \(set.labels[k])"
        : "\(path.split(separator: "/").last ?? "") #\(k)"
      try FileIO.writeAtomically(DatasetPlot.image(set, index: k, title: title), to: svg)
      report.lines.append("wrote \(svg)")
      fields.append(("svg", .string(svg)))
    }
    report.fields.append(("sample", .object(fields)))
  }

  func addHistogram(_ histogram: [Int], into report: inout Report) {
    let text = histogram.enumerated().map { "\($0.offset): \(Format.grouped($0.element))" }.joined(
      separator: "  ")
    report.add("labels", .array(histogram.map { .number(Double($0)) }), text: "labels: " + text)
  }

  // MARK: Helpers

  func firstExisting(_ names: [String]) -> String? {
    names.map { path + "/" + $0 }.first(where: FileIO.exists)
  }

  func listNames(_ dir: String) throws -> [String] {
    try DirectoryListing.names(dir)
  }

  func startsWithZIPSignature(_ file: String) -> Bool {
    guard let bytes = try? FileIO.read(file), bytes.count >= 4 else { return false }
    return bytes[0] == 0x50 && bytes[1] == 0x4B && bytes[2] == 3 && bytes[3] == 4
  }

  /// Text lines and JSON fields, built side by side.
  struct Report {
    var path: String
    var kind = ""
    var lines: [String] = []
    var fields: [(key: String, value: JSONValue)] = []

    init(path: String) { self.path = path }

    mutating func add(_ key: String, _ value: JSONValue, text: String) {
      fields.append((key, value))
      lines.append(text)
    }

    var json: JSONValue {
      .object([("path", .string(path)), ("kind", .string(kind))] + fields)
    }
  }
}

extension DataRoot {
  /// `path` without trailing slashes ("/" stays "/").
  static func trimmingTrailingSlashesForCLI(_ path: String) -> String {
    var p = path
    while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
    return p
  }
}
