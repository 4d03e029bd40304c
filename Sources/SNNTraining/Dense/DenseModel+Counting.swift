import SNNBase
import SNNTensor

extension DenseModel {
  /// Adds the synaptic work of `layer` on `input` to `counter` (entry `layer.number − 1`).
  ///
  /// - a static input (an image injected as current at every step): `macsPerStep` MACs per
  ///   sample and step, T steps, as a time-stepped simulation performs them (the static-input
  ///   optimization computes them once, but the counts describe the network, not our
  ///   shortcut);
  /// - a binary input (spikes): one accumulate per active input and target, i.e. the number
  ///   of active inputs × `outFeatures` for a linear layer, and for a convolution
  ///   `outChannels` × the number of output positions each active input reaches (fewer at
  ///   the borders: exact, not k²);
  /// - average-pooled spikes (pools of total size k since the last neurons): the spikes
  ///   routed through the pool — a pooled value v stands for v·k² spikes of its window, each
  ///   reaching the pooled position's targets — exactly what an event engine that folds
  ///   the pool into the synapses delivers (`EventModel`);
  /// - any other input: `macsPerStep` MACs per sample and step.
  ///
  /// `knownOnes` is the number of ones of `input` when the caller knows it is binary.
  func countSynapses(
    _ stage: Stage, layer: ModelAnalysis.Layer, input: Tensor, isStatic: Bool, knownOnes: Int?,
    poolFactor: Int = 1, into counter: inout SynOpCounter
  ) {
    let steps = configuration.timeSteps
    let index = layer.number - 1
    if isStatic {
      counter.addMultiplyAccumulates(layer.macsPerStep * batchSize * steps, layer: index)
      return
    }
    switch layer.kind {
    case .linear:
      if poolFactor == 1, let ones = knownOnes ?? input.binaryCount {
        counter.addAccumulates(ones * layer.output.elementCount, layer: index)
        return
      }
    case .conv(let kernel, let stride, let padding):
      if knownOnes == 0 { return }
      let coverage = DenseModel.coverage(
        height: layer.input.height, width: layer.input.width, outHeight: layer.output.height,
        outWidth: layer.output.width, kernel: kernel, stride: stride, padding: padding)
      if poolFactor == 1, let reached = DenseModel.binaryCoverageCount(input, coverage: coverage) {
        counter.addAccumulates(reached * layer.output.channels, layer: index)
        return
      }
      if poolFactor > 1,
        let reached = DenseModel.pooledCoverageCount(input, coverage: coverage, window: poolFactor * poolFactor)
      {
        counter.addAccumulates(reached * layer.output.channels, layer: index)
        return
      }
    }
    if poolFactor > 1, case .linear = layer.kind,
      let spikes = DenseModel.pooledCoverageCount(input, coverage: [1], window: poolFactor * poolFactor)
    {
      counter.addAccumulates(spikes * layer.output.elementCount, layer: index)
      return
    }
    counter.addMultiplyAccumulates(layer.macsPerStep * steps * batchSize, layer: index)
  }

  /// Σ n(p)·coverage(p) over positions p, where n = v·window is the number of spikes a
  /// pooled value v stands for; nil unless every v·window is a non-negative integer (within
  /// rounding). `coverage` repeats over the planes of `x`.
  static func pooledCoverageCount(_ x: Tensor, coverage: [Int], window: Int) -> Int? {
    let plane = coverage.count
    let w = Float(window)
    return x.withUnsafeBufferPointer { v -> Int? in
      var total = 0
      var p = 0
      for i in 0..<v.count {
        let n = v[i] * w
        let rounded = n.rounded()
        guard rounded >= 0, abs(n - rounded) <= 1e-3 else { return nil }
        total += Int(rounded) * coverage[p]
        p += 1
        if p == plane { p = 0 }
      }
      return total
    }
  }

  /// For each input position (y, x) of a convolution, the number of output positions whose
  /// window contains it: `rows(y)·columns(x)` with rows(y) = #{oy < outHeight :
  /// 0 ≤ y + padding − oy·stride < kernel}.
  static func coverage(
    height: Int, width: Int, outHeight: Int, outWidth: Int, kernel: Int, stride: Int, padding: Int
  ) -> [Int] {
    func reach(_ position: Int, _ outCount: Int) -> Int {
      var n = 0
      for o in 0..<outCount {
        let offset = position + padding - o * stride
        if offset >= 0 && offset < kernel { n += 1 }
      }
      return n
    }
    let rows = (0..<height).map { reach($0, outHeight) }
    let columns = (0..<width).map { reach($0, outWidth) }
    var result: [Int] = []
    result.reserveCapacity(height * width)
    for y in 0..<height { for x in 0..<width { result.append(rows[y] * columns[x]) } }
    return result
  }

  /// Σ over the ones of `x` (`[…, C, H, W]`) of `coverage[y·W + x]`, or nil when `x` is not
  /// binary.
  static func binaryCoverageCount(_ x: Tensor, coverage: [Int]) -> Int? {
    let plane = coverage.count
    return x.withUnsafeBufferPointer { v -> Int? in
      coverage.withUnsafeBufferPointer { cov -> Int? in
        var total = 0
        var base = 0
        while base < v.count {
          var bad = false
          var sum = 0
          for p in 0..<plane {
            let value = v[base + p]
            bad = bad || (value != 0 && value != 1)
            sum &+= value == 1 ? cov[p] : 0
          }
          if bad { return nil }
          total += sum
          base += plane
        }
        return total
      }
    }
  }
}
