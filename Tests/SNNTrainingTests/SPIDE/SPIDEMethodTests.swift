import SNNBase
import Testing

@testable import SNNEngine
@testable import SNNTraining

@Suite struct SPIDEMethodTests {
  static func configuration(
    _ notation: String, input: FeatureShape, T: Int, Tb: Int, batch: Int = 3, epochs: Int = 1,
    options: [(name: String, value: JSONValue)] = [], lr: Double = 0.1, seed: UInt64 = 4
  ) throws -> RunConfiguration {
    var model = try ModelSpec.parse(notation, input: input)
    model.readout = .linear
    let descriptor = SPIDEMethod.descriptor
    let values = try descriptor.resolveOptions(
      [("T-backward", JSONValue(Tb)), ("dropout-fc", JSONValue(0.0))] + options)
    return RunConfiguration(
      method: "spide", model: model, dataset: "synthetic", timeSteps: T, epochs: epochs,
      batchSize: batch, seed: seed,
      optimizer: OptimizerSettings(kind: .sgd, learningRate: lr, momentum: 0.9, weightDecay: 5e-4, schedule: .constant),
      methodOptions: values)
  }

  static func method(_ configuration: RunConfiguration, shape: SampleShape, classes: Int) throws -> SPIDEMethod {
    let analysis = try configuration.model.analyze()
    return try SPIDEMethod(
      MethodSetup(configuration: configuration, analysis: analysis, sampleShape: shape, classCount: classes))
  }

  static func randomBatch(_ shape: SampleShape, count: Int, classes: Int, seed: UInt64) -> Batch {
    var g = Xoshiro256StarStar(seed: seed)
    let inputs = (0..<(count * shape.elementCount)).map { _ in Float(g.nextUniform(-0.4, 2.8)) }
    let labels = (0..<count).map { _ in g.nextIndex(below: classes) }
    return Batch(sampleShape: shape, indices: Array(0..<count), inputs: inputs, labels: labels)
  }

  /// With zero feedback, SPIDE's gradient tends to ordinary backprop through the clipped-rate
  /// network as T and T_b grow (spec B8.5). Also checks every layout conversion (conv,
  /// pooling, flatten order, readout) against an independent PyTorch-layout reference.
  @Test func zeroFeedbackGradientApproachesBackprop() throws {
    let input = FeatureShape(channels: 1, height: 8, width: 8)
    let shape = SampleShape(feature: input)
    let notation = "4C3p1-AP2-6C3p1-12-5"
    var errors: [Double] = []
    for (T, Tb) in [(30, 100), (300, 1000), (3000, 3000)] {
      let configuration = try Self.configuration(notation, input: input, T: T, Tb: Tb, options: [("scale-factor", 1.5)])
      let method = try Self.method(configuration, shape: shape, classes: 5)
      // Biases that keep rates interior.
      for i in method.parameters.parameters.indices where method.parameters[i].name.hasSuffix(".bias") {
        for j in method.parameters[i].values.indices { method.parameters[i].values[j] = 0.3 }
      }
      let before = method.parameters
      let batch = Self.randomBatch(shape, count: 3, classes: 5, seed: 21)
      _ = try method.trainBatch(
        batch,
        context: StepContext(
          epoch: 0, epochs: 1, batchIndex: 0, batchesPerEpoch: 1, globalStep: 0, learningRate: 0.1,
          random: Xoshiro256StarStar(seed: 1)))
      let reference = ClippedRateReference(
        spec: configuration.model, analysis: try configuration.model.analyze(), q: 2
      ).gradients(before, inputs: batch.inputs, labels: batch.labels, scale: 1.5)
      var numerator = 0.0
      var denominator = 0.0
      for p in method.parameters.parameters {
        let r = reference[p.name]!
        for i in r.indices {
          let d = Double(p.gradients[i]) - r[i]
          numerator += d * d
          denominator += r[i] * r[i]
        }
      }
      errors.append((numerator / denominator).squareRoot())
    }
    print("SPIDE vs clipped-rate backprop, relative gradient error at (T, T_b) = (30, 100), (300, 1000), (3000, 3000):", errors)
    #expect(errors[0] > errors[1] && errors[1] > errors[2], "\(errors)")
    #expect(errors[2] < 0.03, "\(errors)")
  }
}
