import SNN

/// `snn bench gemm`: speed of the dense backend's SGEMM, and of the spike kernels against
/// it.
struct BenchGEMMCommand: Command {
  static let help = CommandHelp(
    name: "bench gemm",
    abstract: "Measure SGEMM in GFLOP/s, or the spike kernels against SGEMM.",
    usage: [
      "bench gemm [--m M] [--n N] [--k K] [--trans-a] [--trans-b] [--threads T] [--repeat R] [--json]",
      "bench gemm --sweep [--threads T] [--repeat R] [--json]",
      "bench gemm --spikes DENSITY [--m M] [--n N] [--k K] [--threads T] [--json]",
      "bench gemm --spikes DENSITY --sweep [--m M] [--n N] [--k K] [--threads T] [--json]",
    ],
    discussion: """
      Times C = op(A)·op(B) (row-major, beta = 0) with GEMM.sgemm after warm-up runs and \
      reports the median and the best of the timed samples as GFLOP/s = 2·m·n·k / seconds. \
      Operands are seeded uniform values in [-1, 1). The machine may be shared: quote the \
      median, and compare figures measured in the same session.

      --sweep times a fixed list of shapes instead: squares from 64 to 1024 and the shapes \
      of the training code (linear layers at batch 128, conv layers as im2col products, and \
      their gradients), each with one thread and with --threads.

      --spikes DENSITY draws a {0, 1} spike matrix S (m×k, each entry 1 with probability \
      DENSITY) and compares SpikeGEMM.multiply (C = S·W) with GEMM.sgemm on the same \
      operands, and SpikeGEMM.accumulateTransposed (G += Sᵀ·D) with GEMM.sgemm(transA:). \
      With --sweep it runs the densities 0.005 to 1 and prints the measured crossover, \
      the density below which the spike kernel is faster.
      """,
    options: [
      OptionHelp("--m", value: "M", help: "Rows of op(A) and C.", default: "512"),
      OptionHelp("--n", value: "N", help: "Columns of op(B) and C.", default: "512"),
      OptionHelp("--k", value: "K", help: "Columns of op(A), rows of op(B).", default: "512"),
      .flag("--trans-a", help: "Use A transposed (A stored k×m)."),
      .flag("--trans-b", help: "Use B transposed (B stored n×k)."),
      OptionHelp(
        "--threads", value: "T", help: "Threads for the kernels.", default: "all cores"),
      OptionHelp(
        "--repeat", value: "R", help: "Timed samples (the median and best are reported).",
        default: "10"),
      OptionHelp("--warmup", value: "W", help: "Untimed runs before the samples.", default: "2"),
      .flag("--sweep", help: "Time a list of shapes (or, with --spikes, of densities)."),
      OptionHelp(
        "--spikes", value: "DENSITY",
        help: "Compare the spike kernels with SGEMM at this fraction of active inputs (0...1)."),
      OptionHelp("--seed", value: "S", help: "Seed of the operands.", default: "1"),
      .flag("--json", help: "Print the results as JSON on standard output."),
    ],
    examples: [
      "snn bench gemm --m 512 --n 512 --k 512 --threads 1",
      "snn bench gemm --m 128 --n 800 --k 784 --trans-b --threads 2 --repeat 20 --json",
      "snn bench gemm --sweep --threads 2",
      "snn bench gemm --spikes 0.05 --m 128 --n 800 --k 784",
      "snn bench gemm --spikes 0.1 --sweep --m 128 --n 800 --k 784 --threads 1",
    ])

  var m: Int, n: Int, k: Int
  var transA: Bool, transB: Bool
  var threads: Int
  var timer: BenchmarkTimer
  var sweep: Bool
  var spikes: Double?
  var seed: UInt64
  var json: Bool

