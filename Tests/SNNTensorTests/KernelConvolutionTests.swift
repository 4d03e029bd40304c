import SNNBase
import Testing

@testable import SNNTensor

@Suite struct KernelConvolutionTests {
  static let geometries: [ConvGeometry] = [
    ConvGeometry(inChannels: 1, height: 1, width: 1, kernelHeight: 1, kernelWidth: 1),
    ConvGeometry(inChannels: 2, height: 7, width: 5, kernelHeight: 3, kernelWidth: 3),
    ConvGeometry(inChannels: 3, height: 8, width: 9, kernelHeight: 3, kernelWidth: 2, padding: 1),
    ConvGeometry(
      inChannels: 2, height: 11, width: 10, kernelHeight: 5, kernelWidth: 5, stride: 2,
      padding: 2),
    ConvGeometry(
      inChannels: 1, height: 6, width: 6, kernelHeight: 3, kernelWidth: 3, stride: 3, padding: 4),
    ConvGeometry(inChannels: 4, height: 12, width: 12, kernelHeight: 5, kernelWidth: 5),
    ConvGeometry(inChannels: 1, height: 4, width: 3, kernelHeight: 4, kernelWidth: 3, padding: 2),
    // Implicit-GEMM geometries (stride 1, no padding, rows of 8k pixels): the MNIST first
    // layer and a wide one.
    ConvGeometry(inChannels: 1, height: 28, width: 28, kernelHeight: 5, kernelWidth: 5),
    ConvGeometry(inChannels: 2, height: 12, width: 20, kernelHeight: 5, kernelWidth: 5),
  ]

  /// The input value behind column-matrix entry (row, pixel), straight from the definition.
  static func patchValue(
    _ g: ConvGeometry, _ image: [Float], row: Int, pixel: Int
  ) -> Float {
    let kx = row % g.kernelWidth, ky = (row / g.kernelWidth) % g.kernelHeight
    let c = row / (g.kernelWidth * g.kernelHeight)
    let ox = pixel % g.outWidth, oy = pixel / g.outWidth
    let iy = oy * g.stride - g.padding + ky, ix = ox * g.stride - g.padding + kx
    guard iy >= 0 && iy < g.height && ix >= 0 && ix < g.width else { return 0 }
    return image[(c * g.height + iy) * g.width + ix]
  }

