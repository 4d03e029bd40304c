import SNNBase

/// Per-channel batch normalization for time-major tensors `[T, B, C, …]` (`[T, B, N]`
/// normalizes each of the N features).
///
/// Training: y = γ·k·x̂ + β with x̂ = (x − μ)/√(σ² + ε), μ and σ² the batch mean and biased
/// variance of the channel; k = 1 for plain BN. Running statistics follow PyTorch:
/// r ← (1 − m)·r + m·batch, with the unbiased variance σ²·n/(n − 1). Evaluation uses the
/// running statistics.
///
/// Statistics scope:
/// - ``Statistics/acrossTime``: over T·B·H·W per channel (SpikingJelly's
///   `SeqToANNContainer(BatchNorm2d)`, and tdBN);
/// - ``Statistics/perStep``: separately for each t over B·H·W (BN applied step by step; the
///   running statistics are updated once per step, in step order).
///
/// **tdBN** (Zheng et al., "Going Deeper With Directly-Trained Larger Spiking Neural
/// Networks", AAAI 2021; used by LSG): statistics across time and k = η·V_th, so that
/// Î = η·V_th·(I − E[I])/√(Var[I] + ε) and Ī = γ·Î + β (η = 1, or 1/√2 before residual
/// additions). See ``thresholdDependent(name:channelCount:vThreshold:eta:)``.
public final class BatchNorm: DenseLayer {
  public enum Statistics: String, Sendable, Hashable, CaseIterable {
    case acrossTime
    case perStep
  }

  public let name: String
  public let channelCount: Int
  public let statistics: Statistics
  public let epsilon: Float
  public let momentum: Float
  /// k in y = γ·k·x̂ + β (η·V_th for tdBN).
  public var scale: Float
  /// γ, `[C]`, initialized to 1.
  public let gamma: Parameter
  /// β, `[C]`, initialized to 0.
  public let beta: Parameter
  public var runningMean: Tensor
  public var runningVariance: Tensor
  public var isTraining = true

  var normalized = Tensor(shape: [0])
  var output = Tensor(shape: [0])
  var gradInput = Tensor(shape: [0])
  /// 1/√(σ² + ε) per (group, channel) of the last forward.
  var inverseStd: [Float] = []
  var usedBatchStatistics = true

  public init(
    name: String = "bn", channelCount: Int, statistics: Statistics = .acrossTime,
    epsilon: Float = 1e-5, momentum: Float = 0.1, scale: Float = 1
  ) {
    precondition(channelCount > 0, "BatchNorm needs channels")
    precondition(epsilon > 0 && momentum >= 0 && momentum <= 1, "BatchNorm: bad epsilon/momentum")
    self.name = name
    self.channelCount = channelCount
    self.statistics = statistics
    self.epsilon = epsilon
    self.momentum = momentum
    self.scale = scale
    gamma = Parameter(
      name: name + ".gamma", role: .normalization,
      value: Tensor(shape: [channelCount], repeating: 1))
    beta = Parameter(
      name: name + ".beta", role: .normalization, value: Tensor(shape: [channelCount]))
    runningMean = Tensor(shape: [channelCount])
    runningVariance = Tensor(shape: [channelCount], repeating: 1)
  }

  /// tdBN: statistics across time, output scaled by η·V_th.
  public static func thresholdDependent(
    name: String = "tdbn", channelCount: Int, vThreshold: Float, eta: Float = 1
  ) -> BatchNorm {
    BatchNorm(
      name: name, channelCount: channelCount, statistics: .acrossTime, scale: eta * vThreshold)
  }

  public var parameters: [Parameter] { [gamma, beta] }

  /// (steps, batch, inner) of a `[T, B, C, …]` input.
  private func layout(_ shape: [Int]) -> (Int, Int, Int) {
    precondition(
      shape.count >= 3 && shape[2] == channelCount,
      "\(name): expected [T, B, \(channelCount), ...], got \(shape)")
    return (shape[0], shape[1], shape.dropFirst(3).reduce(1, *))
  }

