import SNN

/// `snn bench conv`: speed of the batched convolution kernels (im2col + SGEMM).
struct BenchConvCommand: Command {
  static let help = CommandHelp(
    name: "bench conv",
    abstract: "Measure the batched convolution kernels (forward, input and weight gradients).",
    usage: [
      "bench conv [--channels C] [--size HxW] [--out O] [--kernel K] [--stride S] [--padding P] [--batch B] [--threads T] [--repeat R] [--json]",
      "bench conv --spikes DENSITY [--sweep] [geometry options] [--threads T] [--json]",
    ],
    discussion: """
      Times Conv2DKernels.forward, backwardData and backwardWeights on a batch of seeded \
      random images in channels-first layout, after warm-up runs, and reports the median \
      and best of the timed samples. GFLOP/s counts 2·B·O·outH·outW·C·K² per pass (the \
      multiply-adds of the convolution itself; padding positions count as work). Im2col \
      alone is timed too, as a share of the forward pass.

      --spikes DENSITY draws {0, 1} spike images (each entry 1 with probability DENSITY) \
      and compares the event-driven kernels forwardSpikes and backwardWeightsSpikes with the \
      im2col + SGEMM kernels on the same input; with --sweep it runs densities 0.005 to 1 \
      and prints the crossover density below which the spike kernels are faster.

      The defaults are the second convolution of the MNIST network 15C5-AP2-40C5-AP2 \
      (15 channels of 12×12 in, 40 out, 5×5 kernel) at batch 64.
      """,
    options: [
      OptionHelp("--channels", value: "C", help: "Input channels.", default: "15"),
      OptionHelp(
        "--size", value: "HxW", help: "Input height and width, e.g. 28x28.", default: "12x12"),
      OptionHelp("--out", value: "O", help: "Output channels.", default: "40"),
      OptionHelp("--kernel", value: "K", help: "Square kernel size.", default: "5"),
      OptionHelp("--stride", value: "S", help: "Stride.", default: "1"),
      OptionHelp("--padding", value: "P", help: "Zero padding on each side.", default: "0"),
      OptionHelp(
        "--batch", value: "B", help: "Images per call (T·B for time-major tensors).", default: "64"),
      OptionHelp("--threads", value: "T", help: "Threads for the kernels.", default: "all cores"),
      OptionHelp("--repeat", value: "R", help: "Timed samples.", default: "10"),
      OptionHelp("--warmup", value: "W", help: "Untimed runs before the samples.", default: "2"),
      OptionHelp("--seed", value: "S", help: "Seed of the operands.", default: "1"),
      OptionHelp(
        "--spikes", value: "DENSITY",
        help: "Compare the spike kernels with im2col + SGEMM at this input density (0...1)."),
      .flag("--sweep", help: "With --spikes: run a list of densities and report the crossover."),
      .flag("--json", help: "Print the results as JSON on standard output."),
    ],
    examples: [
      "snn bench conv --spikes 0.1 --sweep --threads 1",
      "snn bench conv",
      "snn bench conv --channels 1 --size 28x28 --out 15 --kernel 5 --batch 64 --threads 2",
      "snn bench conv --channels 2 --size 34x34 --out 32 --kernel 3 --padding 1 --json",
    ])

  var geometry: ConvGeometry
  var outChannels: Int
  var batch: Int
  var threads: Int
  var timer: BenchmarkTimer
  var seed: UInt64
  var spikes: Double?
  var sweep: Bool
  var json: Bool