  @Test(arguments: geometries)
  func unfoldMatchesTheDefinition(_ g: ConvGeometry) {
    let image = KernelTestSupport.randomMatrix(g.inputSize, seed: 3)
    let extra = 5
    let stride = g.outputPixels + extra
    var columns = [Float](repeating: .nan, count: g.patchSize * stride)
    Im2Col.unfold(g, image: image, columns: &columns, rowStride: stride)
    for row in 0..<g.patchSize {
      for pixel in 0..<stride {
        let value = columns[row * stride + pixel]
        if pixel >= g.outputPixels {
          #expect(value.isNaN, "gap written at row \(row)")
        } else {
          #expect(
            value == Self.patchValue(g, image, row: row, pixel: pixel), "row \(row) pixel \(pixel)")
        }
      }
    }
    // The compact overload is the same with rowStride = outputPixels.
    var compact = [Float](repeating: .nan, count: g.patchSize * g.outputPixels)
    Im2Col.unfold(g, image: image, columns: &compact)
    for row in 0..<g.patchSize {
      for pixel in 0..<g.outputPixels {
        #expect(compact[row * g.outputPixels + pixel] == columns[row * stride + pixel])
      }
    }
  }

  @Test(arguments: geometries)
  func foldAddingIsTheAdjointOfUnfold(_ g: ConvGeometry) {
    // fold adds each column entry to the input element it was copied from.
    let columns = KernelTestSupport.randomMatrix(g.patchSize * g.outputPixels, seed: 4)
    let start = KernelTestSupport.randomMatrix(g.inputSize, seed: 5)
    var image = start
    Im2Col.foldAdding(g, columns: columns, image: &image)
    var expected = start.map(Double.init)
    var indexImage = [Float](repeating: 0, count: g.inputSize)
    for i in indexImage.indices { indexImage[i] = Float(i + 1) }
    for row in 0..<g.patchSize {
      for pixel in 0..<g.outputPixels {
        let source = Self.patchValue(g, indexImage, row: row, pixel: pixel)
        if source != 0 {
          expected[Int(source) - 1] += Double(columns[row * g.outputPixels + pixel])
        }
      }
    }
    for i in image.indices {
      #expect(abs(Double(image[i]) - expected[i]) <= 1e-5, "element \(i)")
    }
  }

  /// Direct convolution from the definition (Double accumulation).
  static func directForward(
    _ g: ConvGeometry, batch: Int, input: [Float], weights: [Float], bias: [Float]?,
    outChannels: Int
  ) -> [Double] {
    var out = [Double](repeating: 0, count: batch * outChannels * g.outputPixels)
    for b in 0..<batch {
      for o in 0..<outChannels {
        for oy in 0..<g.outHeight {
          for ox in 0..<g.outWidth {
            var sum = Double(bias?[o] ?? 0)
            for c in 0..<g.inChannels {
              for ky in 0..<g.kernelHeight {
                for kx in 0..<g.kernelWidth {
                  let iy = oy * g.stride - g.padding + ky, ix = ox * g.stride - g.padding + kx
                  guard iy >= 0 && iy < g.height && ix >= 0 && ix < g.width else { continue }
                  let w = weights[
                    ((o * g.inChannels + c) * g.kernelHeight + ky) * g.kernelWidth + kx]
                  sum +=
                    Double(w) * Double(input[b * g.inputSize + (c * g.height + iy) * g.width + ix])
                }
              }
            }
            out[((b * outChannels + o) * g.outHeight + oy) * g.outWidth + ox] = sum
          }
        }
      }
    }
    return out
  }

  @Test(arguments: geometries)
  func forwardAndBackwardMatchDirectConvolution(_ g: ConvGeometry) {
    // One image takes the path without rearranging; four use the batched column matrix.
    for batch in [1, 4] { checkConvolution(g, batch: batch) }
  }

  func checkConvolution(_ g: ConvGeometry, batch: Int) {
    let outChannels = 3
    let input = KernelTestSupport.randomMatrix(batch * g.inputSize, seed: 7)
    let weights = KernelTestSupport.randomMatrix(outChannels * g.patchSize, seed: 8)
    let bias = KernelTestSupport.randomMatrix(outChannels, seed: 9)
    let outCount = batch * outChannels * g.outputPixels
    let dy = KernelTestSupport.randomMatrix(outCount, seed: 10)
    let tolerance = 1e-5 * Double(g.patchSize + 1)
    for threads in [1, 2] {
      var output = [Float](repeating: .nan, count: outCount)
      Conv2DKernels.forward(
        g, batch: batch, input: input, weights: weights, bias: bias, outChannels: outChannels,
        output: &output, threads: threads)
      let expected = Self.directForward(
        g, batch: batch, input: input, weights: weights, bias: bias, outChannels: outChannels)
      for i in output.indices {
        #expect(abs(Double(output[i]) - expected[i]) <= tolerance, "forward \(g) at \(i)")
      }

      // <dy, conv(x)> is linear in x and in w: the gradients are the coefficients. Check
      // them element by element against the direct definitions.
      var dx = [Float](repeating: .nan, count: batch * g.inputSize)
      Conv2DKernels.backwardData(
        g, batch: batch, outputGradient: dy, weights: weights, outChannels: outChannels,
        inputGradient: &dx, threads: threads)
      var dw = [Float](repeating: 0.5, count: outChannels * g.patchSize)
      var db: [Float] = [1, 2, 3]
      Conv2DKernels.backwardWeights(
        g, batch: batch, input: input, outputGradient: dy, outChannels: outChannels,
        weightGradient: &dw, biasGradient: &db, threads: threads)
      var expectedDx = [Double](repeating: 0, count: dx.count)
      var expectedDw = [Double](repeating: 0.5, count: dw.count)
      var expectedDb: [Double] = [1, 2, 3]
      for b in 0..<batch {
        for o in 0..<outChannels {
          for oy in 0..<g.outHeight {
            for ox in 0..<g.outWidth {
              let gy = Double(dy[((b * outChannels + o) * g.outHeight + oy) * g.outWidth + ox])
              expectedDb[o] += gy
              for c in 0..<g.inChannels {
                for ky in 0..<g.kernelHeight {
                  for kx in 0..<g.kernelWidth {
                    let iy = oy * g.stride - g.padding + ky, ix = ox * g.stride - g.padding + kx
                    guard iy >= 0 && iy < g.height && ix >= 0 && ix < g.width else { continue }
                    let wi = ((o * g.inChannels + c) * g.kernelHeight + ky) * g.kernelWidth + kx
                    let xi = b * g.inputSize + (c * g.height + iy) * g.width + ix
                    expectedDx[xi] += Double(weights[wi]) * gy
                    expectedDw[wi] += Double(input[xi]) * gy
                  }
                }
              }
            }
          }
        }
      }
      let wideTolerance = 1e-5 * Double(batch * g.outputPixels + 1)
      for i in dx.indices {
        #expect(abs(Double(dx[i]) - expectedDx[i]) <= tolerance, "dx \(g) at \(i)")
      }
      for i in dw.indices {
        #expect(abs(Double(dw[i]) - expectedDw[i]) <= wideTolerance, "dw \(g) at \(i)")
      }
      for i in db.indices {
        #expect(abs(Double(db[i]) - expectedDb[i]) <= wideTolerance, "db \(g) at \(i)")
      }
    }
  }

  @Test func largeBatchesAreProcessedInGroupsWithTheSameResult() {
    // 40C5 on 15×12×12 (the second conv of the MNIST network): 26,496 workspace Floats per
    // image, so a batch of 100 needs two groups.
    let g = ConvGeometry(inChannels: 15, height: 12, width: 12, kernelHeight: 5, kernelWidth: 5)
    let outChannels = 40, batch = 100
    #expect(
      Conv2DKernels.groupSize(
        batch: batch, floatsPerImage: (g.patchSize + outChannels) * g.outputPixels)
        < batch)
    let input = KernelTestSupport.randomSpikes(batch * g.inputSize, density: 0.2, seed: 1)
    let weights = KernelTestSupport.randomMatrix(outChannels * g.patchSize, seed: 2)
    var output = [Float](repeating: 0, count: batch * outChannels * g.outputPixels)
    Conv2DKernels.forward(
      g, batch: batch, input: input, weights: weights, bias: nil, outChannels: outChannels,
      output: &output, threads: 2)
    // Each image on its own (group of one) must give the same values up to rounding.
    for b in [0, 57, 99] {
      var single = [Float](repeating: 0, count: outChannels * g.outputPixels)
      input.withUnsafeBufferPointer { x in
        Conv2DKernels.forward(
          g, batch: 1, input: x.baseAddress! + b * g.inputSize, weights: weights, bias: nil,
          outChannels: outChannels, output: &single, threads: 1)
      }
      for i in single.indices {
        #expect(abs(single[i] - output[b * single.count + i]) <= 1e-4, "image \(b) at \(i)")
      }
    }
  }
}