  init(parsing arguments: inout ArgumentParser) throws {
    m = try arguments.int("--m", default: 512, in: 1...1_000_000)
    n = try arguments.int("--n", default: 512, in: 1...1_000_000)
    k = try arguments.int("--k", default: 512, in: 1...1_000_000)
    transA = try arguments.flag("--trans-a")
    transB = try arguments.flag("--trans-b")
    threads = try arguments.int("--threads", default: Parallel.defaultThreads, in: 1...1024)
    let samples = try arguments.int("--repeat", default: 10, in: 1...100_000)
    let warmup = try arguments.int("--warmup", default: 2, in: 0...100_000)
    timer = BenchmarkTimer(warmup: warmup, samples: samples)
    sweep = try arguments.flag("--sweep")
    spikes = try arguments.optionalDouble("--spikes", in: 0...1)
    seed = UInt64(try arguments.int("--seed", default: 1, in: 0...Int.max))
    json = try arguments.flag("--json")
    let elements = [m * k, k * n, m * n].max()!
    if elements > 1 << 28 {
      throw CommandLineError.invalidValue(
        option: "--m/--n/--k", value: "\(m)×\(n)×\(k)",
        expected: "matrices of at most 2^28 elements (1 GiB) each")
    }
  }

  func run(in context: CommandContext) throws {
    if let density = spikes {
      runSpikes(density: density, context: context)
    } else if sweep {
      runSweep(context: context)
    } else {
      let row = measureGEMM(
        Shape(label: "", m: m, n: n, k: k, transA: transA, transB: transB), threads: threads)
      if json {
        context.printJSON(row.json)
      } else {
        context.print(
          "sgemm m=\(m) n=\(n) k=\(k) transA=\(transA) transB=\(transB) threads=\(threads)")
        context.print(
          "median \(Format.seconds(row.timing.median))  \(Format.fixed(row.gflops, digits: 1)) "
            + "GFLOP/s   best \(Format.seconds(row.timing.best))  "
            + "\(Format.fixed(row.gflopsBest, digits: 1)) GFLOP/s   "
            + "(\(timer.samples) samples × \(row.timing.callsPerSample) calls, "
            + "\(timer.warmup) warm-up)")
      }
    }
  }

  // MARK: SGEMM

  struct Shape {
    var label: String
    var m: Int, n: Int, k: Int
    var transA = false, transB = false
  }

  struct GEMMRow {
    var shape: Shape
    var threads: Int
    var timing: BenchmarkTimer.Result

    var flops: Double { 2 * Double(shape.m) * Double(shape.n) * Double(shape.k) }
    var gflops: Double { flops / timing.median / 1e9 }
    var gflopsBest: Double { flops / timing.best / 1e9 }

    var json: JSONValue {
      var fields: [(key: String, value: JSONValue)] = []
      if !shape.label.isEmpty { fields.append(("shape", JSONValue(shape.label))) }
      fields += [
        ("m", JSONValue(shape.m)), ("n", JSONValue(shape.n)), ("k", JSONValue(shape.k)),
        ("trans_a", JSONValue(shape.transA)), ("trans_b", JSONValue(shape.transB)),
        ("threads", JSONValue(threads)), ("samples", JSONValue(timing.seconds.count)),
        ("calls_per_sample", JSONValue(timing.callsPerSample)),
        ("seconds_median", JSONValue(timing.median)), ("seconds_best", JSONValue(timing.best)),
        ("gflops", JSONValue(gflops)), ("gflops_best", JSONValue(gflopsBest)),
      ]
      return .object(fields)
    }
  }

  func measureGEMM(_ shape: Shape, threads: Int) -> GEMMRow {
    let lda = shape.transA ? shape.m : shape.k
    let ldb = shape.transB ? shape.k : shape.n
    let a = Self.randomValues(shape.m * shape.k, seed: seed)
    let b = Self.randomValues(shape.k * shape.n, seed: seed &+ 1)
    var c = [Float](repeating: 0, count: shape.m * shape.n)
    let timing = a.withUnsafeBufferPointer { a in
      b.withUnsafeBufferPointer { b in
        c.withUnsafeMutableBufferPointer { c in
          timer.measure {
            GEMM.sgemm(
              transA: shape.transA, transB: shape.transB, m: shape.m, n: shape.n, k: shape.k,
              a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, c: c.baseAddress!,
              ldc: shape.n, threads: threads)
          }
        }
      }
    }
    return GEMMRow(shape: shape, threads: threads, timing: timing)
  }