  init(parsing arguments: inout ArgumentParser) throws {
    let channels = try arguments.int("--channels", default: 15, in: 1...65_536)
    let sizeText = try arguments.string("--size", default: "12x12")
    let parts = sizeText.split(separator: "x").compactMap { Int($0) }
    guard parts.count == 2, parts.allSatisfy({ $0 >= 1 && $0 <= 65_536 }) else {
      throw CommandLineError.invalidValue(
        option: "--size", value: sizeText, expected: "HxW with positive integers, e.g. 28x28")
    }
    outChannels = try arguments.int("--out", default: 40, in: 1...65_536)
    let kernel = try arguments.int("--kernel", default: 5, in: 1...1024)
    let stride = try arguments.int("--stride", default: 1, in: 1...1024)
    let padding = try arguments.int("--padding", default: 0, in: 0...1024)
    batch = try arguments.int("--batch", default: 64, in: 1...1_000_000)
    threads = try arguments.int("--threads", default: Parallel.defaultThreads, in: 1...1024)
    timer = BenchmarkTimer(
      warmup: try arguments.int("--warmup", default: 2, in: 0...100_000),
      samples: try arguments.int("--repeat", default: 10, in: 1...100_000))
    seed = UInt64(try arguments.int("--seed", default: 1, in: 0...Int.max))
    spikes = try arguments.optionalDouble("--spikes", in: 0...1)
    sweep = try arguments.flag("--sweep")
    json = try arguments.flag("--json")
    if sweep && spikes == nil {
      throw CommandLineError.missingOption(option: "--spikes", expected: "a density with --sweep")
    }
    guard parts[0] + 2 * padding >= kernel && parts[1] + 2 * padding >= kernel else {
      throw CommandLineError.invalidValue(
        option: "--kernel", value: "\(kernel)",
        expected:
          "at most the padded input size \(parts[0] + 2 * padding)x\(parts[1] + 2 * padding)")
    }
    geometry = ConvGeometry(
      inChannels: channels, height: parts[0], width: parts[1], kernelHeight: kernel,
      kernelWidth: kernel, stride: stride, padding: padding)
    let largest = max(batch * geometry.inputSize, batch * outChannels * geometry.outputPixels)
    if largest > 1 << 28 {
      throw CommandLineError.invalidValue(
        option: "--batch", value: "\(batch)", expected: "tensors of at most 2^28 elements")
    }
  }

  func run(in context: CommandContext) throws {
    if let density = spikes {
      runSpikes(density: density, context: context)
      return
    }
    let g = geometry
    let (batch, outChannels, threads) = (self.batch, self.outChannels, self.threads)
    let input = BenchGEMMCommand.randomValues(batch * g.inputSize, seed: seed)
    let weights = BenchGEMMCommand.randomValues(outChannels * g.patchSize, seed: seed &+ 1)
    let bias = BenchGEMMCommand.randomValues(outChannels, seed: seed &+ 2)
    let outCount = batch * outChannels * g.outputPixels
    let dy = BenchGEMMCommand.randomValues(outCount, seed: seed &+ 3)
    var output = [Float](repeating: 0, count: outCount)
    var dx = [Float](repeating: 0, count: batch * g.inputSize)
    var dw = [Float](repeating: 0, count: outChannels * g.patchSize)
    var db = [Float](repeating: 0, count: outChannels)
    var columns = [Float](repeating: 0, count: g.patchSize * g.outputPixels)
    let timer = self.timer
    let forward = timer.measure {
      Conv2DKernels.forward(
        g, batch: batch, input: input, weights: weights, bias: bias, outChannels: outChannels,
        output: &output, threads: threads)
    }
    let data = timer.measure {
      Conv2DKernels.backwardData(
        g, batch: batch, outputGradient: dy, weights: weights, outChannels: outChannels,
        inputGradient: &dx, threads: threads)
    }
    let weightsTiming = timer.measure {
      Conv2DKernels.backwardWeights(
        g, batch: batch, input: input, outputGradient: dy, outChannels: outChannels,
        weightGradient: &dw, biasGradient: &db, threads: threads)
    }
    // Unfolding alone, one thread, all images (the forward pass splits it over threads).
    let unfold = input.withUnsafeBufferPointer { x in
      columns.withUnsafeMutableBufferPointer { c in
        timer.measure {
          for b in 0..<batch {
            Im2Col.unfold(g, image: x.baseAddress! + b * g.inputSize, columns: c.baseAddress!)
          }
        }
      }
    }
    let flops =
      2 * Double(batch) * Double(outChannels) * Double(g.outputPixels) * Double(g.patchSize)
    let rows: [(String, BenchmarkTimer.Result)] = [
      ("forward", forward), ("backward_data", data), ("backward_weights", weightsTiming),
    ]
    if json {
      var fields: [(key: String, value: JSONValue)] = [
        ("channels", JSONValue(g.inChannels)), ("height", JSONValue(g.height)),
        ("width", JSONValue(g.width)), ("out_channels", JSONValue(outChannels)),
        ("kernel", JSONValue(g.kernelHeight)), ("stride", JSONValue(g.stride)),
        ("padding", JSONValue(g.padding)), ("batch", JSONValue(batch)),
        ("threads", JSONValue(threads)),
      ]
      for (name, r) in rows {
        fields.append(
          (
            name,
            .object([
              ("seconds_median", JSONValue(r.median)), ("seconds_best", JSONValue(r.best)),
              ("gflops", JSONValue(flops / r.median / 1e9)),
              ("gflops_best", JSONValue(flops / r.best / 1e9)),
            ])
          ))
      }
      fields.append(("unfold_one_thread_seconds_median", JSONValue(unfold.median)))
      context.printJSON(.object(fields))
    } else {
      context.print(
        "conv \(g.inChannels)×\(g.height)×\(g.width) → \(outChannels)×\(g.outHeight)×\(g.outWidth), "
          + "kernel \(g.kernelHeight), stride \(g.stride), padding \(g.padding), batch \(batch), "
          + "threads \(threads)")
      for (name, r) in rows {
        context.print(
          name.padding(18) + "median " + Format.seconds(r.median).padding(11)
            + Format.fixed(flops / r.median / 1e9, digits: 1).padding(7) + "GFLOP/s   best "
            + Format.seconds(r.best).padding(11) + Format.fixed(flops / r.best / 1e9, digits: 1)
            + " GFLOP/s")
      }
      context.print(
        "im2col alone (1 thread): median " + Format.seconds(unfold.median) + " ("
          + Format.fixed(100 * unfold.median / forward.median, digits: 1)
          + "% of the forward pass's time)")
    }
  }
}

