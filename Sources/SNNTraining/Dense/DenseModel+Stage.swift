import SNNBase
import SNNTensor

extension DenseModel {
  /// One stage of the spec compiled to dense layers.
  ///
  /// A `conv` or `linear` stage is a *weighted* stage: its synapses (`Conv2d` or `Linear`),
  /// then, unless it is the readout, an optional normalization and the spiking neurons.
  /// Pooling and flatten stages have no parameters and no neurons.
  public final class Stage {
    public enum Kind {
      case conv(Conv2d)
      case linear(Linear)
      case avgPool(AvgPool2d)
      case maxPool(MaxPool2d)
      case flatten
    }

    public let kind: Kind
    /// The index in ``ModelSpec/stages``.
    public let index: Int
    /// The layer (`ModelAnalysis.Layer`) of a weighted stage, else nil.
    public let layer: ModelAnalysis.Layer?
    /// The normalization between synapses and neurons (hidden weighted stages only).
    public let norm: BatchNorm?
    /// The neurons of a hidden weighted stage; nil for the readout and parameter-free stages.
    public let neuron: LIF?
    /// Per-sample, per-step shapes.
    public let input: FeatureShape
    public let output: FeatureShape

    init(
      kind: Kind, index: Int, layer: ModelAnalysis.Layer?, norm: BatchNorm?, neuron: LIF?,
      input: FeatureShape, output: FeatureShape
    ) {
      self.kind = kind
      self.index = index
      self.layer = layer
      self.norm = norm
      self.neuron = neuron
      self.input = input
      self.output = output
    }

    /// Whether this is the non-spiking linear readout.
    public var isReadout: Bool { layer?.isReadout ?? false }

    /// The synapses of a weighted stage as a `DenseLayer` (`Conv2d` or `Linear`).
    public var synapses: (any DenseLayer)? {
      switch kind {
      case .conv(let c): return c
      case .linear(let l): return l
      case .avgPool, .maxPool, .flatten: return nil
      }
    }

    /// Every layer of the stage in forward order (synapses, norm, neurons; or the pool).
    public var layers: [any DenseLayer] {
      switch kind {
      case .conv(let c):
        return [c as any DenseLayer] + (norm.map { [$0] } ?? []) + (neuron.map { [$0] } ?? [])
      case .linear(let l):
        return [l as any DenseLayer] + (norm.map { [$0] } ?? []) + (neuron.map { [$0] } ?? [])
      case .avgPool(let p): return [p]
      case .maxPool(let p): return [p]
      case .flatten: return []
      }
    }

    /// Sets the synapses' `computesInputGradient` (false for the first weighted stage).
    func setComputesInputGradient(_ value: Bool) {
      switch kind {
      case .conv(let c): c.computesInputGradient = value
      case .linear(let l): l.computesInputGradient = value
      case .avgPool, .maxPool, .flatten: break
      }
    }
  }
}
