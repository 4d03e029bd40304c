import SNNBase
import SNNTensor

/// The per-step loss of OTTT and NDOT: for the readout o[t] (`[B, K]`) of step t of T,
///
///     L[t] = [(1 − α)·CE(o[t], y) + α·MSE(o[t], onehot(y))] / T
///
/// with CE the batch-mean softmax cross-entropy and MSE the mean over B×K of the squared
/// error, so that Σ_t L[t] = (1/T)·Σ_t ℓ(o[t]). The gradient of the batch mean is
///
///     ∂L[t]/∂o = [(1 − α)·(p − y)/B + α·2·(o − y)/(B·K)] / T.
///
/// ``lossSum`` is the sum over the batch of the per-sample losses (the trainer's
/// convention): Σ_b [(1 − α)·ℓ_b + α·(1/K)·Σ_k (o_bk − y_bk)²] / T. The code defaults
/// α = 0.05 (CIFAR) and 0.001 (DVS).
public struct MixedStepLoss {
  public var lossSum: Double
  /// ∂L[t]/∂o[t], `[B, K]` (empty when not computed).
  public var gradient: Tensor

  /// - Parameters:
  ///   - alpha: the MSE weight α in [0, 1].
  ///   - steps: T, the divisor of every step's loss.
  public init(logits: Tensor, labels: [Int], alpha: Double, steps: Int, computeGradient: Bool = true)
  {
    precondition(logits.rank == 2 && logits.shape[0] == labels.count, "logits \(logits.shape)")
    precondition(alpha >= 0 && alpha <= 1 && steps >= 1)
    let batch = logits.shape[0], classes = logits.shape[1]
    var gradient = Tensor(shape: computeGradient ? [batch, classes] : [0])
    var loss = 0.0
    let ceScale = (1 - alpha) / Double(batch * steps)
    let mseScale = alpha * 2 / Double(batch * classes * steps)
    logits.withUnsafeBufferPointer { z in
      gradient.withUnsafeMutableBufferPointer { g in
        var e = [Double](repeating: 0, count: classes)
        for b in 0..<batch {
          let row = z.baseAddress! + b * classes
          let y = labels[b]
          precondition(y >= 0 && y < classes, "label \(y) outside 0..<\(classes)")
          var m = Double(row[0])
          for k in 1..<classes { m = max(m, Double(row[k])) }
          var sum = 0.0
          for k in 0..<classes {
            e[k] = Math.exp(Double(row[k]) - m)
            sum += e[k]
          }
          let ce = Math.log(sum) - (Double(row[y]) - m)
          var squares = 0.0
          for k in 0..<classes {
            let d = Double(row[k]) - (k == y ? 1 : 0)
            squares += d * d
          }
          loss += ((1 - alpha) * ce + alpha * squares / Double(classes)) / Double(steps)
          if computeGradient {
            for k in 0..<classes {
              let target: Double = k == y ? 1 : 0
              g[b * classes + k] = Float(
                ceScale * (e[k] / sum - target) + mseScale * (Double(row[k]) - target))
            }
          }
        }
      }
    }
    lossSum = loss
    self.gradient = gradient
  }
}
