// Prints what a model notation describes: the shape after every stage, the parameters
// with their shapes, and the dense (ANN-equivalent) MACs of one time step.
//
//   swift run -c release model-summary 15C5-AP2-40C5-AP2-300-10 1x28x28
//   swift run -c release model-summary 64C5s2p2-64C5s2p2-64C5p2-10+FB3to1:T3s2p1o1 1x28x28

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import SNN

let arguments = Array(CommandLine.arguments.dropFirst())
let notation = arguments.first ?? "conv"
var input = FeatureShape(channels: 1, height: 28, width: 28)
if arguments.count > 1 {
  let sizes = arguments[1].split(separator: "x").compactMap { Int($0) }
  guard sizes.count == 3 else {
    print("error: the input shape must be CxHxW, e.g. 2x34x34")
    exit(64)
  }
  input = FeatureShape(channels: sizes[0], height: sizes[1], width: sizes[2])
}

do {
  let spec = try ModelSpec.parse(notation, input: input)
  let analysis = try spec.analyze()
  print("model \(spec.notation) on \(spec.input) inputs")
  print("")
  print("stage           output        MACs/step")
  for stage in analysis.stages where stage.stage != .flatten {
    let name = stage.layerNumber.map { analysis.layers[$0 - 1].name } ?? spec.stageName(stage.stage)
    print(pad(name, 16) + pad(stage.output.description, 14) + grouped(stage.macsPerStep))
  }
  for feedback in analysis.feedbacks {
    print(
      pad(feedback.name, 16) + pad(feedback.target.description, 14)
        + grouped(feedback.macsPerStep))
  }
  print("")
  for p in analysis.parameterLayout {
    print(pad(p.name, 20) + pad(p.shape.map(String.init).joined(separator: "×"), 16) + p.group.name)
  }
  print("")
  print("\(grouped(analysis.parameterCount)) parameters")
  print("\(grouped(analysis.spikingNeuronCount)) spiking neurons per sample")
  print("\(grouped(analysis.macsPerStep)) dense MACs per time step per sample")
} catch {
  print("error: \(error)")
  exit(64)
}

/// 1234567 → "1,234,567".
func grouped(_ value: Int) -> String {
  let digits = Array(String(value))
  var out = ""
  for (i, c) in digits.enumerated() {
    if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
    out.append(c)
  }
  return out
}

func pad(_ text: String, _ width: Int) -> String {
  text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

extension ModelSpec {
  func stageName(_ stage: Stage) -> String {
    switch stage {
    case .avgPool(let k): return "AP\(k)"
    case .maxPool(let k): return "MP\(k)"
    default: return "\(stage)"
    }
  }
}
