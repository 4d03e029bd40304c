import SNNBase

/// Inverted dropout: in training, each value is kept with probability 1 − p and scaled by
/// 1/(1 − p), else zeroed; in evaluation it is the identity.
///
/// - Standard: an independent mask per element of `[T, B, …]`.
/// - Variational (per-sequence): one mask `[B, …]` drawn per forward and shared by all T
///   steps, so a dropped unit stays dropped for the whole sequence (the behaviour of
///   SpikingJelly's multi-step dropout; Gal & Ghahramani, NeurIPS 2016).
///
/// Masks come from the layer's own seeded generator (one `nextUnitFloat()` draw per mask
/// element, in row-major order); its state is ``generator``, so checkpoints can save and
/// restore it for bit-identical resumption.
public final class Dropout: DenseLayer {
  public let name: String
  /// p, the drop probability in [0, 1).
  public let probability: Float
  public let variational: Bool
  public var isTraining = true
  public var generator: Xoshiro256StarStar
  var mask = Tensor(shape: [0])
  var active = false
  var output = Tensor(shape: [0])
  var gradInput = Tensor(shape: [0])

  public init(name: String = "dropout", probability: Float, variational: Bool = false, seed: UInt64)
  {
    precondition(probability >= 0 && probability < 1, "Dropout: p must be in [0, 1)")
    self.name = name
    self.probability = probability
    self.variational = variational
    generator = Xoshiro256StarStar(seed: seed)
  }

  /// The mask of the last training forward (`[T, B, …]`, or `[B, …]` when variational).
  public var lastMask: Tensor { mask }

  public func forward(_ input: Tensor) -> Tensor {
    active = isTraining && probability > 0
    guard active else { return input }
    precondition(input.rank >= 1, "\(name): expected a time-major tensor")
    let maskShape = variational ? Array(input.shape.dropFirst()) : input.shape
    mask.prepare(shape: maskShape)
    let keep = 1 / (1 - probability), p = probability
    mask.withUnsafeMutableBufferPointer { m in
      for i in 0..<m.count { m[i] = generator.nextUnitFloat() < p ? 0 : keep }
    }
    output.prepare(shape: input.shape)
    apply(input, into: &output)
    return output
  }

  private func apply(_ x: Tensor, into y: inout Tensor) {
    let n = mask.count
    x.withUnsafeBufferPointer { xs in
      mask.withUnsafeBufferPointer { m in
        y.withUnsafeMutableBufferPointer { ys in
          var base = 0
          while base < xs.count {
            for i in 0..<n { ys[base + i] = xs[base + i] * m[i] }
            base += n
          }
        }
      }
    }
  }

  public func backward(_ gradOutput: Tensor) -> Tensor {
    guard active else { return gradOutput }
    precondition(gradOutput.shape == output.shape, "\(name): gradient shape \(gradOutput.shape)")
    gradInput.prepare(shape: gradOutput.shape)
    apply(gradOutput, into: &gradInput)
    return gradInput
  }
}
