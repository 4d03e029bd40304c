import SNNBase
import Testing

@testable import SNNTraining

@Suite struct ModelSpecTests {
  let mnist = FeatureShape(channels: 1, height: 28, width: 28)
  let nmnist = FeatureShape(channels: 2, height: 34, width: 34)

  /// Expects a configuration error whose text contains every fragment.
  func expectError(
    _ fragments: [String], _ body: () throws -> Void,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    do {
      try body()
      Issue.record("expected an error containing \(fragments)", sourceLocation: sourceLocation)
    } catch {
      let text = "\(error)"
      for f in fragments {
        #expect(text.contains(f), "'\(text)' lacks '\(f)'", sourceLocation: sourceLocation)
      }
    }
  }

  @Test func lenetShapesParametersAndMACs() throws {
    let spec = try ModelSpec.parse("15C5-AP2-40C5-AP2-300-10", input: mnist)
    #expect(
      spec.stages == [
        .conv(outChannels: 15, kernel: 5, stride: 1, padding: 0), .avgPool(2),
        .conv(outChannels: 40, kernel: 5, stride: 1, padding: 0), .avgPool(2), .flatten,
        .linear(outFeatures: 300), .linear(outFeatures: 10),
      ])
    let a = try spec.analyze()
    #expect(
      a.stages.map(\.output.description) == [
        "15×24×24", "15×12×12", "40×8×8", "40×4×4", "640×1×1", "300×1×1", "10×1×1",
      ])
    #expect(a.layers.map(\.name) == ["conv1", "conv2", "fc3", "fc4"])
    #expect(
      a.layers.map(\.weightShape) == [[15, 1, 5, 5], [40, 15, 5, 5], [300, 640], [10, 300]])
    #expect(a.layers.map(\.isReadout) == [false, false, false, true])
    #expect(a.layers.map(\.fanIn) == [25, 375, 640, 300])
    // conv1 15·24·24·1·25, conv2 40·8·8·15·25, fc3 640·300, fc4 300·10.
    #expect(a.layers.map(\.macsPerStep) == [216_000, 960_000, 192_000, 3_000])
    #expect(a.macsPerStep == 1_371_000)
    #expect(a.spikingNeuronCount == 15 * 24 * 24 + 40 * 8 * 8 + 300)
    #expect(a.classCount == 10 && a.endsWithLinear)
    #expect(
      a.parameterLayout.map(\.name) == [
        "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc3.weight", "fc3.bias",
        "fc4.weight", "fc4.bias",
      ])
    #expect(a.parameterCount == 15 * 25 + 15 + 40 * 15 * 25 + 40 + 640 * 300 + 300 + 3000 + 10)
  }

  @Test func mlpTakesItsFirstNumberAsTheInputSize() throws {
    let spec = try ModelSpec.parse("784-800-10", input: mnist)
    #expect(spec.input == mnist)
    #expect(spec.stages == [.flatten, .linear(outFeatures: 800), .linear(outFeatures: 10)])
    let a = try spec.analyze()
    #expect(a.macsPerStep == 784 * 800 + 800 * 10)
    #expect(a.layers.map(\.name) == ["fc1", "fc2"])
    #expect(spec.notation == "784-800-10")
    // Without a dataset, the input is flat.
    let flat = try ModelSpec.parse("784-800-10", input: nil)
    #expect(flat.input == .flat(784))
    // The first number must match the data.
    expectError(["784", "2312", "first number is the input size"]) {
      _ = try ModelSpec.parse("784-800-10", input: nmnist)
    }
  }

  @Test func paddedAndStridedNotations() throws {
    let fmnist = try ModelSpec.parse("32C5p2-AP2-64C5p2-AP2-1024-10", input: mnist).analyze()
    #expect(
      fmnist.stages.map(\.output.description).prefix(4) == [
        "32×28×28", "32×14×14", "64×14×14", "64×7×7",
      ])
    #expect(fmnist.layers[2].weightShape == [1024, 3136])

    let n = try ModelSpec.parse("12C5p1-AP2-64C5-AP2-10", input: nmnist).analyze()
    #expect(
      n.stages.map(\.output.description) == [
        "12×32×32", "12×16×16", "64×12×12", "64×6×6", "2304×1×1", "10×1×1",
      ])
    #expect(n.layers.map(\.weightShape) == [[12, 2, 5, 5], [64, 12, 5, 5], [10, 2304]])

    // SPIDE's convnet body without padding does not fit 28×28: 28 → 12 → 4, then a 5×5 kernel.
    expectError(["stage 3 (64C5)", "input 64×4×4", "kernel 5"]) {
      _ = try ModelSpec.parse("64C5s2-64C5s2-64C5", input: mnist)
    }
    let body = try ModelSpec.parse(
      "64C5s2-64C5s2-64C5", input: FeatureShape(channels: 1, height: 64, width: 64))
    let b = try body.analyze()
    #expect(b.stages.map(\.output.description) == ["64×30×30", "64×13×13", "64×9×9"])
    #expect(!b.endsWithLinear && b.layers.allSatisfy(\.isSpiking))
    #expect(body.notation == "64C5s2-64C5s2-64C5")
    // Stride and padding in either order, any case.
    #expect(
      try ModelSpec.parse("64c5P2S2-10", input: mnist).stages[0]
        == .conv(outChannels: 64, kernel: 5, stride: 2, padding: 2))
    #expect(try ModelSpec.parse("16C3-MP2-10", input: mnist).stages[1] == .maxPool(2))
  }

  @Test func feedbackConnections() throws {
    // SPIDE's MNIST convnet: feedback ConvTranspose3s2 from the last conv back to the first.
    let spide = try ModelSpec.parse("64C5s2p2-64C5s2p2-64C5p2-10+FB3to1:T3s2p1o1", input: mnist)
    let a = try spide.analyze()
    #expect(a.layers.map(\.output.description) == ["64×14×14", "64×7×7", "64×7×7", "10×1×1"])
    #expect(a.feedbacks.count == 1)
    #expect(a.feedbacks[0].weightShape == [64, 64, 3, 3])
    #expect(
      a.feedbacks[0].source.description == "64×7×7"
        && a.feedbacks[0].target.description == "64×14×14")
    #expect(a.feedbacks[0].macsPerStep == 64 * 7 * 7 * 64 * 9)
    #expect(a.parameterLayout.last?.name == "feedback1.weight")
    #expect(spide.notation == "64C5s2p2-64C5s2p2-64C5p2-10+FB3to1:T3s2p1o1")

    // IDE's Fashion-MNIST net: FC400 with dense feedback onto itself.
    let ide = try ModelSpec.parse("784-400-10+FB1to1:L", input: mnist).analyze()
    #expect(ide.feedbacks[0].weightShape == [400, 400])
    // IDE's MNIST net: 64C5s2 with a same-size conv feedback.
    let conv = try ModelSpec.parse("64C5s2p2-10+FB1to1:C5p2", input: mnist).analyze()
    #expect(conv.feedbacks[0].weightShape == [64, 64, 5, 5])

    expectError(["feedback 1", "target layer's shape 64×14×14"]) {
      _ = try ModelSpec.parse("64C5s2p2-64C5s2p2-64C5p2-10+FB3to1:T3s2p1", input: mnist)
    }
    expectError(["feedback 1", "to ≤ from"]) {
      _ = try ModelSpec.parse("784-400-300-10+FB1to2:L", input: mnist)
    }
    expectError(["feedback 1", "readout"]) {
      _ = try ModelSpec.parse("784-400-10+FB2to1:L", input: mnist)
    }
    expectError(["feedback 'FB3:L'", "FB<from>to<to>"]) {
      _ = try ModelSpec.parse("784-400-10+FB3:L", input: mnist)
    }
  }

  @Test func notationAndJSONRoundTrip() throws {
    let cases: [(String, FeatureShape)] = [
      ("15C5-AP2-40C5-AP2-300-10", mnist), ("784-800-10", mnist),
      ("32C5p2-AP2-64C5p2-AP2-1024-10", mnist), ("12C5p1-AP2-64C5-AP2-10", nmnist),
      ("64C5s2p2-64C5s2p2-64C5p2-10+FB3to1:T3s2p1o1", mnist), ("784-400-10+FB1to1:L", mnist),
      ("16C3s2p1-MP2-10+FB1to1:C3p1", mnist), ("2312-512-10", nmnist),
    ]
    for (text, input) in cases {
      let spec = try ModelSpec.parse(text, input: input)
      #expect(spec.notation == text)
      #expect(try ModelSpec.parse(spec.notation, input: input) == spec)
      #expect(try ModelSpec.parse(spec.fullNotation, input: nil) == spec)
      // JSON, through text, with non-default settings.
      var custom = spec
      custom.readout = .spiking
      custom.bias = false
      custom.neuron = .init(kind: "srm", parameters: ["tauMem": 5, "tauSyn": 3, "vThreshold": 1])
      let parsed = try ModelSpec(json: try JSONValue.parse(custom.json.rendered(pretty: true)))
      #expect(parsed == custom)
    }
  }

  @Test func presets() throws {
    #expect(try ModelSpec.parse("mlp", input: mnist).notation == "784-800-10")
    #expect(try ModelSpec.parse("mlp", input: nmnist).notation == "2312-800-10")
    #expect(try ModelSpec.parse("conv", input: mnist).notation == "15C5-AP2-40C5-AP2-300-10")
    #expect(
      try ModelSpec.parse("conv", input: nmnist).analyze().stages[3].output.description == "40×5×5")
    let lenet = try ModelSpec.parse("spide-lenet", input: mnist)
    #expect(lenet.notation == "15C5p2-AP2-40C5p2-AP2-300-10")
    #expect(try lenet.analyze().stages[3].output.description == "40×7×7")
    let convnet = try ModelSpec.parse("SPIDE-convnet", input: mnist)
    #expect(convnet.notation == "64C5s2p2-64C5s2p2-64C5p2-10+FB3to1:T3s2p1o1")
    let convAnalysis = try convnet.analyze()
    #expect(convAnalysis.stages[2].output.description == "64×7×7")
    #expect(convAnalysis.feedbacks.count == 1)
    #expect(try ModelSpec.parse("ide-fc", input: mnist).notation == "784-400-10+FB1to1:L")
    #expect(try ModelSpec.parse("ide-fc", input: nmnist).notation == "2312-400-10+FB1to1:L")
    expectError(["one of: mlp, conv, spide-lenet, spide-convnet, ide-fc"]) {
      _ = try ModelSpec.parse("", input: mnist)
    }
  }

  @Test func inputShapeSources() throws {
    #expect(try ModelSpec.parse("2x34x34:12C5p1-AP2-64C5-AP2-10", input: nil).input == nmnist)
    expectError(["input prefix 2×34×34", "1×28×28"]) {
      _ = try ModelSpec.parse("2x34x34:12C5p1-AP2-10", input: mnist)
    }
    expectError(["model input shape", "CxHxW"]) {
      _ = try ModelSpec.parse("15C5-AP2-10", input: nil)
    }
    expectError(["input prefix '2x34'", "CxHxW"]) {
      _ = try ModelSpec.parse("2x34:15C5-10", input: nil)
    }
  }

  @Test func notationErrorsNameTheStage() {
    expectError(["--model", "'15X5' (stage 1", "a stage such as"]) {
      _ = try ModelSpec.parse("15X5-AP2-10", input: mnist, field: "--model")
    }
    expectError(["'AP2' (stage 3) after a linear layer"]) {
      _ = try ModelSpec.parse("15C5-300-AP2-10", input: mnist)
    }
    expectError(["stage 2 (AP8)", "pool window no larger than the input"]) {
      _ = try ModelSpec.parse("15C5s4-AP8-10", input: mnist)
    }
    expectError(["stage 1 (15C5p5)", "padding"]) {
      _ = try ModelSpec.parse("15C5p5-10", input: mnist)
    }
    expectError(["'15C5s2s3'"]) { _ = try ModelSpec.parse("15C5s2s3-10", input: mnist) }
    expectError(["'0'"]) { _ = try ModelSpec.parse("784-0-10", input: mnist) }
    expectError(["empty model"]) { _ = try ModelSpec.parse("  ", input: mnist) }
    expectError(["starts with a plain number"]) {
      _ = try ModelSpec.parse("784-15C5-10", input: mnist)
    }
    expectError(["at least one layer"]) { _ = try ModelSpec.parse("784", input: mnist) }
  }

  @Test func programmaticSpecsAreValidated() {
    let noFlatten = ModelSpec(input: mnist, stages: [.linear(outFeatures: 10)])
    expectError(["stage 1 (10)", "flatten"]) { try noFlatten.validate() }
    let convAfterFlatten = ModelSpec(
      input: mnist,
      stages: [
        .flatten, .linear(outFeatures: 10), .conv(outChannels: 1, kernel: 1, stride: 1, padding: 0),
      ])
    expectError(["stage 3", "after flatten"]) { try convAfterFlatten.validate() }
    let huge = ModelSpec(
      input: mnist,
      stages: [.flatten, .linear(outFeatures: 1 << 20), .linear(outFeatures: 1 << 20)])
    expectError(["stage 3", "at most"]) { try huge.validate() }
    let zero = ModelSpec(
      input: FeatureShape(channels: 0, height: 28, width: 28),
      stages: [.flatten, .linear(outFeatures: 10)])
    expectError(["model input", "channels"]) { try zero.validate() }
    expectError(["no stages"]) { try ModelSpec(input: mnist, stages: []).validate() }
  }

  @Test func jsonErrorsNameTheKeyPath() throws {
    let good = try ModelSpec.parse("15C5-AP2-10", input: mnist).json
    func mutated(_ edit: (inout [(key: String, value: JSONValue)]) -> Void) -> JSONValue {
      var members = good.objectMembers!
      edit(&members)
      return .object(members)
    }
    expectError(["model.stages[0].kernel", "an integer"]) {
      var stages = good["stages"]!.arrayValue!
      stages[0].set("kernel", "five")
      _ = try ModelSpec(json: mutated { $0[1].value = .array(stages) })
    }
    expectError(["key in model.stages[1]", "colour"]) {
      var stages = good["stages"]!.arrayValue!
      stages[1].set("colour", "red")
      _ = try ModelSpec(json: mutated { $0[1].value = .array(stages) })
    }
    expectError(["model.readout", "spiking"]) {
      _ = try ModelSpec(json: mutated { $0[3].value = "sometimes" })
    }
    expectError(["missing 'model.bias'"]) { _ = try ModelSpec(json: mutated { $0.remove(at: 4) }) }
    expectError(["model.input", "[channels, height, width]"]) {
      _ = try ModelSpec(json: mutated { $0[0].value = [1, 28] })
    }
    expectError(["stage 1 (15C40)", "kernel"]) {
      var stages = good["stages"]!.arrayValue!
      stages[0].set("kernel", 40)
      _ = try ModelSpec(json: mutated { $0[1].value = .array(stages) })
    }
  }
}