extension KernelConvolutionTests {
  @Test func groupsSpreadOverThreadsGiveReproducibleResults() {
    // 40C5 on 15×12×12: groups of a few images, so two threads take groups of their own
    // (weight gradients summed per thread, then added in thread order).
    let g = ConvGeometry(inChannels: 15, height: 12, width: 12, kernelHeight: 5, kernelWidth: 5)
    let outChannels = 40, batch = 21
    let schedule = Conv2DKernels.Schedule(
      batch: batch, floatsPerImage: (g.patchSize + outChannels) * g.outputPixels, threads: 2)
    #expect(schedule.outer == 2 && schedule.groupCount > 2)
    let input = KernelTestSupport.randomMatrix(batch * g.inputSize, seed: 41)
    let weights = KernelTestSupport.randomMatrix(outChannels * g.patchSize, seed: 42)
    let dy = KernelTestSupport.randomMatrix(batch * outChannels * g.outputPixels, seed: 43)
    func run(threads: Int) -> (y: [Float], dx: [Float], dw: [Float], db: [Float]) {
      var y = [Float](repeating: 0, count: dy.count)
      var dx = [Float](repeating: 0, count: input.count)
      var dw = [Float](repeating: 0, count: weights.count)
      var db = [Float](repeating: 0, count: outChannels)
      Conv2DKernels.forward(
        g, batch: batch, input: input, weights: weights, bias: nil, outChannels: outChannels,
        output: &y, threads: threads)
      Conv2DKernels.backwardData(
        g, batch: batch, outputGradient: dy, weights: weights, outChannels: outChannels,
        inputGradient: &dx, threads: threads)
      Conv2DKernels.backwardWeights(
        g, batch: batch, input: input, outputGradient: dy, outChannels: outChannels,
        weightGradient: &dw, biasGradient: &db, threads: threads)
      return (y, dx, dw, db)
    }
    let one = run(threads: 1), two = run(threads: 2), again = run(threads: 2)
    // Forward and input gradient: each element is one dot product, whatever the threads.
    #expect(KernelTestSupport.bits(one.y) == KernelTestSupport.bits(two.y))
    #expect(KernelTestSupport.bits(one.dx) == KernelTestSupport.bits(two.dx))
    // Weight gradient: same value up to summation order, bit-identical run to run.
    #expect(KernelTestSupport.bits(two.dw) == KernelTestSupport.bits(again.dw))
    #expect(KernelTestSupport.bits(two.db) == KernelTestSupport.bits(again.db))
    for i in one.dw.indices {
      #expect(abs(one.dw[i] - two.dw[i]) <= 1e-5 * Float(batch * g.outputPixels), "dW[\(i)]")
    }
    for o in 0..<outChannels {
      #expect(abs(one.db[o] - two.db[o]) <= 1e-5 * Float(batch * g.outputPixels), "db[\(o)]")
    }
  }
}

