import SNNBase
import Testing

@testable import SNNDatasets

@Suite struct EventFramingTests {
  func sample(_ times: [UInt32], x: [UInt8]? = nil, y: [UInt8]? = nil, on: [UInt8]? = nil)
    -> EventSample
  {
    let n = times.count
    return EventSample(
      x: x ?? Array(repeating: 0, count: n), y: y ?? Array(repeating: 0, count: n),
      polarity: on ?? Array(repeating: 1, count: n), timestamp: times, label: 0, width: 34,
      height: 34)
  }

  @Test func equalCountSplitMatchesSpikingJelly() {
    // N = 10, T = 3: ⌊10/3⌋ = 3 events per frame, the last frame takes the remaining 4
    // (SpikingJelly: j_l = [0, 3, 6], j_r = [3, 6, 10]).
    let s = sample((0..<10).map { UInt32($0 * 7) })
    let framing = EventFraming(frameCount: 3, split: .equalCount)
    let bins = s.timestamp.withUnsafeBufferPointer { framing.frameIndices(timestamps: $0) }
    #expect(bins == [0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
    // Fewer events than frames: everything lands in the last frame.
    let few = sample([1, 2]).timestamp.withUnsafeBufferPointer {
      EventFraming(frameCount: 4).frameIndices(timestamps: $0)
    }
    #expect(few == [3, 3])
  }

  @Test func equalTimeSplit() {
    // Span 30 µs, T = 3 → Δ = 10 µs: [0, 10), [10, 20), [20, end].
    let s = sample([0, 5, 10, 15, 20, 29, 30])
    let bins = s.timestamp.withUnsafeBufferPointer {
      EventFraming(frameCount: 3, split: .equalTime).frameIndices(timestamps: $0)
    }
    #expect(bins == [0, 0, 1, 1, 2, 2, 2])
    // Offset start time and a span that does not divide: Δ = ⌊31/4⌋ = 7.
    let t = sample([100, 106, 107, 113, 114, 120, 121, 131])
    let bins2 = t.timestamp.withUnsafeBufferPointer {
      EventFraming(frameCount: 4, split: .equalTime).frameIndices(timestamps: $0)
    }
    #expect(bins2 == [0, 0, 1, 1, 2, 2, 3, 3])
  }

