import SNN

/// `snn bench conv`: speed of the batched convolution kernels (im2col + SGEMM).
struct BenchConvCommand: Command {
  static let help = CommandHelp(
    name: "bench conv",
    abstract: "Measure the batched convolution kernels (forward, input and weight gradients).",
    usage: [
      "bench conv [--channels C] [--size HxW] [--out O] [--kernel K] [--stride S] [--padding P] [--batch B] [--threads T] [--repeat R] [--json]"
    ],
    discussion: """
      Times Conv2DKernels.forward, backwardData and backwardWeights on a batch of seeded \
      random images in channels-first layout, after warm-up runs, and reports the median \
      and best of the timed samples. GFLOP/s counts 2·B·O·outH·outW·C·K² per pass (the \
      multiply-adds of the convolution itself; padding positions count as work). Im2col \
      alone is timed too, as a share of the forward pass.

      The defaults are the second convolution of the MNIST network 15C5-AP2-40C5-AP2 \
      (15 channels of 12×12 in, 40 out, 5×5 kernel) at batch 64.
      """,
    options: [
      OptionHelp("--channels", value: "C", help: "Input channels.", default: "15"),
      OptionHelp("--size", value: "HxW", help: "Input height and width, e.g. 28x28.", default: "12x12"),
      OptionHelp("--out", value: "O", help: "Output channels.", default: "40"),
      OptionHelp("--kernel", value: "K", help: "Square kernel size.", default: "5"),
      OptionHelp("--stride", value: "S", help: "Stride.", default: "1"),
      OptionHelp("--padding", value: "P", help: "Zero padding on each side.", default: "0"),
      OptionHelp("--batch", value: "B", help: "Images per call (T·B for time-major tensors).", default: "64"),
      OptionHelp("--threads", value: "T", help: "Threads for the kernels.", default: "all cores"),
      OptionHelp("--repeat", value: "R", help: "Timed samples.", default: "10"),
      OptionHelp("--warmup", value: "W", help: "Untimed runs before the samples.", default: "2"),
      OptionHelp("--seed", value: "S", help: "Seed of the operands.", default: "1"),
      .flag("--json", help: "Print the results as JSON on standard output."),
    ],
    examples: [
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
    json = try arguments.flag("--json")
    guard parts[0] + 2 * padding >= kernel && parts[1] + 2 * padding >= kernel else {
      throw CommandLineError.invalidValue(
        option: "--kernel", value: "\(kernel)",
        expected: "at most the padded input size \(parts[0] + 2 * padding)x\(parts[1] + 2 * padding)")
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

extension String {
  /// Left-aligned in `width` columns, at least one space after.
  fileprivate func padding(_ width: Int) -> String {
    count >= width ? self + " " : self + String(repeating: " ", count: width - count)
  }
}
