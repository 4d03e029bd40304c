import SNNBase

/// A network architecture, independent of any backend: the seam between the dense backend,
/// the event engine, checkpoints and the command line.
///
/// A spec is an input shape and an ordered list of stages. Every `conv` and `linear` stage
/// is a *layer*: it owns a weight (and a bias when ``bias`` is true) and, unless it is the
/// readout, a population of spiking neurons behind it. Layers are numbered from 1 in stage
/// order; their parameters are named after the number (`conv1.weight`, `fc3.bias`).
/// Pooling stages have no parameters and no neurons of their own (a method may add some).
///
/// Specs are usually written in the compact notation of the papers (see
/// ``parse(_:input:)``): `15C5-AP2-40C5-AP2-300-10`, `784-800-10`,
/// `64C5s2p2-64C5s2p2-64C5p2-10+FB3to1:T3s2p1o1`. The notation carries the stages and the
/// feedback connections; the input shape, the readout kind, the bias flag and the neuron
/// settings travel in the JSON form (``json``) and default to the values below.
///
/// A value of this type is not validated by construction; ``analyze()`` validates it and
/// infers every shape. ``parse(_:input:)`` and ``init(json:field:)`` validate before
/// returning.
public struct ModelSpec: Equatable, Sendable {
  /// One processing stage, applied to every time step.
  public enum Stage: Equatable, Sendable {
    /// 2-D convolution with square kernels: `out = ⌊(in + 2·padding − kernel)/stride⌋ + 1`
    /// per spatial axis; weight `[outChannels, inChannels, kernel, kernel]`.
    case conv(outChannels: Int, kernel: Int, stride: Int, padding: Int)
    /// Average pooling over non-overlapping `k × k` windows (stride k, floor).
    case avgPool(Int)
    /// Max pooling over non-overlapping `k × k` windows (stride k, floor).
    case maxPool(Int)
    /// Reshapes `C × H × W` to `C·H·W × 1 × 1`. Required exactly once, directly before the
    /// first `linear` stage; the notation inserts it implicitly.
    case flatten
    /// Fully connected layer with `outFeatures` outputs; weight `[outFeatures, inFeatures]`.
    case linear(outFeatures: Int)

    /// Whether the stage owns weights (and is therefore a numbered layer).
    public var isLayer: Bool {
      switch self {
      case .conv, .linear: return true
      case .avgPool, .maxPool, .flatten: return false
      }
    }
  }

  /// A recurrent connection from the spikes of one layer back to the input current of the
  /// same or an earlier layer, with a delay of one time step (SPIDE / IDE feedback nets):
  /// `I_to[t] += W_fb · s_from[t − 1]`.
  public struct Feedback: Equatable, Sendable {
    /// How the feedback weight maps the source layer's output onto the target layer's.
    public enum Kind: Equatable, Sendable {
      /// All-to-all: weight `[targetCount, sourceCount]` over the flattened shapes.
      case dense
      /// Convolution of the source output, producing the target's shape; weight
      /// `[targetChannels, sourceChannels, kernel, kernel]`.
      case conv(kernel: Int, stride: Int, padding: Int)
      /// Transposed convolution of the source output, producing the target's shape:
      /// `out = (in − 1)·stride − 2·padding + kernel + outputPadding`; weight
      /// `[sourceChannels, targetChannels, kernel, kernel]` (the PyTorch layout).
      case convTranspose(kernel: Int, stride: Int, padding: Int, outputPadding: Int)
    }

    /// The layer number (from 1) whose spikes feed back.
    public var from: Int
    /// The layer number (from 1, `to ≤ from`) whose input current receives the feedback.
    public var to: Int
    public var kind: Kind

    public init(from: Int, to: Int, kind: Kind) {
      self.from = from
      self.to = to
      self.kind = kind
    }
  }

  /// What the last layer is.
  public enum Readout: String, Sendable, CaseIterable {
    /// The last `linear` stage is a non-spiking classifier (logits, e.g. averaged over
    /// time). The default, and what "the last linear is the readout" means.
    case linear
    /// The last `linear` stage spikes like the hidden layers; the method decodes its spikes
    /// (e.g. EDBP's spike-count loss).
    case spiking
  }

  /// Neuron model settings, interpreted by the method and the backend it compiles to.
  ///
  /// `kind` names the model (`lif`, `if`, `srm`, …) and `parameters` its constants by their
  /// literature symbols in lowerCamelCase (`tauMem`, `vThreshold`, `lambda`). The spec only
  /// stores and round-trips them; each method documents and validates the ones it reads.
  public struct NeuronSettings: Equatable, Sendable {
    public var kind: String
    public var parameters: [String: Double]

    public init(kind: String = "lif", parameters: [String: Double] = [:]) {
      self.kind = kind
      self.parameters = parameters
    }

    /// The parameter `name`, or `defaultValue` when absent.
    public func value(_ name: String, default defaultValue: Double) -> Double {
      parameters[name] ?? defaultValue
    }
  }

  /// The shape of one input sample at one time step (e.g. `1×28×28` for MNIST, `2×34×34`
  /// for N-MNIST frames).
  public var input: FeatureShape
  public var stages: [Stage]
  public var feedbacks: [Feedback]
  public var readout: Readout
  /// Whether `conv` and `linear` layers have a bias (feedback connections never do).
  public var bias: Bool
  public var neuron: NeuronSettings

  public init(
    input: FeatureShape, stages: [Stage], feedbacks: [Feedback] = [],
    readout: Readout = .linear, bias: Bool = true, neuron: NeuronSettings = NeuronSettings()
  ) {
    self.input = input
    self.stages = stages
    self.feedbacks = feedbacks
    self.readout = readout
    self.bias = bias
    self.neuron = neuron
  }
}

// MARK: - Presets

extension ModelSpec {
  /// Named architectures accepted wherever a notation is (`--model mlp`).
  ///
  /// - `mlp`: `784-800-10` on 28×28 inputs; in general `N-800-10` with N = C·H·W of the
  ///   input (2312 for N-MNIST).
  /// - `conv`: `15C5-AP2-40C5-AP2-300-10` (the LeNet-style net of Zhu et al. 2022).
  /// - `spide-lenet`: `15C5p2-AP2-40C5p2-AP2-300-10`, SPIDE's LeNet-like MNIST net (the same
  ///   with "same" padding; the `spide` method's default).
  /// - `spide-convnet`: `64C5s2p2-64C5s2p2-64C5p2-10+FB3to1:T3s2p1o1`, SPIDE's MNIST convnet
  ///   with its transposed-convolution feedback from the last spiking layer to the first.
  /// - `ide-fc`: `N-400-10+FB1to1:L`, IDE's fully connected feedback net (Fashion-MNIST).
  public static let presetNames = ["mlp", "conv", "spide-lenet", "spide-convnet", "ide-fc"]

  /// The notation of preset `name` for an input of `input`, or nil when `name` is not a
  /// preset.
  public static func presetNotation(_ name: String, input: FeatureShape) -> String? {
    switch name {
    case "mlp": return "\(input.elementCount)-800-10"
    case "conv": return "15C5-AP2-40C5-AP2-300-10"
    case "spide-lenet": return "15C5p2-AP2-40C5p2-AP2-300-10"
    case "spide-convnet": return "64C5s2p2-64C5s2p2-64C5p2-10+FB3to1:T3s2p1o1"
    case "ide-fc": return "\(input.elementCount)-400-10+FB1to1:L"
    default: return nil
    }
  }
}