  @Test func layoutPolarityChannelsAndDownsampling() {
    let s = sample([0, 1, 2], x: [5, 5, 33], y: [7, 7, 33], on: [1, 0, 1])
    let frames = EventFraming(frameCount: 1).frames(s)
    #expect(frames.count == 2 * 34 * 34)
    #expect(frames[(1 * 34 + 7) * 34 + 5] == 1)  // ON channel
    #expect(frames[(0 * 34 + 7) * 34 + 5] == 1)  // OFF channel
    #expect(frames[(1 * 34 + 33) * 34 + 33] == 1)
    #expect(frames.reduce(0, +) == 3)
    let merged = EventFraming(frameCount: 1, polarityChannels: false, downsample: 2).frames(s)
    #expect(
      EventFraming(frameCount: 1, polarityChannels: false, downsample: 2).outputShape(
        width: 34, height: 34) == [1, 1, 17, 17])
    #expect(merged.count == 17 * 17)
    #expect(merged[3 * 17 + 2] == 2)  // (5, 7) → (2, 3), two events
    #expect(merged[16 * 17 + 16] == 1)
    #expect(
      EventFraming(frameCount: 2, downsample: 3).outputShape(width: 34, height: 34) == [
        2, 2, 12, 12,
      ])
    let binary = EventFraming(frameCount: 1, value: .binary, polarityChannels: false).frames(s)
    #expect(binary[7 * 34 + 5] == 1 && binary.reduce(0, +) == 2)
  }

  @Test func framingConservesEventsOnRandomStreams() {
    var rng = Xoshiro256StarStar(seed: 5)
    for trial in 0..<20 {
      let n = rng.nextIndex(below: 500)
      var t: UInt32 = 0
      var times: [UInt32] = []
      for _ in 0..<n {
        t += UInt32(rng.nextIndex(below: 50))
        times.append(t)
      }
      let s = EventSample(
        x: (0..<n).map { _ in UInt8(rng.nextIndex(below: 34)) },
        y: (0..<n).map { _ in UInt8(rng.nextIndex(below: 34)) },
        polarity: (0..<n).map { _ in UInt8(rng.nextIndex(below: 2)) }, timestamp: times, label: 0,
        width: 34,
        height: 34)
      for split in EventFraming.Split.allCases {
        for channels in [true, false] {
          for factor in [1, 2, 3, 5] {
            let framing = EventFraming(
              frameCount: 1 + trial % 7, split: split, polarityChannels: channels,
              downsample: factor)
            let frames = framing.frames(s)
            #expect(frames.count == framing.outputShape(width: 34, height: 34).reduce(1, *))
            #expect(Int(frames.reduce(0, +)) == n, "\(split) \(channels) \(factor)")
            if channels {
              // Per-channel totals equal the OFF and ON counts.
              let size = framing.frameSize(width: 34, height: 34) / 2
              var on: Float = 0
              for f in 0..<framing.frameCount {
                on += frames[(f * 2 + 1) * size..<(f * 2 + 2) * size].reduce(0, +)
              }
              #expect(Int(on) == s.onCount)
            }
          }
        }
      }
    }
  }

  @Test func batchFramesAreTimeMajor() throws {
    var set = EventDataset(name: "t", width: 34, height: 34)
    set.append(sample([0, 10, 20, 30], x: [1, 2, 3, 4], y: [0, 0, 0, 0]))
    set.append(sample([0, 1], x: [9, 9], y: [9, 9], on: [0, 0]))
    let framing = EventFraming(frameCount: 2, split: .equalTime)
    let batch = framing.frames(set, indices: [1, 0])
    let size = framing.frameSize(width: 34, height: 34)
    let a = framing.frames(set.sample(1)), b = framing.frames(set.sample(0))
    // [T, B, ...]: frame t of batch row r starts at (t·B + r)·size.
    for t in 0..<2 {
      #expect(
        Array(batch[(t * 2 + 0) * size..<(t * 2 + 1) * size]) == Array(a[t * size..<(t + 1) * size])
      )
      #expect(
        Array(batch[(t * 2 + 1) * size..<(t * 2 + 2) * size]) == Array(b[t * size..<(t + 1) * size])
      )
    }
  }

  @Test(.enabled(if: TestData.available)) func realSamplesConserveEvents() throws {
    let set = try NMNIST.load(
      split: .test, root: DataRoot(path: TestData.root!), folder: "nmnist-small")
    let framing = EventFraming(frameCount: 10, split: .equalTime, downsample: 2)
    let batch = framing.frames(set, indices: Array(0..<set.count))
    #expect(Int(batch.reduce(0, +)) == set.eventCount)
    let counted = EventFraming(frameCount: 8).frames(set.sample(3))
    #expect(Int(counted.reduce(0, +)) == set.sample(3).count)
  }
}

