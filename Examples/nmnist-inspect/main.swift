// nmnist-inspect: load one N-MNIST sample, print it as text, frame it, and draw it.
//
//   swift run -c release nmnist-inspect [DATA_DIR] [INDEX]
//
// DATA_DIR defaults to SNN_DATA (else ~/.snn/data) and must hold nmnist/ (the full
// dataset, Train/ or Train.zip) or nmnist-small/ (the 1,100-sample subset).

import SNN

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
var environment: [String: String] = [:]
for name in ["SNN_DATA", "HOME"] {
  if let value = getenv(name) { environment[name] = String(cString: value) }
}
let root = DataRoot.resolve(explicit: arguments.first, environment: environment)
let index = arguments.count > 1 ? Int(arguments[1]) ?? 0 : 0

// Prefer the full dataset, fall back to the shared subset.
let folder = FileIO.isDirectory(root.appending("nmnist")) ? "nmnist" : "nmnist-small"
let dataset: EventDataset
do {
  dataset = try NMNIST.load(split: .test, root: root, folder: folder)
} catch {
  print("nmnist-inspect: \(error)")
  exit(66)
}
guard index >= 0 && index < dataset.count else {
  print("nmnist-inspect: index \(index) out of range 0..<\(dataset.count)")
  exit(64)
}
let sample = dataset.sample(index)
print("\(dataset.name): \(dataset.count) samples; sample \(index) = \(dataset.sources[index])")
print(
  "label \(sample.label), \(sample.count) events (\(sample.onCount) ON), \(Double(sample.duration) / 1000) ms"
)

// All events in one frame, ON and OFF merged, as text (darker = more events).
let whole = EventFraming(frameCount: 1, polarityChannels: false).frames(sample)
let peak = whole.max() ?? 1
let shades = Array(" .:-=+*#%@")
for y in 0..<sample.height {
  var line = ""
  for x in 0..<sample.width {
    let v = whole[y * sample.width + x] / peak
    line.append(shades[min(shades.count - 1, Int(v * Float(shades.count - 1) + 0.5))])
    line.append(" ")
  }
  print(line)
}

// Ten frames of equal duration, polarity as two channels, 2x downsampled: [10, 2, 17, 17].
let framing = EventFraming(frameCount: 10, split: .equalTime, downsample: 2)
let frames = framing.frames(sample)
let size = framing.frameSize(width: sample.width, height: sample.height)
let perFrame = (0..<10).map { Int(frames[$0 * size..<($0 + 1) * size].reduce(0, +)) }
print("events per frame (equal time, T = 10): \(perFrame) (sum \(perFrame.reduce(0, +)))")

// The first saccade only (this reads the sample's file again; folders only).
let file = root.appending(folder) + "/" + dataset.sources[index]
if let firstSaccade = try? NMNIST.readSample(
  path: file, label: sample.label, firstSaccadeOnly: true)
{
  print("first saccade (t < 100 ms): \(firstSaccade.count) events")
}

let svgPath = "nmnist-sample-\(index).svg"
do {
  try FileIO.writeAtomically(
    DatasetPlot.events(sample, title: "\(dataset.sources[index]), label \(sample.label)"),
    to: svgPath)
  print("wrote \(svgPath)")
} catch {
  print("nmnist-inspect: \(error)")
}