  /// The shapes of `--sweep`.
  static let sweepShapes: [Shape] = [
    Shape(label: "square 64", m: 64, n: 64, k: 64),
    Shape(label: "square 128", m: 128, n: 128, k: 128),
    Shape(label: "square 256", m: 256, n: 256, k: 256),
    Shape(label: "square 512", m: 512, n: 512, k: 512),
    Shape(label: "square 1024", m: 1024, n: 1024, k: 1024),
    // 784-800-10 MLP over T·B = 8·128 rows, W stored [in, out] as in `Linear`.
    Shape(label: "mlp fc1 fwd", m: 1024, n: 800, k: 784),
    Shape(label: "mlp fc1 dW", m: 784, n: 800, k: 1024, transA: true),
    Shape(label: "mlp fc2 fwd", m: 1024, n: 10, k: 800),
    Shape(label: "mlp fc2 dW", m: 800, n: 10, k: 1024, transA: true),
    Shape(label: "mlp fc2 dX", m: 1024, n: 800, k: 10, transB: true),
    // W stored [out, in]: x·Wᵀ, wide and narrow.
    Shape(label: "x·Wᵀ 784-800 b128", m: 128, n: 800, k: 784, transB: true),
    Shape(label: "x·Wᵀ 800-10 b128", m: 128, n: 10, k: 800, transB: true),
    Shape(label: "conv fwd 15C5 b16", m: 15, n: 576 * 16, k: 25),
    Shape(label: "conv fwd 40C5 b16", m: 40, n: 64 * 16, k: 375),
    Shape(label: "conv dW 40C5 b16", m: 40, n: 375, k: 64 * 16, transB: true),
    Shape(label: "conv dX 40C5 b16", m: 375, n: 64 * 16, k: 40, transA: true),
  ]

  func runSweep(context: CommandContext) {
    let threadCounts = threads > 1 ? [1, threads] : [1]
    var rows: [GEMMRow] = []
    if !json {
      context.print(
        "sgemm GFLOP/s (median and best of \(timer.samples) samples; op: N plain, T transposed)")
      context.print(
        pad("shape", 22) + pad("m", 6) + pad("n", 6) + pad("k", 6) + pad("op", 5)
          + threadCounts.map { pad("\($0)T median", 11) + pad("\($0)T best", 9) }.joined())
    }
    for shape in Self.sweepShapes {
      var line =
        pad(shape.label, 22) + pad("\(shape.m)", 6) + pad("\(shape.n)", 6) + pad("\(shape.k)", 6)
        + pad((shape.transA ? "T" : "N") + (shape.transB ? "T" : "N"), 5)
      for t in threadCounts {
        let row = measureGEMM(shape, threads: t)
        rows.append(row)
        line +=
          pad(Format.fixed(row.gflops, digits: 1), 11)
          + pad(Format.fixed(row.gflopsBest, digits: 1), 9)
      }
      if !json { context.print(line) }
    }
    if json { context.printJSON(.array(rows.map(\.json))) }
  }

  // MARK: Spike kernels

  struct SpikeRow {
    var density: Double
    var measuredDensity: Double
    var multiplySpike: BenchmarkTimer.Result
    var multiplyGEMM: BenchmarkTimer.Result
    var accumulateSpike: BenchmarkTimer.Result
    var accumulateGEMM: BenchmarkTimer.Result
    /// Largest |spike − sgemm| over both outputs (a sanity check of the comparison).
    var maxDifference: Float

    var multiplySpeedup: Double { multiplyGEMM.median / multiplySpike.median }
    var accumulateSpeedup: Double { accumulateGEMM.median / accumulateSpike.median }