@Suite struct SpikeEncoderTests {
  @Test func directCurrentRepeatsTheInput() {
    #expect(
      DirectEncoder().encode([0.1, 0.9, 0], steps: 3) == [0.1, 0.9, 0, 0.1, 0.9, 0, 0.1, 0.9, 0])
  }

  @Test func rateCodingExtremesAndDeterminism() {
    let x: [Float] = [0, 1, 0.5]
    let out = RateEncoder().encode(x, steps: 200, seed: 1)
    #expect(out.count == 600)
    for t in 0..<200 {
      #expect(out[t * 3] == 0)
      #expect(out[t * 3 + 1] == 1)
    }
    #expect(RateEncoder().encode(x, steps: 200, seed: 1) == out)
    #expect(RateEncoder().encode(x, steps: 200, seed: 2) != out)
    #expect(Set(out).isSubset(of: [0, 1]))
    // maxProbability 0.5 at intensity 1 gives p = 0.5; at 0 it never fires.
    #expect(RateEncoder(maxRate: 500, stepMilliseconds: 1).maxProbability == 0.5)
  }

  @Test func rateCodingFrequenciesMatchTheProbabilities() {
    // 64 inputs with p from 0 to ~0.63; T = 4000. Each count is Binomial(T, p): within
    // 5 standard deviations (a false failure has probability below 1e-5 in total).
    let x = (0..<64).map { Float($0) / 63 }
    let steps = 4000
    let encoder = RateEncoder(maxProbability: 0.63)
    let out = encoder.encode(x, steps: steps, seed: 12_345)
    for i in 0..<64 {
      var count = 0
      for t in 0..<steps where out[t * 64 + i] == 1 { count += 1 }
      let p = Double(min(1, x[i] * 0.63))
      let mean = Double(steps) * p
      let sd = (Double(steps) * p * (1 - p)).squareRoot()
      #expect(abs(Double(count) - mean) <= 5 * sd + 1e-9, "input \(i): \(count) vs \(mean)")
    }
    // Steps are independent: the lag-1 autocorrelation of a p = 0.5 train is near 0.
    let mid = 50
    var same = 0
    for t in 1..<steps where out[t * 64 + mid] == out[(t - 1) * 64 + mid] { same += 1 }
    let pm = Double(x[mid] * 0.63)
    let expectedSame = Double(steps - 1) * (pm * pm + (1 - pm) * (1 - pm))
    #expect(abs(Double(same) - expectedSame) < 5 * (Double(steps) * 0.25).squareRoot())
  }

  @Test func linearLatency() {
    let encoder = LatencyEncoder(kind: .linear, threshold: 0.1)
    let x: [Float] = [1, 0.5, 0.1, 0.0, 0.75, 0.11]
    let steps = 11
    let out = encoder.encode(x, steps: steps)
    #expect(encoder.firingStep(1, steps: steps) == 0)
    #expect(encoder.firingStep(0.5, steps: steps) == 5)
    #expect(encoder.firingStep(0.75, steps: steps) == 3)  // round(2.5) = 3 (away from zero)
    #expect(encoder.firingStep(0.11, steps: steps) == 9)
    #expect(encoder.firingStep(0.1, steps: steps) == nil)
    #expect(encoder.firingStep(0, steps: steps) == nil)
    for i in 0..<x.count {
      let spikes = (0..<steps).filter { out[$0 * x.count + i] == 1 }
      if let t = encoder.firingStep(x[i], steps: steps) {
        #expect(spikes == [t])
      } else {
        #expect(spikes.isEmpty)
      }
    }
    // Brighter never fires later.
    var previous = Int.max
    for v in stride(from: Float(0.11), through: 1, by: 0.01) {
      let t = encoder.firingStep(v, steps: 100)!
      #expect(t <= previous)
      previous = t
    }
  }

  @Test func logarithmicLatency() {
    let encoder = LatencyEncoder(kind: .logarithmic(tau: 5), threshold: 0.2)
    // t = τ ln(x / (x − θ)): x = 1 → 5 ln 1.25 = 1.12 → 1; x = 0.25 → 5 ln 5 = 8.05 → 8.
    #expect(encoder.firingStep(1, steps: 20) == 1)
    #expect(encoder.firingStep(0.25, steps: 20) == 8)
    #expect(encoder.firingStep(0.25, steps: 8) == nil)  // beyond the window
    #expect(encoder.firingStep(0.2, steps: 20) == nil)
    let out = encoder.encode([1, 0.25, 0.1], steps: 20)
    #expect(out.reduce(0, +) == 2)
    #expect(out[1 * 3 + 0] == 1 && out[8 * 3 + 1] == 1)
  }

  @Test func deltaModulation() {
    // One signal: 0, 0.5, 0.55, 0.2, 0.2 with θ = 0.1; output [T, 2, 1] (OFF, ON).
    let seq: [Float] = [0, 0.5, 0.55, 0.2, 0.2]
    let out = DeltaEncoder(threshold: 0.1).encode(seq, steps: 5)
    #expect(out == [0, 0, 0, 1, 0, 0, 1, 0, 0, 0])
    // Slow drift: consecutive differences never exceed θ, but the drift since the last
    // spike does.
    let drift: [Float] = [0.06, 0.12, 0.18, 0.24]
    #expect(DeltaEncoder(threshold: 0.1).encode(drift, steps: 4).reduce(0, +) == 0 + 0)
    let tracked = DeltaEncoder(threshold: 0.1, reference: .lastSpike).encode(drift, steps: 4)
    // ON at t = 1 (0.12 > 0.1) and t = 3 (0.24 − 0.12).
    #expect(tracked == [0, 0, 0, 1, 0, 0, 0, 1])
    // A change equal to θ is not a spike; two signals stay separate.
    let two: [Float] = [0, 0, 0.1, 0.3]
    #expect(DeltaEncoder(threshold: 0.1).encode(two, steps: 2) == [0, 0, 0, 0, 0, 0, 0, 1])
  }
}
