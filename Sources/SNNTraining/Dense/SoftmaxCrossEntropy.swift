import SNNBase
import SNNTensor

/// Softmax cross-entropy of a batch of logits, with the gradient of the batch mean.
///
/// For logits z `[B, K]` and labels y: p = softmax(z), ℓ_b = −log p_{b, y_b} (computed in
/// Double as log Σ_k e^{z_k − m} − (z_y − m), m = max_k z_k), and the loss is the mean over
/// the batch (PyTorch's `CrossEntropyLoss`), so ∂L/∂z_{b,k} = (p_{b,k} − 1[k = y_b]) / B.
/// A sample is correct when the label is the first index of the maximum logit.
public struct SoftmaxCrossEntropy {
  /// Σ_b ℓ_b (the trainer reports sums; the mean is `lossSum / B`).
  public var lossSum: Double
  public var correctCount: Int
  /// ∂(mean loss)/∂z, `[B, K]`.
  public var gradient: Tensor

  /// Evaluates the loss of `logits` (`[B, K]`) against `labels` (each in `0..<K`);
  /// `computeGradient: false` skips the gradient (evaluation).
  public init(logits: Tensor, labels: [Int], computeGradient: Bool = true) {
    precondition(logits.rank == 2 && logits.shape[0] == labels.count, "logits \(logits.shape)")
    let batch = logits.shape[0], classes = logits.shape[1]
    var loss = 0.0
    var correct = 0
    var gradient = Tensor(shape: computeGradient ? [batch, classes] : [0])
    let scale = 1 / Double(batch)
    logits.withUnsafeBufferPointer { z in
      gradient.withUnsafeMutableBufferPointer { g in
        var e = [Double](repeating: 0, count: classes)
        for b in 0..<batch {
          let row = z.baseAddress! + b * classes
          let y = labels[b]
          precondition(y >= 0 && y < classes, "label \(y) outside 0..<\(classes)")
          var best = 0
          for k in 1..<classes where row[k] > row[best] { best = k }
          if best == y { correct += 1 }
          let m = Double(row[best])
          var sum = 0.0
          for k in 0..<classes {
            e[k] = Math.exp(Double(row[k]) - m)
            sum += e[k]
          }
          loss += Math.log(sum) - (Double(row[y]) - m)
          if computeGradient {
            for k in 0..<classes {
              g[b * classes + k] = Float((e[k] / sum - (k == y ? 1 : 0)) * scale)
            }
          }
        }
      }
    }
    lossSum = loss
    correctCount = correct
    self.gradient = gradient
  }
}