  public func forward(_ input: Tensor) -> Tensor {
    let (steps, batch, inner) = layout(input.shape)
    let c = channelCount
    let groups = statistics == .perStep ? steps : 1
    let stepsPerGroup = steps / groups
    let n = stepsPerGroup * batch * inner
    usedBatchStatistics = isTraining
    if isTraining {
      precondition(n > 1, "\(name): batch statistics need more than one value per channel")
    }
    normalized.prepare(shape: input.shape)
    output.prepare(shape: input.shape)
    if inverseStd.count != groups * c { inverseStd = [Float](repeating: 0, count: groups * c) }
    if inner == 1 {
      forwardFeatures(input, groups: groups, rows: stepsPerGroup * batch)
      return output
    }
    let eps = epsilon, m = momentum, k = scale, training = isTraining
    let g = gamma.value.scalars, b = beta.value.scalars
    input.withUnsafeBufferPointer { xs in
      normalized.withUnsafeMutableBufferPointer { xh in
        output.withUnsafeMutableBufferPointer { ys in
          runningMean.withUnsafeMutableBufferPointer { rm in
            runningVariance.withUnsafeMutableBufferPointer { rv in
              inverseStd.withUnsafeMutableBufferPointer { istd in
                let x = UncheckedSendable(xs.baseAddress!),
                  xhat = UncheckedSendable(xh.baseAddress!)
                let y = UncheckedSendable(ys.baseAddress!), rmp = UncheckedSendable(rm.baseAddress!)
                let rvp = UncheckedSendable(rv.baseAddress!),
                  isp = UncheckedSendable(istd.baseAddress!)
                Parallel.forEachChunk(count: c) { _, channels in
                  for ch in channels {
                    for grp in 0..<groups {
                      let t0 = grp * stepsPerGroup
                      // Rows of `inner` contiguous values: (t, b) pairs of this group.
                      @inline(__always) func row(_ r: Int) -> Int {
                        let t = t0 + r / batch, bi = r % batch
                        return ((t * batch + bi) * c + ch) * inner
                      }
                      let rows = stepsPerGroup * batch
                      var mean: Float, variance: Float
                      if training {
                        var s: Double = 0
                        for r in 0..<rows {
                          s += Double(RowOps.sum(x.value + row(r), count: inner))
                        }
                        let mu = s / Double(n)
                        var q: Double = 0
                        let muF = Float(mu)
                        for r in 0..<rows {
                          q += Double(
                            RowOps.squaredDeviations(x.value + row(r), count: inner, mean: muF))
                        }
                        mean = muF
                        variance = Float(q / Double(n))
                        rmp.value[ch] = (1 - m) * rmp.value[ch] + m * mean
                        rvp.value[ch] =
                          (1 - m) * rvp.value[ch] + m * variance * Float(n) / Float(n - 1)
                      } else {
                        mean = rmp.value[ch]
                        variance = rvp.value[ch]
                      }
                      let inv = 1 / (variance + eps).squareRoot()
                      isp.value[grp * c + ch] = inv
                      let gk = g[ch] * k, bb = b[ch]
                      for r in 0..<rows {
                        let o = row(r)
                        let p = x.value + o, h = xhat.value + o, q = y.value + o
                        for i in 0..<inner {
                          let v = (p[i] - mean) * inv
                          h[i] = v
                          q[i] = gk * v + bb
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    return output
  }

  /// Accumulates ∂L/∂γ = k·Σ g·x̂, ∂L/∂β = Σ g and returns
  /// ∂L/∂x = (γk/√(σ²+ε))·(g − mean(g) − x̂·mean(g·x̂)) in training mode, or
  /// g·γk/√(σ²+ε) with the running statistics in evaluation mode.
  public func backward(_ gradOutput: Tensor) -> Tensor {
    precondition(gradOutput.shape == output.shape, "\(name): gradient shape \(gradOutput.shape)")
    let (steps, batch, inner) = layout(gradOutput.shape)
    let c = channelCount
    let groups = inverseStd.count / c
    let stepsPerGroup = steps / groups
    let n = Float(stepsPerGroup * batch * inner)
    let k = scale, batchStats = usedBatchStatistics
    let g = gamma.value.scalars
    gradInput.prepare(shape: gradOutput.shape)
    if inner == 1 {
      backwardFeatures(gradOutput, groups: groups, rows: stepsPerGroup * batch)
      return gradInput
    }
    var dGamma = [Float](repeating: 0, count: c), dBeta = [Float](repeating: 0, count: c)
    gradOutput.withUnsafeBufferPointer { gs in
      normalized.withUnsafeBufferPointer { xh in
        gradInput.withUnsafeMutableBufferPointer { gxs in
          dGamma.withUnsafeMutableBufferPointer { dg in
            dBeta.withUnsafeMutableBufferPointer { db in
              let gy = UncheckedSendable(gs.baseAddress!), xhat = UncheckedSendable(xh.baseAddress!)
              let gx = UncheckedSendable(gxs.baseAddress!), dgp = UncheckedSendable(dg.baseAddress!)
              let dbp = UncheckedSendable(db.baseAddress!)
              let istd = inverseStd
              Parallel.forEachChunk(count: c) { _, channels in
                for ch in channels {
                  for grp in 0..<groups {
                    let t0 = grp * stepsPerGroup
                    @inline(__always) func row(_ r: Int) -> Int {
                      let t = t0 + r / batch, bi = r % batch
                      return ((t * batch + bi) * c + ch) * inner
                    }
                    let rows = stepsPerGroup * batch
                    var sumG: Double = 0, sumGX: Double = 0
                    for r in 0..<rows {
                      let o = row(r)
                      let (a, bsum) = RowOps.sumAndDot(gy.value + o, xhat.value + o, count: inner)
                      sumG += Double(a)
                      sumGX += Double(bsum)
                    }
                    dgp.value[ch] += k * Float(sumGX)
                    dbp.value[ch] += Float(sumG)
                    let factor = g[ch] * k * istd[grp * c + ch]
                    let meanG = Float(sumG) / n, meanGX = Float(sumGX) / n
                    for r in 0..<rows {
                      let o = row(r)
                      let p = gy.value + o, h = xhat.value + o, q = gx.value + o
                      if batchStats {
                        for i in 0..<inner { q[i] = factor * (p[i] - meanG - h[i] * meanGX) }
                      } else {
                        for i in 0..<inner { q[i] = factor * p[i] }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    gamma.gradient.withUnsafeMutableBufferPointer { d in for i in 0..<c { d[i] += dGamma[i] } }
    beta.gradient.withUnsafeMutableBufferPointer { d in for i in 0..<c { d[i] += dBeta[i] } }
    return gradInput
  }

  // MARK: Features (inner = 1)

  /// Forward for `[T, B, C]` (one value per channel and row): the channels of a row are
  /// contiguous, so rows are swept in order with the channel loop innermost (vectorized)
  /// and threads take channel ranges. The arithmetic is the general path's for inner = 1
  /// (Float differences, Double sums in row order), so the results are the same.
  private func forwardFeatures(_ input: Tensor, groups: Int, rows: Int) {
    let c = channelCount
    let eps = epsilon, m = momentum, k = scale, training = isTraining
    let n = rows
    input.withUnsafeBufferPointer { xs in
      normalized.withUnsafeMutableBufferPointer { xh in
        output.withUnsafeMutableBufferPointer { ys in
          runningMean.withUnsafeMutableBufferPointer { rm in
            runningVariance.withUnsafeMutableBufferPointer { rv in
              inverseStd.withUnsafeMutableBufferPointer { istd in
                gamma.value.withUnsafeBufferPointer { gv in
                  beta.value.withUnsafeBufferPointer { bv in
                    let x = UncheckedSendable(xs.baseAddress!)
                    let xhat = UncheckedSendable(xh.baseAddress!),
                      y = UncheckedSendable(ys.baseAddress!)
                    let rmp = UncheckedSendable(rm.baseAddress!),
                      rvp = UncheckedSendable(rv.baseAddress!)
                    let isp = UncheckedSendable(istd.baseAddress!)
                    let gp = UncheckedSendable(gv.baseAddress!),
                      bp = UncheckedSendable(bv.baseAddress!)
                    let chunks = Swift.max(1, Swift.min(Parallel.defaultThreads, c / 64))
                    Parallel.forEachChunk(count: c, chunks: chunks) { _, channels in
                      let lo = channels.lowerBound, width = channels.count
                      var mean = [Float](repeating: 0, count: width)
                      var sums = [Double](repeating: 0, count: width)
                      for grp in 0..<groups {
                        let base = x.value + grp * rows * c + lo
                        if training {
                          for j in 0..<width { sums[j] = 0 }
                          for r in 0..<rows {
                            let p = base + r * c
                            for j in 0..<width { sums[j] += Double(p[j]) }
                          }
                          for j in 0..<width { mean[j] = Float(sums[j] / Double(n)) }
                          for j in 0..<width { sums[j] = 0 }
                          for r in 0..<rows {
                            let p = base + r * c
                            for j in 0..<width {
                              let d = p[j] - mean[j]
                              sums[j] += Double(d * d)
                            }
                          }
                          for j in 0..<width {
                            let ch = lo + j
                            let variance = Float(sums[j] / Double(n))
                            rmp.value[ch] = (1 - m) * rmp.value[ch] + m * mean[j]
                            rvp.value[ch] =
                              (1 - m) * rvp.value[ch] + m * variance * Float(n) / Float(n - 1)
                            isp.value[grp * c + ch] = 1 / (variance + eps).squareRoot()
                          }
                        } else {
                          for j in 0..<width {
                            let ch = lo + j
                            mean[j] = rmp.value[ch]
                            isp.value[grp * c + ch] = 1 / (rvp.value[ch] + eps).squareRoot()
                          }
                        }
                        let inv = isp.value + grp * c + lo
                        let g = gp.value + lo, b = bp.value + lo
                        for r in 0..<rows {
                          let o = grp * rows * c + r * c + lo
                          let p = x.value + o, h = xhat.value + o, q = y.value + o
                          for j in 0..<width {
                            let v = (p[j] - mean[j]) * inv[j]
                            h[j] = v
                            q[j] = g[j] * k * v + b[j]
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  /// Backward for `[T, B, C]` (see ``forwardFeatures(_:groups:rows:)``).
  private func backwardFeatures(_ gradOutput: Tensor, groups: Int, rows: Int) {
    let c = channelCount
    let n = Float(rows)
    let k = scale, batchStats = usedBatchStatistics
    gradOutput.withUnsafeBufferPointer { gs in
      normalized.withUnsafeBufferPointer { xh in
        gradInput.withUnsafeMutableBufferPointer { gxs in
          gamma.value.withUnsafeBufferPointer { gv in
            gamma.gradient.withUnsafeMutableBufferPointer { dgv in
              beta.gradient.withUnsafeMutableBufferPointer { dbv in
                inverseStd.withUnsafeBufferPointer { istd in
                  let gy = UncheckedSendable(gs.baseAddress!),
                    xhat = UncheckedSendable(xh.baseAddress!)
                  let gx = UncheckedSendable(gxs.baseAddress!),
                    gp = UncheckedSendable(gv.baseAddress!)
                  let dgp = UncheckedSendable(dgv.baseAddress!),
                    dbp = UncheckedSendable(dbv.baseAddress!)
                  let isp = UncheckedSendable(istd.baseAddress!)
                  let chunks = Swift.max(1, Swift.min(Parallel.defaultThreads, c / 64))
                  Parallel.forEachChunk(count: c, chunks: chunks) { _, channels in
                    let lo = channels.lowerBound, width = channels.count
                    var sumG = [Double](repeating: 0, count: width)
                    var sumGX = [Double](repeating: 0, count: width)
                    var meanG = [Float](repeating: 0, count: width)
                    var meanGX = [Float](repeating: 0, count: width)
                    var factor = [Float](repeating: 0, count: width)
                    for grp in 0..<groups {
                      for j in 0..<width {
                        sumG[j] = 0
                        sumGX[j] = 0
                      }
                      for r in 0..<rows {
                        let o = grp * rows * c + r * c + lo
                        let p = gy.value + o, h = xhat.value + o
                        for j in 0..<width {
                          sumG[j] += Double(p[j])
                          sumGX[j] += Double(p[j] * h[j])
                        }
                      }
                      for j in 0..<width {
                        let ch = lo + j
                        dgp.value[ch] += k * Float(sumGX[j])
                        dbp.value[ch] += Float(sumG[j])
                        factor[j] = gp.value[ch] * k * isp.value[grp * c + ch]
                        meanG[j] = Float(sumG[j]) / n
                        meanGX[j] = Float(sumGX[j]) / n
                      }
                      for r in 0..<rows {
                        let o = grp * rows * c + r * c + lo
                        let p = gy.value + o, h = xhat.value + o, q = gx.value + o
                        if batchStats {
                          for j in 0..<width {
                            q[j] = factor[j] * (p[j] - meanG[j] - h[j] * meanGX[j])
                          }
                        } else {
                          for j in 0..<width { q[j] = factor[j] * p[j] }
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}