    var json: JSONValue {
      .object([
        ("density", JSONValue(density)), ("measured_density", JSONValue(measuredDensity)),
        (
          "multiply",
          .object([
            ("spike_seconds_median", JSONValue(multiplySpike.median)),
            ("spike_seconds_best", JSONValue(multiplySpike.best)),
            ("sgemm_seconds_median", JSONValue(multiplyGEMM.median)),
            ("sgemm_seconds_best", JSONValue(multiplyGEMM.best)),
            ("speedup", JSONValue(multiplySpeedup)),
          ])
        ),
        (
          "accumulate_transposed",
          .object([
            ("spike_seconds_median", JSONValue(accumulateSpike.median)),
            ("spike_seconds_best", JSONValue(accumulateSpike.best)),
            ("sgemm_seconds_median", JSONValue(accumulateGEMM.median)),
            ("sgemm_seconds_best", JSONValue(accumulateGEMM.best)),
            ("speedup", JSONValue(accumulateSpeedup)),
          ])
        ),
        ("max_difference", JSONValue(maxDifference)),
      ])
    }
  }

  func measureSpikes(density: Double) -> SpikeRow {
    var rng = Xoshiro256StarStar(seed: seed)
    let s = (0..<(m * k)).map { _ -> Float in rng.nextUnitDouble() < density ? 1 : 0 }
    let w = Self.randomValues(k * n, seed: seed &+ 1)
    let d = Self.randomValues(m * n, seed: seed &+ 2)
    var c1 = [Float](repeating: 0, count: m * n), c2 = c1
    var g1 = [Float](repeating: 0, count: k * n), g2 = g1
    let (m, n, k, threads, timer) = (self.m, self.n, self.k, self.threads, self.timer)
    var row = s.withUnsafeBufferPointer { s in
      w.withUnsafeBufferPointer { w in
        d.withUnsafeBufferPointer { d in
          let s = s.baseAddress!, w = w.baseAddress!, d = d.baseAddress!
          let multiplySpike = c1.withUnsafeMutableBufferPointer { c in
            timer.measure {
              SpikeGEMM.multiply(
                spikes: s, lds: k, m: m, k: k, weights: w, ldw: n, n: n, c: c.baseAddress!,
                ldc: n, threads: threads)
            }
          }
          let multiplyGEMM = c2.withUnsafeMutableBufferPointer { c in
            timer.measure {
              GEMM.sgemm(
                transA: false, transB: false, m: m, n: n, k: k, a: s, lda: k, b: w, ldb: n,
                c: c.baseAddress!, ldc: n, threads: threads)
            }
          }
          // Both accumulate into G on every call; reset to zero is part of neither timing,
          // so the compared outputs are those of one call each, computed afterwards.
          let accumulateSpike = g1.withUnsafeMutableBufferPointer { g in
            timer.measure {
              SpikeGEMM.accumulateTransposed(
                spikes: s, lds: k, m: m, k: k, gradient: d, ldd: n, n: n, into: g.baseAddress!,
                ldg: n, threads: threads)
            }
          }
          let accumulateGEMM = g2.withUnsafeMutableBufferPointer { g in
            timer.measure {
              GEMM.sgemm(
                transA: true, transB: false, m: k, n: n, k: m, a: s, lda: k, b: d, ldb: n,
                beta: 1, c: g.baseAddress!, ldc: n, threads: threads)
            }
          }
          return SpikeRow(
            density: density, measuredDensity: SpikeGEMM.density(s, count: m * k),
            multiplySpike: multiplySpike, multiplyGEMM: multiplyGEMM,
            accumulateSpike: accumulateSpike, accumulateGEMM: accumulateGEMM, maxDifference: 0)
        }
      }
    }
    // One clean call of each accumulate for the sanity check.
    for i in g1.indices {
      g1[i] = 0
      g2[i] = 0
    }
    SpikeGEMM.accumulateTransposed(
      spikes: s, lds: k, m: m, k: k, gradient: d, ldd: n, n: n, into: &g1, ldg: n,
      threads: threads)
    GEMM.sgemm(
      transA: true, transB: false, m: k, n: n, k: m, a: s, lda: k, b: d, ldb: n, beta: 1,
      c: &g2, ldc: n, threads: threads)
    var difference: Float = 0
    for i in c1.indices { difference = max(difference, abs(c1[i] - c2[i])) }
    for i in g1.indices { difference = max(difference, abs(g1[i] - g2[i])) }
    row.maxDifference = difference
    return row
  }

