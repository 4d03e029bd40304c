import SNNBase
import SNNDatasets

/// An ``SNNDatasets/EventDataset`` (N-MNIST) as a ``LabelledDataset``: every sample is binned
/// into T frames of `C × H × W` by an ``SNNDatasets/EventFraming`` (default: T frames of
/// equal event count, two polarity channels, event counts per pixel), framed when a batch
/// is requested (no copy of the whole set in frames).
public struct FramedEventDataset: LabelledDataset, Sendable {
  public let events: EventDataset
  public let framing: EventFraming
  public let name: String

  public init(_ events: EventDataset, framing: EventFraming, name: String? = nil) {
    self.events = events
    self.framing = framing
    self.name = name ?? events.name
  }

  public var sampleCount: Int { events.count }
  public var classCount: Int { 10 }
  public var sampleShape: SampleShape {
    let shape = framing.outputShape(width: events.width, height: events.height)
    return SampleShape(
      frames: shape[0], feature: FeatureShape(channels: shape[1], height: shape[2], width: shape[3])
    )
  }

  public func fill(indices: ArraySlice<Int>, inputs: inout [Float], labels: inout [Int]) throws {
    let size = sampleShape.elementCount
    for (row, index) in indices.enumerated() {
      let frames = framing.frames(events.sample(index))
      inputs.withUnsafeMutableBufferPointer { out in
        frames.withUnsafeBufferPointer {
          (out.baseAddress! + row * size).update(from: $0.baseAddress!, count: size)
        }
      }
      labels[row] = Int(events.labels[index])
    }
  }
}
