import SNNBase
import SNNDatasets
import SNNEngine

/// Event-camera recordings fed to the event engine as spike sources.
///
/// Every (pixel, polarity) of the sensor is one source neuron, in the channels-last order
/// the engine's convolutional connectivity expects: neuron `(y · width + x) · C + c`, with
/// `c` the polarity (C = 2) or 0 (C = 1, polarities merged). In **continuous mode** each
/// event becomes a spike at its exact microsecond time (converted to ms); in **grid mode**
/// each event becomes a spike at its frame index under an ``EventFraming`` (equal time or
/// equal event count bins), so a grid network sees what a dense network fed the framed
/// tensor sees (count values: several spikes of one neuron in one step are delivered as
/// several events).
public enum EventStreams {
  /// The source neuron of event k.
  @inlinable
  public static func neuron(x: Int, y: Int, polarity: Int, width: Int, polarityChannels: Bool, downsample: Int = 1) -> Int {
    let w = (width + downsample - 1) / downsample
    let channels = polarityChannels ? 2 : 1
    return ((y / downsample) * w + x / downsample) * channels + (polarityChannels ? polarity : 0)
  }

  /// The number of source neurons for a sensor.
  public static func neuronCount(width: Int, height: Int, polarityChannels: Bool, downsample: Int = 1) -> Int {
    ((width + downsample - 1) / downsample) * ((height + downsample - 1) / downsample) * (polarityChannels ? 2 : 1)
  }

  /// Spike times in ms per source neuron (ascending), for a `.spikeTrains` population of a
  /// continuous-time ``NetworkSpec``; the first event of the recording is at time 0.
  public static func spikeTrains(_ sample: EventSample, polarityChannels: Bool = true, downsample: Int = 1) -> [[Double]] {
    var trains = Array(
      repeating: [Double](),
      count: neuronCount(width: sample.width, height: sample.height, polarityChannels: polarityChannels, downsample: downsample))
    let start = sample.timestamp.first ?? 0
    for k in 0..<sample.count {
      let n = neuron(
        x: Int(sample.x[k]), y: Int(sample.y[k]), polarity: Int(sample.polarity[k]), width: sample.width,
        polarityChannels: polarityChannels, downsample: downsample)
      trains[n].append(Double(sample.timestamp[k] &- start) / 1000)
    }
    return trains
  }

  /// Spike steps per source neuron (ascending, repeated for several events in one frame),
  /// for a `.spikeSteps` population of a ``GridNetwork``: event k fires at its frame index.
  public static func spikeSteps(_ sample: EventSample, framing: EventFraming) -> [[Int]] {
    var trains = Array(
      repeating: [Int](),
      count: neuronCount(
        width: sample.width, height: sample.height, polarityChannels: framing.polarityChannels,
        downsample: framing.downsample))
    let bins = sample.timestamp.withUnsafeBufferPointer { framing.frameIndices(timestamps: $0) }
    for k in 0..<sample.count {
      let n = neuron(
        x: Int(sample.x[k]), y: Int(sample.y[k]), polarity: Int(sample.polarity[k]), width: sample.width,
        polarityChannels: framing.polarityChannels, downsample: framing.downsample)
      trains[n].append(Int(bins[k]))
    }
    return trains
  }
}