extension BenchConvCommand {
  struct SpikeRow {
    var density: Double, measuredDensity: Double
    var forwardDense: BenchmarkTimer.Result, forwardSpikes: BenchmarkTimer.Result
    var weightsDense: BenchmarkTimer.Result, weightsSpikes: BenchmarkTimer.Result
    var maxDifference: Float

    var forwardSpeedup: Double { forwardDense.median / forwardSpikes.median }
    var weightsSpeedup: Double { weightsDense.median / weightsSpikes.median }

    var json: JSONValue {
      .object([
        ("density", JSONValue(density)), ("measured_density", JSONValue(measuredDensity)),
        ("forward_dense_seconds_median", JSONValue(forwardDense.median)),
        ("forward_spikes_seconds_median", JSONValue(forwardSpikes.median)),
        ("forward_speedup", JSONValue(forwardSpeedup)),
        ("weights_dense_seconds_median", JSONValue(weightsDense.median)),
        ("weights_spikes_seconds_median", JSONValue(weightsSpikes.median)),
        ("weights_speedup", JSONValue(weightsSpeedup)),
        ("max_difference", JSONValue(maxDifference)),
      ])
    }
  }

  func measureSpikes(density: Double) -> SpikeRow {
    let g = geometry
    let (batch, outChannels, threads, timer) = (
      self.batch, self.outChannels, self.threads, self.timer
    )
    var rng = Xoshiro256StarStar(seed: seed)
    let input = (0..<(batch * g.inputSize)).map { _ -> Float in
      rng.nextUnitDouble() < density ? 1 : 0
    }
    let weights = BenchGEMMCommand.randomValues(outChannels * g.patchSize, seed: seed &+ 1)
    let bias = BenchGEMMCommand.randomValues(outChannels, seed: seed &+ 2)
    let outCount = batch * outChannels * g.outputPixels
    let dy = BenchGEMMCommand.randomValues(outCount, seed: seed &+ 3)
    var y1 = [Float](repeating: 0, count: outCount), y2 = y1
    var dw1 = [Float](repeating: 0, count: outChannels * g.patchSize), dw2 = dw1
    let forwardDense = timer.measure {
      Conv2DKernels.forward(
        g, batch: batch, input: input, weights: weights, bias: bias, outChannels: outChannels,
        output: &y1, threads: threads)
    }
    let forwardSpikes = timer.measure {
      Conv2DKernels.forwardSpikes(
        g, batch: batch, input: input, weights: weights, bias: bias, outChannels: outChannels,
        output: &y2, threads: threads)
    }
    let weightsDense = timer.measure {
      Conv2DKernels.backwardWeights(
        g, batch: batch, input: input, outputGradient: dy, outChannels: outChannels,
        weightGradient: &dw1, biasGradient: nil, threads: threads)
    }
    let weightsSpikes = timer.measure {
      Conv2DKernels.backwardWeightsSpikes(
        g, batch: batch, input: input, outputGradient: dy, outChannels: outChannels,
        weightGradient: &dw2, biasGradient: nil, threads: threads)
    }
    // Sanity check of the comparison: one clean weight-gradient call each.
    for i in dw1.indices {
      dw1[i] = 0
      dw2[i] = 0
    }
    Conv2DKernels.backwardWeights(
      g, batch: batch, input: input, outputGradient: dy, outChannels: outChannels,
      weightGradient: &dw1, biasGradient: nil, threads: threads)
    Conv2DKernels.backwardWeightsSpikes(
      g, batch: batch, input: input, outputGradient: dy, outChannels: outChannels,
      weightGradient: &dw2, biasGradient: nil, threads: threads)
    var difference: Float = 0
    for i in y1.indices { difference = max(difference, abs(y1[i] - y2[i])) }
    for i in dw1.indices { difference = max(difference, abs(dw1[i] - dw2[i])) }
    return SpikeRow(
      density: density, measuredDensity: SpikeGEMM.density(input, count: input.count),
      forwardDense: forwardDense, forwardSpikes: forwardSpikes, weightsDense: weightsDense,
      weightsSpikes: weightsSpikes, maxDifference: difference)
  }

