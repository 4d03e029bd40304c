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
  ///
  /// The counting itself is ``countSynapticWork(layer:input:isStatic:steps:batch:poolFactor:spikeValue:into:)``
  /// for T steps of the batch; this only skips its pass over `input` when the spike count
  /// is already known.
  func countSynapses(
    layer: ModelAnalysis.Layer, input: Tensor, isStatic: Bool, knownOnes: Int?,
    poolFactor: Int = 1, into counter: inout SynOpCounter
  ) {
    if !isStatic, poolFactor == 1, let ones = knownOnes {
      if case .linear = layer.kind {
        counter.addAccumulates(ones * layer.output.elementCount, layer: layer.number - 1)
        return
      }
      if ones == 0 { return }
    }
    countSynapticWork(
      layer: layer, input: input, isStatic: isStatic, steps: configuration.timeSteps,
      batch: batchSize, poolFactor: poolFactor, into: &counter)
  }

  /// Σ n(p)·coverage(p) over positions p, where n = v·window/unit is the number of spikes a
  /// pooled value v stands for (`unit`: the value of one spike); nil unless every such n is a
  /// non-negative integer (within rounding). `coverage` repeats over the planes of `x`. Eight lanes at a time, checked once
  /// at the end (counting runs on every spike tensor of a forward pass, so it must stay
  /// cheap); per-plane sums are exact in Float (far below 2^24).
  static func pooledCoverageCount(_ x: Tensor, coverage: [Int], window: Int, unit: Float = 1) -> Int? {
    let plane = coverage.count
    guard plane > 0, x.count > 0 else { return 0 }
    let planes = x.count / plane
    // Threads take runs of whole planes; every partial total is an exact integer, so the
    // split does not change the result.
    let chunks = min(Parallel.defaultThreads, max(1, x.count / (1 << 17)), planes)
    var totals = [Double](repeating: 0, count: chunks)
    var valid = [Bool](repeating: true, count: chunks)
    x.withUnsafeBufferPointer { v in
      totals.withUnsafeMutableBufferPointer { t in
        valid.withUnsafeMutableBufferPointer { ok in
          let values = UncheckedSendable(v.baseAddress!), tp = UncheckedSendable(t.baseAddress!)
          let okp = UncheckedSendable(ok.baseAddress!)
          Parallel.forEachChunk(count: planes, chunks: chunks) { chunk, range in
            let part = pooledCoverageCount(
              values.value + range.lowerBound * plane, planes: range.count, coverage: coverage,
              window: window, unit: unit)
            tp.value[chunk] = part ?? 0
            okp.value[chunk] = part != nil
          }
        }
      }
    }
    guard !valid.contains(false) else { return nil }
    return Int(totals.reduce(0, +))
  }

  /// ``pooledCoverageCount(_:coverage:window:unit:)`` over `planes` planes at `values`, as
  /// an exact integer in a Double, or nil.
  private static func pooledCoverageCount(
    _ values: UnsafePointer<Float>, planes: Int, coverage: [Int], window: Int, unit: Float
  ) -> Double? {
    let plane = coverage.count
    let w = Float(window) / unit
    let coverageF = coverage.map { Float($0) }
    return coverageF.withUnsafeBufferPointer { cov -> Double? in
      let c = cov.baseAddress!
      let vectorEnd = plane & ~7
      var total = 0.0
      var badLanes = SIMDMask<SIMD8<Int32>>(repeating: false)
      var deviation1: Float = 0, smallest1: Float = 0
      for index in 0..<planes {
        let p = values + index * plane
        var lanes = SIMD8<Float>()
        var k = 0
        while k < vectorEnd {
          let n = UnsafeRawPointer(p + k).loadUnaligned(as: SIMD8<Float>.self) * w
          let r = n.rounded(.toNearestOrEven)
          let d = n - r
          badLanes = badLanes .| (d .> 0.001) .| (d .< -0.001) .| (r .< 0)
          lanes += r * UnsafeRawPointer(c + k).loadUnaligned(as: SIMD8<Float>.self)
          k += 8
        }
        var sum = Double(lanes.sum())
        while k < plane {
          let n = p[k] * w
          let r = n.rounded(.toNearestOrEven)
          deviation1 = max(deviation1, abs(n - r))
          smallest1 = min(smallest1, r)
          sum += Double(r * c[k])
          k += 1
        }
        total += sum
      }
      guard !any(badLanes), deviation1 <= 0.001, smallest1 >= 0 else { return nil }
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
  /// binary. Eight lanes at a time, checked once at the end: v·(v − 1) is 0 exactly for 0
  /// and 1 (and NaN, never equal to 0, is caught too).
  static func binaryCoverageCount(_ x: Tensor, coverage: [Int]) -> Int? {
    let plane = coverage.count
    let coverageF = coverage.map { Float($0) }
    return x.withUnsafeBufferPointer { v -> Int? in
      coverageF.withUnsafeBufferPointer { cov -> Int? in
        guard let values = v.baseAddress, let c = cov.baseAddress else { return 0 }
        let vectorEnd = plane & ~7
        var total = 0.0
        var badLanes = SIMDMask<SIMD8<Int32>>(repeating: false)
        var nonBinary1: Float = 0
        var base = 0
        while base < v.count {
          let p = values + base
          var lanes = SIMD8<Float>()
          var k = 0
          while k < vectorEnd {
            let value = UnsafeRawPointer(p + k).loadUnaligned(as: SIMD8<Float>.self)
            badLanes = badLanes .| (value * (value - 1) .!= 0)
            lanes += value * UnsafeRawPointer(c + k).loadUnaligned(as: SIMD8<Float>.self)
            k += 8
          }
          var sum = Double(lanes.sum())
          while k < plane {
            let value = p[k]
            nonBinary1 = max(nonBinary1, abs(value * (value - 1)))
            sum += Double(value * c[k])
            k += 1
          }
          total += sum
          base += plane
        }
        guard !any(badLanes), nonBinary1 == 0, total.isFinite else { return nil }
        return Int(total)
      }
    }
  }
}
