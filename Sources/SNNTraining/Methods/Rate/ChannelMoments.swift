import SNNBase
import SNNTensor

/// Per-channel batch-normalization arithmetic on raw buffers laid out `[rows, C, inner]`
/// (rows = T·B or B, inner = H·W or 1): the moments, the normalization, and the backward
/// pass of rate-based backprop's straight-through BN. Sums run in `Double` per channel, as
/// in `BatchNorm`; channels are split over threads.
enum ChannelMoments {
  /// Mean and biased variance of every channel over its `rows·inner` values (two passes).
  static func compute(
    _ x: UnsafePointer<Float>, rows: Int, channels: Int, inner: Int,
    mean: inout [Float], variance: inout [Float]
  ) {
    precondition(rows * inner > 0, "batch statistics need at least one value per channel")
    mean = [Float](repeating: 0, count: channels)
    variance = [Float](repeating: 0, count: channels)
    let n = Double(rows * inner)
    let xb = UncheckedSendable(x)
    mean.withUnsafeMutableBufferPointer { m in
      variance.withUnsafeMutableBufferPointer { v in
        let mb = UncheckedSendable(m.baseAddress!), vb = UncheckedSendable(v.baseAddress!)
        Parallel.forEachChunk(count: channels) { _, range in
          for c in range {
            var s = 0.0
            for r in 0..<rows {
              let p = xb.value + (r * channels + c) * inner
              var rs: Float = 0
              for i in 0..<inner { rs += p[i] }
              s += Double(rs)
            }
            let mu = Float(s / n)
            var q = 0.0
            for r in 0..<rows {
              let p = xb.value + (r * channels + c) * inner
              var rq: Float = 0
              for i in 0..<inner {
                let d = p[i] - mu
                rq += d * d
              }
              q += Double(rq)
            }
            mb.value[c] = mu
            vb.value[c] = Float(q / n)
          }
        }
      }
    }
  }

  /// y = γ_c·k·(x − μ_c)·istd_c + β_c.
  static func normalize(
    _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int, channels: Int,
    inner: Int, mean: [Float], inverseStd: [Float], gamma: [Float], beta: [Float], scale: Float
  ) {
    let xb = UncheckedSendable(x), yb = UncheckedSendable(y)
    Parallel.forEachChunk(count: rows) { _, range in
      for r in range {
        for c in 0..<channels {
          let o = (r * channels + c) * inner
          let p = xb.value + o, q = yb.value + o
          let mu = mean[c], gk = gamma[c] * scale * inverseStd[c], b = beta[c]
          for i in 0..<inner { q[i] = gk * (p[i] - mu) + b }
        }
      }
    }
  }

  /// The backward pass of BN whose normalizing mean and variance *take the values* μ_s and
  /// σ_s² (statistics of the spike pass) but *differentiate as* the batch mean and biased
  /// variance of its own input c̄ (straight-through; Yu et al., NeurIPS 2024). With
  /// y = γk·(c̄ − m)/σ_s + β, x̂ = (c̄ − μ_s)/σ_s and N = rows·inner per channel:
  ///
  ///     ∂L/∂β += Σ δy,    ∂L/∂γ += k·Σ δy·x̂
  ///     ∂L/∂c̄ = (γk/σ_s)·[δy − Σδy/N − ((c̄ − mean(c̄))/σ_s)·Σ(δy·x̂)/N]
  ///
  /// which is the ordinary BN Jacobian when μ_s and σ_s² are the batch's own statistics.
  static func straightThroughBackward(
    input cbar: UnsafePointer<Float>, gradOutput gy: UnsafePointer<Float>,
    gradInput gx: UnsafeMutablePointer<Float>, rows: Int, channels: Int, inner: Int,
    mean: [Float], inverseStd: [Float], gamma: [Float], scale: Float,
    gradGamma: UnsafeMutablePointer<Float>, gradBeta: UnsafeMutablePointer<Float>
  ) {
    let n = Double(rows * inner)
    let cb = UncheckedSendable(cbar), gyb = UncheckedSendable(gy), gxb = UncheckedSendable(gx)
    var dGamma = [Float](repeating: 0, count: channels)
    var dBeta = [Float](repeating: 0, count: channels)
    dGamma.withUnsafeMutableBufferPointer { dg in
      dBeta.withUnsafeMutableBufferPointer { db in
        let dgb = UncheckedSendable(dg.baseAddress!), dbb = UncheckedSendable(db.baseAddress!)
        Parallel.forEachChunk(count: channels) { _, range in
          for c in range {
            let mu = mean[c], istd = inverseStd[c]
            var sumC = 0.0, sumG = 0.0, sumGX = 0.0
            for r in 0..<rows {
              let o = (r * channels + c) * inner
              let p = cb.value + o, g = gyb.value + o
              var a: Float = 0, b: Float = 0, d: Float = 0
              for i in 0..<inner {
                a += p[i]
                b += g[i]
                d += g[i] * (p[i] - mu) * istd
              }
              sumC += Double(a)
              sumG += Double(b)
              sumGX += Double(d)
            }
            dgb.value[c] = scale * Float(sumGX)
            dbb.value[c] = Float(sumG)
            let batchMean = Float(sumC / n)
            let meanG = Float(sumG / n), meanGX = Float(sumGX / n)
            let factor = gamma[c] * scale * istd
            for r in 0..<rows {
              let o = (r * channels + c) * inner
              let p = cb.value + o, g = gyb.value + o, q = gxb.value + o
              for i in 0..<inner {
                q[i] = factor * (g[i] - meanG - (p[i] - batchMean) * istd * meanGX)
              }
            }
          }
        }
      }
    }
    for c in 0..<channels {
      gradGamma[c] += dGamma[c]
      gradBeta[c] += dBeta[c]
    }
  }
}
