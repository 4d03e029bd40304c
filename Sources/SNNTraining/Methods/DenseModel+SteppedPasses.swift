import SNNBase
import SNNTensor

/// Helpers for methods that drive ``DenseModel``'s layers themselves, one time step (or one
/// layer) at a time, instead of calling ``DenseModel/forward(_:)`` over all T steps: the
/// rate-based spike pass and the online methods (OTTT, NDOT).
extension DenseModel {
  /// The indices in ``stages`` of the hidden weighted stages (those with neurons).
  var hiddenStageIndices: [Int] { stages.indices.filter { stages[$0].neuron != nil } }

  /// The index of the readout stage.
  var readoutStageIndex: Int { stages.lastIndex { $0.isReadout }! }

  /// The product of the kernel sizes of the average pools between the previous weighted
  /// stage and stage `index` (1 when there are none): the `poolFactor` of
  /// ``countSynapses(layer:input:isStatic:knownOnes:poolFactor:into:)``.
  func poolFactor(beforeStage index: Int) -> Int {
    var factor = 1
    var i = index - 1
    while i >= 0 {
      switch stages[i].kind {
      case .conv, .linear: return factor
      case .avgPool(let pool): factor *= pool.kernelSize
      case .maxPool, .flatten: break
      }
      i -= 1
    }
    return factor
  }

  /// Adds the synaptic work of `layer` on `input` to `counter`, for an input that stands for
  /// `steps` time steps of `batch` samples (the conventions listed at
  /// ``countSynapses(layer:input:isStatic:knownOnes:poolFactor:into:)``, which calls this for
  /// a whole forward pass; the stepped methods call it per step): a static image counts `macsPerStep·batch·steps` MACs; binary spikes
  /// one accumulate per active input and target; average-pooled spikes (`poolFactor` > 1)
  /// the spikes routed through the pool; any other analog input `macsPerStep` MACs per
  /// sample and step. `spikeValue` is the value a spike carries when a method scales its
  /// spikes by a constant (NDOT/OTTT's spike scale): such spikes are still spikes (the
  /// constant folds into the weights), counted as accumulates.
  func countSynapticWork(
    layer: ModelAnalysis.Layer, input: Tensor, isStatic: Bool, steps: Int, batch: Int,
    poolFactor: Int = 1, spikeValue: Float = 1, into counter: inout SynOpCounter
  ) {
    let index = layer.number - 1
    if !isStatic {
      let coverage: [Int]
      let targetsPerPosition: Int
      switch layer.kind {
      case .linear:
        coverage = [1]
        targetsPerPosition = layer.output.elementCount
      case .conv(let kernel, let stride, let padding):
        coverage = DenseModel.coverage(
          height: layer.input.height, width: layer.input.width, outHeight: layer.output.height,
          outWidth: layer.output.width, kernel: kernel, stride: stride, padding: padding)
        targetsPerPosition = layer.output.channels
      }
      if poolFactor == 1 && spikeValue == 1 {
        let reached =
          coverage == [1] ? input.binaryCount : DenseModel.binaryCoverageCount(input, coverage: coverage)
        if let reached {
          counter.addAccumulates(reached * targetsPerPosition, layer: index)
          return
        }
      } else if let reached = DenseModel.pooledCoverageCount(
        input, coverage: coverage, window: poolFactor * poolFactor, unit: spikeValue)
      {
        counter.addAccumulates(reached * targetsPerPosition, layer: index)
        return
      }
    }
    counter.addMultiplyAccumulates(layer.macsPerStep * batch * steps, layer: index)
  }

  /// Frame `t` of every sample of a sample-major batch `[B, T, C, H, W]`, as `[B, C, H, W]`
  /// written into `frame`.
  static func gatherFrame(
    _ t: Int, of inputs: [Float], batch: Int, frames: Int, feature: FeatureShape,
    into frame: inout Tensor
  ) {
    let f = feature.elementCount
    frame.prepare(shape: [batch, feature.channels, feature.height, feature.width])
    inputs.withUnsafeBufferPointer { src in
      frame.withUnsafeMutableBufferPointer { dst in
        for b in 0..<batch {
          (dst.baseAddress! + b * f).update(from: src.baseAddress! + (b * frames + t) * f, count: f)
        }
      }
    }
  }

  /// The mean over frames of every sample of `[B, T, C, H, W]`, as `[B, C, H, W]`.
  static func meanFrame(
    of inputs: [Float], batch: Int, frames: Int, feature: FeatureShape
  ) -> Tensor {
    let f = feature.elementCount
    var mean = Tensor(shape: [batch, feature.channels, feature.height, feature.width])
    let scale = 1 / Float(frames)
    inputs.withUnsafeBufferPointer { src in
      mean.withUnsafeMutableBufferPointer { dst in
        for b in 0..<batch {
          let d = dst.baseAddress! + b * f
          for t in 0..<frames {
            let s = src.baseAddress! + (b * frames + t) * f
            for i in 0..<f { d[i] += s[i] }
          }
          for i in 0..<f { d[i] *= scale }
        }
      }
    }
    return mean
  }
}

extension DenseModel.Stage {
  /// `Linear`/`Conv2d.releaseCachedInput()` of a weighted stage.
  func releaseSynapseInput() {
    switch kind {
    case .conv(let c): c.releaseCachedInput()
    case .linear(let l): l.releaseCachedInput()
    case .avgPool, .maxPool, .flatten: break
    }
  }

  /// `Linear`/`Conv2d.replaceCachedInput(_:)` of a weighted stage.
  func replaceSynapseInput(_ input: Tensor) {
    switch kind {
    case .conv(let c): c.replaceCachedInput(input)
    case .linear(let l): l.replaceCachedInput(input)
    case .avgPool, .maxPool, .flatten: break
    }
  }

  /// Per-sample output shape `[C, H, W]` (conv) or `[N]` (linear).
  var sampleOutputShape: [Int] {
    if case .conv = kind { return [output.channels, output.height, output.width] }
    return [output.elementCount]
  }

  /// Channels of the output and values per channel (H·W for conv, 1 for linear).
  var outputChannelLayout: (channels: Int, inner: Int) {
    if case .conv = kind { return (output.channels, output.height * output.width) }
    return (output.elementCount, 1)
  }
}