@Suite struct KernelSpikeConvolutionTests {
  static let geometries: [ConvGeometry] =
    KernelConvolutionTests.geometries + [
      ConvGeometry(inChannels: 15, height: 12, width: 12, kernelHeight: 5, kernelWidth: 5),
      ConvGeometry(
        inChannels: 3, height: 13, width: 11, kernelHeight: 3, kernelWidth: 3, stride: 2,
        padding: 1),
    ]

  @Test(arguments: geometries)
  func spikeKernelsMatchTheDenseKernels(_ g: ConvGeometry) {
    // 3, 8, 13 and 70 output channels: one partial vector, one, several, and two strips.
    for (outChannels, density) in [(3, 0.3), (8, 0.05), (13, 1.0), (70, 0.2)] {
      let batch = 3
      var input = KernelTestSupport.randomSpikes(batch * g.inputSize, density: density, seed: 21)
      // Nonzero values count as 1.
      if let i = input.firstIndex(of: 1) { input[i] = 3 }
      let ones = input.map { $0 != 0 ? Float(1) : 0 }
      let weights = KernelTestSupport.randomMatrix(outChannels * g.patchSize, seed: 22)
      let bias = KernelTestSupport.randomMatrix(outChannels, seed: 23)
      let outCount = batch * outChannels * g.outputPixels
      let dy = KernelTestSupport.randomMatrix(outCount, seed: 24)
      for threads in [1, 2] {
        var dense = [Float](repeating: 0, count: outCount)
        var spiking = [Float](repeating: .nan, count: outCount)
        Conv2DKernels.forward(
          g, batch: batch, input: ones, weights: weights, bias: bias, outChannels: outChannels,
          output: &dense, threads: threads)
        Conv2DKernels.forwardSpikes(
          g, batch: batch, input: input, weights: weights, bias: bias, outChannels: outChannels,
          output: &spiking, threads: threads)
        for i in dense.indices {
          #expect(
            abs(dense[i] - spiking[i]) <= 2e-6 * Float(g.patchSize + 1),
            "forward \(g) O=\(outChannels) at \(i): \(spiking[i]) vs \(dense[i])")
        }
        var dwDense = [Float](repeating: 0.25, count: outChannels * g.patchSize),
          dwSpiking = dwDense
        var dbDense = [Float](repeating: 1, count: outChannels), dbSpiking = dbDense
        Conv2DKernels.backwardWeights(
          g, batch: batch, input: ones, outputGradient: dy, outChannels: outChannels,
          weightGradient: &dwDense, biasGradient: &dbDense, threads: threads)
        Conv2DKernels.backwardWeightsSpikes(
          g, batch: batch, input: input, outputGradient: dy, outChannels: outChannels,
          weightGradient: &dwSpiking, biasGradient: &dbSpiking, threads: threads)
        let tolerance = 2e-6 * Float(batch * g.outputPixels + 1)
        for i in dwDense.indices {
          #expect(abs(dwDense[i] - dwSpiking[i]) <= tolerance, "dW \(g) O=\(outChannels) at \(i)")
        }
        for i in dbDense.indices {
          #expect(abs(dbDense[i] - dbSpiking[i]) <= tolerance, "db \(g) at \(i)")
        }
      }
    }
  }

  @Test func spikeKernelsDoNotDependOnThreads() {
    let g = ConvGeometry(inChannels: 15, height: 12, width: 12, kernelHeight: 5, kernelWidth: 5)
    let outChannels = 40, batch = 7
    let input = KernelTestSupport.randomSpikes(batch * g.inputSize, density: 0.15, seed: 31)
    let weights = KernelTestSupport.randomMatrix(outChannels * g.patchSize, seed: 32)
    let dy = KernelTestSupport.randomMatrix(batch * outChannels * g.outputPixels, seed: 33)
    var outputs: [[UInt32]] = [], gradients: [[UInt32]] = []
    for threads in [1, 2, 3] {
      var y = [Float](repeating: 0, count: batch * outChannels * g.outputPixels)
      var dw = [Float](repeating: 0, count: outChannels * g.patchSize)
      Conv2DKernels.forwardSpikes(
        g, batch: batch, input: input, weights: weights, bias: nil, outChannels: outChannels,
        output: &y, threads: threads)
      Conv2DKernels.backwardWeightsSpikes(
        g, batch: batch, input: input, outputGradient: dy, outChannels: outChannels,
        weightGradient: &dw, biasGradient: nil, threads: threads)
      outputs.append(KernelTestSupport.bits(y))
      gradients.append(KernelTestSupport.bits(dw))
    }
    #expect(outputs.allSatisfy { $0 == outputs[0] })
    #expect(gradients.allSatisfy { $0 == gradients[0] })
  }
}