  static let sweepDensities = [0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1.0]

  func runSpikes(density: Double, context: CommandContext) {
    let densities = sweep ? Self.sweepDensities : [density]
    if !json {
      context.print("spike kernels vs sgemm: m=\(m) n=\(n) k=\(k) threads=\(threads)")
      context.print(
        pad("density", 9) + pad("S·W spike", 11) + pad("S·W sgemm", 11) + pad("speedup", 9)
          + pad("SᵀD spike", 11) + pad("SᵀD sgemm", 11) + pad("speedup", 9) + "max |diff|")
    }
    var rows: [SpikeRow] = []
    for d in densities {
      let row = measureSpikes(density: d)
      rows.append(row)
      if !json {
        context.print(
          pad(Format.fixed(row.measuredDensity, digits: 3), 9)
            + pad(Format.seconds(row.multiplySpike.median), 11)
            + pad(Format.seconds(row.multiplyGEMM.median), 11)
            + pad(Format.fixed(row.multiplySpeedup, digits: 2) + "x", 9)
            + pad(Format.seconds(row.accumulateSpike.median), 11)
            + pad(Format.seconds(row.accumulateGEMM.median), 11)
            + pad(Format.fixed(row.accumulateSpeedup, digits: 2) + "x", 9)
            + "\(row.maxDifference)")
      }
    }
    let multiplyCrossover = Self.crossover(rows.map { ($0.measuredDensity, $0.multiplySpeedup) })
    let accumulateCrossover = Self.crossover(
      rows.map { ($0.measuredDensity, $0.accumulateSpeedup) })
    if json {
      var fields: [(key: String, value: JSONValue)] = [
        ("m", JSONValue(m)), ("n", JSONValue(n)), ("k", JSONValue(k)),
        ("threads", JSONValue(threads)), ("rows", .array(rows.map(\.json))),
      ]
      if sweep {
        let optional = { (x: Double?) -> JSONValue in x.map { JSONValue($0) } ?? .null }
        fields.append((key: "multiply_crossover", value: optional(multiplyCrossover)))
        fields.append(
          (key: "accumulate_transposed_crossover", value: optional(accumulateCrossover)))
      }
      context.printJSON(.object(fields))
    } else if sweep {
      context.print(
        "crossover (spike kernel faster below): S·W "
          + (multiplyCrossover.map { Format.fixed($0, digits: 3) } ?? "none in range")
          + ", SᵀD "
          + (accumulateCrossover.map { Format.fixed($0, digits: 3) } ?? "none in range")
          + "  (current SpikeGEMM.crossoverDensity = \(SpikeGEMM.crossoverDensity))")
    }
  }

  /// The density where the speedup first falls below 1, interpolated linearly between
  /// the two measured densities around it (log speedup), or nil if it never does, or the
  /// lowest density if the spike kernel is never faster.
  static func crossover(_ points: [(density: Double, speedup: Double)]) -> Double? {
    guard let first = points.first else { return nil }
    if first.speedup < 1 { return first.density }
    for (p, q) in zip(points, points.dropFirst()) where p.speedup >= 1 && q.speedup < 1 {
      let lp = Math.log(p.speedup), lq = Math.log(q.speedup)
      return p.density + (q.density - p.density) * lp / (lp - lq)
    }
    return nil
  }

  static func randomValues(_ count: Int, seed: UInt64) -> [Float] {
    var rng = Xoshiro256StarStar(seed: seed)
    return (0..<count).map { _ in rng.nextUnitFloat() * 2 - 1 }
  }
}

/// `text` left-aligned in a column of `width` characters (at least one space after).
private func pad(_ text: String, _ width: Int) -> String {
  text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}
