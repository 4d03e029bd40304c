import SNNBase

/// Average pooling over k×k windows (stride s, no padding) of every `[H, W]` plane:
/// y = (1/k²)·Σ_window x; backward spreads ∂L/∂y/k² over the window.
///
/// Input `[…, C, H, W]`, output `[…, C, H_out, W_out]`, H_out = ⌊(H − k)/s⌋ + 1. Average
/// pooling commutes with time averaging (used by rate-based backprop).
public final class AvgPool2d: DenseLayer {
  public let name: String
  public let kernelSize: Int
  public let stride: Int
  public var isTraining = true
  var inputShape: [Int] = []
  var output = Tensor(shape: [0])
  var gradInput = Tensor(shape: [0])

  public init(name: String = "avgpool", kernelSize: Int, stride: Int? = nil) {
    precondition(kernelSize > 0 && (stride ?? kernelSize) > 0, "AvgPool2d: bad geometry")
    self.name = name
    self.kernelSize = kernelSize
    self.stride = stride ?? kernelSize
  }

  func outputSize(_ h: Int, _ w: Int) -> (Int, Int) {
    ((h - kernelSize) / stride + 1, (w - kernelSize) / stride + 1)
  }

  public func forward(_ input: Tensor) -> Tensor {
    precondition(input.rank >= 3, "\(name): expected [..., C, H, W], got \(input.shape)")
    let h = input.shape[input.rank - 2], w = input.shape[input.rank - 1]
    precondition(h >= kernelSize && w >= kernelSize, "\(name): input \(h)x\(w) smaller than kernel")
    let (oh, ow) = outputSize(h, w)
    inputShape = input.shape
    output.prepare(shape: Array(input.shape.dropLast(2)) + [oh, ow])
    let planes = input.count / (h * w)
    let k = kernelSize, s = stride, scale = 1 / Float(k * k)
    input.withUnsafeBufferPointer { x in
      output.withUnsafeMutableBufferPointer { y in
        let xb = UncheckedSendable(x.baseAddress!), yb = UncheckedSendable(y.baseAddress!)
        Parallel.forEachChunk(count: planes) { _, range in
          for p in range {
            let src = xb.value + p * h * w, dst = yb.value + p * oh * ow
            if k == 2 && s == 2 {
              // The common 2×2 case without the window loops; four outputs at a time from
              // two eight-value row segments (pairs summed in the scalar loop's order).
              for oy in 0..<oh {
                let r0 = src + 2 * oy * w, r1 = r0 + w, out = dst + oy * ow
                var ox = 0
                while ox + 4 <= ow {
                  let a = UnsafeRawPointer(r0 + 2 * ox).loadUnaligned(as: SIMD8<Float>.self)
                  let b = UnsafeRawPointer(r1 + 2 * ox).loadUnaligned(as: SIMD8<Float>.self)
                  let v = ((a.evenHalf + a.oddHalf) + (b.evenHalf + b.oddHalf)) * 0.25
                  UnsafeMutableRawPointer(out + ox).storeBytes(of: v, as: SIMD4<Float>.self)
                  ox += 4
                }
                while ox < ow {
                  out[ox] = ((r0[2 * ox] + r0[2 * ox + 1]) + (r1[2 * ox] + r1[2 * ox + 1])) * 0.25
                  ox += 1
                }
              }
              continue
            }
            for oy in 0..<oh {
              for ox in 0..<ow {
                var acc: Float = 0
                for ky in 0..<k {
                  let row = src + (oy * s + ky) * w + ox * s
                  for kx in 0..<k { acc += row[kx] }
                }
                dst[oy * ow + ox] = acc * scale
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
    let oh = output.shape[output.rank - 2], ow = output.shape[output.rank - 1]
    gradInput.prepare(shape: inputShape)
    let k = kernelSize, s = stride, scale = 1 / Float(k * k)
    // Windows that tile the plane exactly write every input once; otherwise accumulate.
    let tiles = s == k && oh * k == h && ow * k == w
    if !tiles { gradInput.fill(0) }
    let planes = gradInput.count / (h * w)
    gradOutput.withUnsafeBufferPointer { g in
      gradInput.withUnsafeMutableBufferPointer { gx in
        let gb = UncheckedSendable(g.baseAddress!), xb = UncheckedSendable(gx.baseAddress!)
        Parallel.forEachChunk(count: planes) { _, range in
          for p in range {
            let src = gb.value + p * oh * ow, dst = xb.value + p * h * w
            if tiles && k == 2 {
              for oy in 0..<oh {
                let r0 = dst + 2 * oy * w, r1 = r0 + w, g = src + oy * ow
                var ox = 0
                while ox + 4 <= ow {
                  let v = UnsafeRawPointer(g + ox).loadUnaligned(as: SIMD4<Float>.self) * 0.25
                  let pair = SIMD8<Float>(v[0], v[0], v[1], v[1], v[2], v[2], v[3], v[3])
                  UnsafeMutableRawPointer(r0 + 2 * ox).storeBytes(of: pair, as: SIMD8<Float>.self)
                  UnsafeMutableRawPointer(r1 + 2 * ox).storeBytes(of: pair, as: SIMD8<Float>.self)
                  ox += 4
                }
                while ox < ow {
                  let v = g[ox] * 0.25
                  r0[2 * ox] = v
                  r0[2 * ox + 1] = v
                  r1[2 * ox] = v
                  r1[2 * ox + 1] = v
                  ox += 1
                }
              }
              continue
            }
            if tiles {
              for oy in 0..<oh {
                for ox in 0..<ow {
                  let v = src[oy * ow + ox] * scale
                  for ky in 0..<k {
                    let row = dst + (oy * s + ky) * w + ox * s
                    for kx in 0..<k { row[kx] = v }
                  }
                }
              }
              continue
            }
            for oy in 0..<oh {
              for ox in 0..<ow {
                let v = src[oy * ow + ox] * scale
                for ky in 0..<k {
                  let row = dst + (oy * s + ky) * w + ox * s
                  for kx in 0..<k { row[kx] += v }
                }
              }
            }
          }
        }
      }
    }
    return gradInput
  }
}
