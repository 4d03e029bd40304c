/// Turns an event stream into T frames, `[T, C, H', W']` row-major Float values.
///
/// **Splitting into frames** (as SpikingJelly's `integrate_events_by_fixed_frames_number`
/// with `split_by` = `'number'` or `'time'`):
/// - ``Split/equalCount``: with N events, frame i holds events `i·⌊N/T⌋ ..< (i+1)·⌊N/T⌋`
///   and the last frame also takes the remaining `N mod T` events.
/// - ``Split/equalTime``: with Δ = ⌊(t_last − t_first) / T⌋ µs (at least 1), an event at
///   time t goes to frame `min(T − 1, ⌊(t − t_first) / Δ⌋)`: frame i covers
///   `[t_first + iΔ, t_first + (i+1)Δ)` and the last frame runs to the end.
///
/// Every event lands in exactly one frame, so with ``Value/count`` the frames sum to the
/// number of events (framing conserves events).
///
/// **Channels**: with `polarityChannels`, channel 0 counts OFF events and channel 1 ON
/// events (C = 2, SpikingJelly's order); otherwise both go to one channel (C = 1).
/// **Values**: ``Value/count`` (events per pixel and frame) or ``Value/binary`` (1 where
/// there was at least one). **Downsampling** by an integer factor f maps pixel (x, y) to
/// (⌊x/f⌋, ⌊y/f⌋), giving H' = ⌈H/f⌉, W' = ⌈W/f⌉ (34 → 17 for f = 2); counts add up.
public struct EventFraming: Sendable, Equatable {
  public enum Split: String, Sendable, Equatable, CaseIterable {
    /// T frames of (nearly) equal event count.
    case equalCount
    /// T frames of equal duration over the sample's own time span.
    case equalTime
  }

  public enum Value: String, Sendable, Equatable, CaseIterable {
    /// Events per pixel and frame.
    case count
    /// 1 where at least one event fell, else 0.
    case binary
  }

  /// T, the number of frames.
  public var frameCount: Int
  public var split: Split
  public var value: Value
  public var polarityChannels: Bool
  /// Integer spatial downsampling factor (1 = none).
  public var downsample: Int

  public init(
    frameCount: Int, split: Split = .equalCount, value: Value = .count,
    polarityChannels: Bool = true,
    downsample: Int = 1
  ) {
    precondition(frameCount >= 1, "frameCount must be at least 1")
    precondition(downsample >= 1, "downsample must be at least 1")
    self.frameCount = frameCount
    self.split = split
    self.value = value
    self.polarityChannels = polarityChannels
    self.downsample = downsample
  }

  /// Channels per frame: 2 with polarity channels, else 1.
  public var channels: Int { polarityChannels ? 2 : 1 }

  /// `[T, C, H', W']` for a sensor of `width × height`.
  public func outputShape(width: Int, height: Int) -> [Int] {
    [
      frameCount, channels, (height + downsample - 1) / downsample,
      (width + downsample - 1) / downsample,
    ]
  }

  /// Values per frame for a sensor of `width × height` (C·H'·W').
  public func frameSize(width: Int, height: Int) -> Int {
    outputShape(width: width, height: height).dropFirst().reduce(1, *)
  }

  /// The frame index of each event.
  public func frameIndices(timestamps: UnsafeBufferPointer<UInt32>) -> [Int32] {
    let n = timestamps.count
    var bins = [Int32](repeating: 0, count: n)
    guard n > 0 else { return bins }
    let t = frameCount
    switch split {
    case .equalCount:
      let per = n / t
      for k in 0..<n { bins[k] = Int32(per == 0 ? t - 1 : min(t - 1, k / per)) }
    case .equalTime:
      let first = timestamps[0]
      let last = timestamps[n - 1]
      let span = last >= first ? Int(last - first) : 0
      let width = max(1, span / t)
      for k in 0..<n {
        let offset = timestamps[k] >= first ? Int(timestamps[k] - first) : 0
        bins[k] = Int32(min(t - 1, offset / width))
      }
    }
    return bins
  }

  /// Frames of `sample` as `[T, C, H', W']` values.
  public func frames(_ sample: EventSample) -> [Float] {
    var out = [Float](
      repeating: 0, count: frameCount * frameSize(width: sample.width, height: sample.height))
    out.withUnsafeMutableBufferPointer { o in
      sample.x.withUnsafeBufferPointer { x in
        sample.y.withUnsafeBufferPointer { y in
          sample.polarity.withUnsafeBufferPointer { p in
            sample.timestamp.withUnsafeBufferPointer { t in
              accumulate(
                x: x, y: y, polarity: p, timestamp: t, width: sample.width, height: sample.height,
                into: o, stride: 1)
            }
          }
        }
      }
    }
    return out
  }

  /// Frames of dataset samples `indices`, time-major: `[T, B, C, H', W']` with B =
  /// `indices.count` (the layout a time-stepped network consumes).
  public func frames(_ dataset: EventDataset, indices: [Int]) -> [Float] {
    let size = frameSize(width: dataset.width, height: dataset.height)
    let b = indices.count
    var out = [Float](repeating: 0, count: frameCount * b * size)
    out.withUnsafeMutableBufferPointer { o in
      dataset.x.withUnsafeBufferPointer { x in
        dataset.y.withUnsafeBufferPointer { y in
          dataset.polarity.withUnsafeBufferPointer { p in
            dataset.timestamp.withUnsafeBufferPointer { t in
              for (row, index) in indices.enumerated() {
                let r = dataset.eventRange(index)
                accumulate(
                  x: UnsafeBufferPointer(rebasing: x[r]), y: UnsafeBufferPointer(rebasing: y[r]),
                  polarity: UnsafeBufferPointer(rebasing: p[r]),
                  timestamp: UnsafeBufferPointer(rebasing: t[r]),
                  width: dataset.width, height: dataset.height,
                  into: UnsafeMutableBufferPointer(rebasing: o[(row * size)...]), stride: b)
              }
            }
          }
        }
      }
    }
    return out
  }

  /// Adds one sample's events into `out`, where frame f starts at `f · stride · frameSize`.
  private func accumulate(
    x: UnsafeBufferPointer<UInt8>, y: UnsafeBufferPointer<UInt8>,
    polarity: UnsafeBufferPointer<UInt8>,
    timestamp: UnsafeBufferPointer<UInt32>, width: Int, height: Int,
    into out: UnsafeMutableBufferPointer<Float>,
    stride: Int
  ) {
    let shape = outputShape(width: width, height: height)
    let h = shape[2], w = shape[3]
    let size = shape[1] * h * w
    let bins = frameIndices(timestamps: timestamp)
    let f = downsample
    let binary = value == .binary
    for k in 0..<x.count {
      let xi = Int(x[k]), yi = Int(y[k])
      precondition(
        xi < width && yi < height, "event (\(xi), \(yi)) outside the \(width)x\(height) sensor")
      let channel = polarityChannels ? Int(polarity[k] & 1) : 0
      let index = Int(bins[k]) * stride * size + (channel * h + yi / f) * w + xi / f
      if binary { out[index] = 1 } else { out[index] += 1 }
    }
  }
}