  func runSpikes(density: Double, context: CommandContext) {
    let g = geometry
    let densities = sweep ? BenchGEMMCommand.sweepDensities : [density]
    if !json {
      context.print(
        "spike conv vs im2col+sgemm: \(g.inChannels)×\(g.height)×\(g.width) → \(outChannels)"
          + "×\(g.outHeight)×\(g.outWidth), kernel \(g.kernelHeight), stride \(g.stride), "
          + "padding \(g.padding), batch \(batch), threads \(threads)")
      context.print(
        "density".padding(9) + "fwd dense".padding(11) + "fwd spike".padding(11)
          + "speedup".padding(9) + "dW dense".padding(11) + "dW spike".padding(11)
          + "speedup".padding(9) + "max |diff|")
    }
    var rows: [SpikeRow] = []
    for d in densities {
      let row = measureSpikes(density: d)
      rows.append(row)
      if !json {
        context.print(
          Format.fixed(row.measuredDensity, digits: 3).padding(9)
            + Format.seconds(row.forwardDense.median).padding(11)
            + Format.seconds(row.forwardSpikes.median).padding(11)
            + (Format.fixed(row.forwardSpeedup, digits: 2) + "x").padding(9)
            + Format.seconds(row.weightsDense.median).padding(11)
            + Format.seconds(row.weightsSpikes.median).padding(11)
            + (Format.fixed(row.weightsSpeedup, digits: 2) + "x").padding(9)
            + "\(row.maxDifference)")
      }
    }
    let forwardCrossover = BenchGEMMCommand.crossover(
      rows.map { ($0.measuredDensity, $0.forwardSpeedup) })
    let weightsCrossover = BenchGEMMCommand.crossover(
      rows.map { ($0.measuredDensity, $0.weightsSpeedup) })
    if json {
      let optional = { (x: Double?) -> JSONValue in x.map { JSONValue($0) } ?? .null }
      var fields: [(key: String, value: JSONValue)] = [
        ("channels", JSONValue(g.inChannels)), ("height", JSONValue(g.height)),
        ("width", JSONValue(g.width)), ("out_channels", JSONValue(outChannels)),
        ("kernel", JSONValue(g.kernelHeight)), ("stride", JSONValue(g.stride)),
        ("padding", JSONValue(g.padding)), ("batch", JSONValue(batch)),
        ("threads", JSONValue(threads)), ("rows", .array(rows.map(\.json))),
      ]
      if sweep {
        fields.append((key: "forward_crossover", value: optional(forwardCrossover)))
        fields.append((key: "weights_crossover", value: optional(weightsCrossover)))
      }
      context.printJSON(.object(fields))
    } else if sweep {
      context.print(
        "crossover (spike kernel faster below): forward "
          + (forwardCrossover.map { Format.fixed($0, digits: 3) } ?? "none in range")
          + ", weight gradient "
          + (weightsCrossover.map { Format.fixed($0, digits: 3) } ?? "none in range")
          + "  (current Conv2DKernels.spikeCrossoverDensity = "
          + "\(Conv2DKernels.spikeCrossoverDensity))")
    }
  }
}
