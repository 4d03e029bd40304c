import SNNBase

/// Max pooling over k×k windows (stride s, no padding) of every `[H, W]` plane.
///
/// y = max_window x; the first maximum in row-major window order wins ties (so a window of
/// binary spikes routes its gradient to its first active input). Backward sends ∂L/∂y to
/// that argmax only. Max-pooled spikes are again binary.
public final class MaxPool2d: DenseLayer {
  public let name: String
  public let kernelSize: Int
  public let stride: Int
  public var isTraining = true
  var inputShape: [Int] = []
  var output = Tensor(shape: [0])
  var gradInput = Tensor(shape: [0])
  /// Flat index within its plane of each output's argmax.
  var argmax: [Int32] = []

  public init(name: String = "maxpool", kernelSize: Int, stride: Int? = nil) {
    precondition(kernelSize > 0 && (stride ?? kernelSize) > 0, "MaxPool2d: bad geometry")
    self.name = name
    self.kernelSize = kernelSize
    self.stride = stride ?? kernelSize
  }

  public func forward(_ input: Tensor) -> Tensor {
    precondition(input.rank >= 3, "\(name): expected [..., C, H, W], got \(input.shape)")
    let h = input.shape[input.rank - 2], w = input.shape[input.rank - 1]
    precondition(h >= kernelSize && w >= kernelSize, "\(name): input \(h)x\(w) smaller than kernel")
    let k = kernelSize, s = stride
    let oh = (h - k) / s + 1, ow = (w - k) / s + 1
    inputShape = input.shape
    output.prepare(shape: Array(input.shape.dropLast(2)) + [oh, ow])
    let planes = input.count / (h * w)
    if argmax.count != output.count { argmax = [Int32](repeating: 0, count: output.count) }
    input.withUnsafeBufferPointer { x in
      output.withUnsafeMutableBufferPointer { y in
        argmax.withUnsafeMutableBufferPointer { am in
          let xb = UncheckedSendable(x.baseAddress!), yb = UncheckedSendable(y.baseAddress!)
          let ab = UncheckedSendable(am.baseAddress!)
          Parallel.forEachChunk(count: planes) { _, range in
            for p in range {
              let src = xb.value + p * h * w, dst = yb.value + p * oh * ow
              let arg = ab.value + p * oh * ow
              if k == 2 && s == 2 {
                // The common 2×2 case: the first maximum in row-major window order wins.
                for oy in 0..<oh {
                  let top = 2 * oy * w, r0 = src + top, r1 = r0 + w
                  for ox in 0..<ow {
                    let i = 2 * ox
                    var best = r0[i], index = top + i
                    if r0[i + 1] > best {
                      best = r0[i + 1]
                      index = top + i + 1
                    }
                    if r1[i] > best {
                      best = r1[i]
                      index = top + w + i
                    }
                    if r1[i + 1] > best {
                      best = r1[i + 1]
                      index = top + w + i + 1
                    }
                    dst[oy * ow + ox] = best
                    arg[oy * ow + ox] = Int32(truncatingIfNeeded: index)
                  }
                }
                continue
              }
              for oy in 0..<oh {
                for ox in 0..<ow {
                  var best = -Float.infinity
                  var bestIndex = 0
                  for ky in 0..<k {
                    let base = (oy * s + ky) * w + ox * s
                    for kx in 0..<k where src[base + kx] > best {
                      best = src[base + kx]
                      bestIndex = base + kx
                    }
                  }
                  dst[oy * ow + ox] = best
                  arg[oy * ow + ox] = Int32(bestIndex)
                }
              }
            }
          }
        }
      }
    }
    return output
  }

  public func backward(_ gradOutput: Tensor) -> Tensor {
    precondition(gradOutput.shape == output.shape, "\(name): gradient shape \(gradOutput.shape)")
    let h = inputShape[inputShape.count - 2], w = inputShape[inputShape.count - 1]
    let outPlane = output.shape[output.rank - 2] * output.shape[output.rank - 1]
    gradInput.prepare(shape: inputShape)
    gradInput.fill(0)
    let planes = gradInput.count / (h * w)
    gradOutput.withUnsafeBufferPointer { g in
      gradInput.withUnsafeMutableBufferPointer { gx in
        argmax.withUnsafeBufferPointer { am in
          for p in 0..<planes {
            let src = g.baseAddress! + p * outPlane, dst = gx.baseAddress! + p * h * w
            let arg = am.baseAddress! + p * outPlane
            for o in 0..<outPlane { dst[Int(arg[o])] += src[o] }
          }
        }
      }
    }
    return gradInput
  }
}