extension KernelConvolutionTests {
  @Test func implicitGeometriesAreRecognized() {
    #expect(
      Conv2DKernels.supportsImplicit(
        ConvGeometry(inChannels: 15, height: 12, width: 12, kernelHeight: 5, kernelWidth: 5)))
    #expect(
      Conv2DKernels.supportsImplicit(
        ConvGeometry(inChannels: 1, height: 28, width: 28, kernelHeight: 5, kernelWidth: 5)))
    // 7 pixels wide, stride 2, padding: the column-matrix path.
    #expect(
      !Conv2DKernels.supportsImplicit(
        ConvGeometry(inChannels: 2, height: 7, width: 11, kernelHeight: 5, kernelWidth: 5)))
    #expect(
      !Conv2DKernels.supportsImplicit(
        ConvGeometry(
          inChannels: 2, height: 20, width: 20, kernelHeight: 5, kernelWidth: 5, stride: 2)))
    #expect(
      !Conv2DKernels.supportsImplicit(
        ConvGeometry(
          inChannels: 2, height: 8, width: 8, kernelHeight: 1, kernelWidth: 1, padding: 4)))
  }

  /// The implicit kernels against the column-matrix path on the same operands: equal up to
  /// summation order; the implicit results are bit-identical for 1, 2 and 3 threads (every
  /// element, weight gradient included, is summed by one thread in a fixed order).
  @Test(arguments: [
    (ConvGeometry(inChannels: 15, height: 12, width: 12, kernelHeight: 5, kernelWidth: 5), 40),
    (ConvGeometry(inChannels: 1, height: 28, width: 28, kernelHeight: 5, kernelWidth: 5), 15),
    (ConvGeometry(inChannels: 3, height: 10, width: 12, kernelHeight: 3, kernelWidth: 5), 7),
  ])
  func implicitKernelsMatchTheColumnPath(_ g: ConvGeometry, outChannels: Int) {
    #expect(Conv2DKernels.supportsImplicit(g))
    let batch = 19
    let input = KernelTestSupport.randomSpikes(batch * g.inputSize, density: 0.3, seed: 51)
    let weights = KernelTestSupport.randomMatrix(outChannels * g.patchSize, seed: 52)
    let bias = KernelTestSupport.randomMatrix(outChannels, seed: 53)
    let dy = KernelTestSupport.randomMatrix(batch * outChannels * g.outputPixels, seed: 54)
    func run(implicit: Bool, threads: Int) -> (y: [Float], dx: [Float], dw: [Float], db: [Float])
    {
      var y = [Float](repeating: .nan, count: dy.count)
      var dx = [Float](repeating: .nan, count: input.count)
      var dw = [Float](repeating: 0.25, count: weights.count)
      var db = [Float](repeating: -1, count: outChannels)
      if implicit {
        Conv2DKernels.forwardImplicit(
          g, batch: batch, input: input, weights: weights, bias: bias, outChannels: outChannels,
          output: &y, threads: threads)
        Conv2DKernels.backwardDataImplicit(
          g, batch: batch, outputGradient: dy, weights: weights, outChannels: outChannels,
          inputGradient: &dx, threads: threads)
        Conv2DKernels.backwardWeightsImplicit(
          g, batch: batch, input: input, outputGradient: dy, outChannels: outChannels,
          weightGradient: &dw, biasGradient: &db, threads: threads)
      } else {
        Conv2DKernels.forwardColumns(
          g, batch: batch, input: input, weights: weights, bias: bias, outChannels: outChannels,
          output: &y, threads: threads)
        Conv2DKernels.backwardDataColumns(
          g, batch: batch, outputGradient: dy, weights: weights, outChannels: outChannels,
          inputGradient: &dx, threads: threads)
        Conv2DKernels.backwardWeightsColumns(
          g, batch: batch, input: input, outputGradient: dy, outChannels: outChannels,
          weightGradient: &dw, biasGradient: &db, threads: threads)
      }
      return (y, dx, dw, db)
    }
    let reference = run(implicit: false, threads: 1)
    let one = run(implicit: true, threads: 1)
    for threads in [2, 3] {
      let other = run(implicit: true, threads: threads)
      #expect(KernelTestSupport.bits(one.y) == KernelTestSupport.bits(other.y))
      #expect(KernelTestSupport.bits(one.dx) == KernelTestSupport.bits(other.dx))
      #expect(KernelTestSupport.bits(one.dw) == KernelTestSupport.bits(other.dw))
      #expect(KernelTestSupport.bits(one.db) == KernelTestSupport.bits(other.db))
    }
    let shortTerms = Float(g.patchSize + outChannels + 1)
    let longTerms = Float(batch * g.outputPixels + 1)
    func check(_ a: [Float], _ b: [Float], terms: Float, _ what: String) {
      #expect(!a.contains { $0.isNaN }, "\(what) has unwritten entries")
      let scale = b.reduce(Float(1)) { Swift.max($0, abs($1)) }
      for i in a.indices {
        #expect(abs(a[i] - b[i]) <= 1e-6 * terms * scale, "\(what)[\(i)]: \(a[i]) vs \(b[i])")
      }
    }
    check(one.y, reference.y, terms: shortTerms, "y")
    check(one.dx, reference.dx, terms: shortTerms, "dx")
    check(one.dw, reference.dw, terms: longTerms, "dw")
    check(one.db, reference.db, terms: longTerms, "db")
  }
}
