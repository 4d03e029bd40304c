/// Geometry of a 2-D convolution over one image in channels-first `[C, H, W]` layout.
public struct ConvGeometry: Hashable, Sendable {
  public var inChannels: Int, height: Int, width: Int
  public var kernelHeight: Int, kernelWidth: Int
  public var stride: Int, padding: Int

  public init(
    inChannels: Int, height: Int, width: Int, kernelHeight: Int, kernelWidth: Int,
    stride: Int = 1, padding: Int = 0
  ) {
    precondition(inChannels > 0 && height > 0 && width > 0, "empty input")
    precondition(kernelHeight > 0 && kernelWidth > 0 && stride > 0 && padding >= 0, "bad kernel")
    self.inChannels = inChannels
    self.height = height
    self.width = width
    self.kernelHeight = kernelHeight
    self.kernelWidth = kernelWidth
    self.stride = stride
    self.padding = padding
  }

  public var outHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
  public var outWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
  /// Rows of the column matrix: C·kh·kw.
  public var patchSize: Int { inChannels * kernelHeight * kernelWidth }
  /// Columns of the column matrix: outH·outW.
  public var outputPixels: Int { outHeight * outWidth }
  /// Elements of one input image: C·H·W.
  public var inputSize: Int { inChannels * height * width }
}

/// Unfolding of image patches into a matrix, and its adjoint.
///
/// Row `(c·kh + ky)·kw + kx` of the column matrix holds, for every output pixel
/// `(oy, ox)`, the input value at `(c, oy·stride − padding + ky, ox·stride − padding + kx)`,
/// or 0 where that falls in the padding. Both directions work one output row at a time:
/// the range of output columns whose input column lies inside the image depends only on
/// `kx`, so each row is a run of zeros, one contiguous copy (stride 1) or strided gather,
/// and a run of zeros, with no per-element bounds test.
public enum Im2Col {
  /// Writes the `[C·kh·kw, outH·outW]` column matrix of one `[C, H, W]` image (zero padding).
  public static func unfold(
    _ geometry: ConvGeometry, image: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>
  ) {
    unfold(geometry, image: image, columns: columns, rowStride: geometry.outputPixels)
  }

  /// `unfold` into a wider matrix: row r of the column matrix starts at
  /// `columns + r · rowStride` (`rowStride ≥ outH·outW`). Batched convolutions place the
  /// images of a batch side by side this way, image b at `columns + b · outH·outW`.
  public static func unfold(
    _ geometry: ConvGeometry, image: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>,
    rowStride: Int
  ) {
    let g = geometry
    let oh = g.outHeight, ow = g.outWidth, s = g.stride
    precondition(rowStride >= oh * ow, "Im2Col: row stride smaller than the output pixels")
    var row = 0
    for c in 0..<g.inChannels {
      let plane = image + c * g.height * g.width
      for ky in 0..<g.kernelHeight {
        for kx in 0..<g.kernelWidth {
          let out = columns + row * rowStride
          let (lo, hi) = insideColumns(g, kx: kx)
          let firstColumn = lo * s - g.padding + kx  // input column of output column lo
          for oy in 0..<oh {
            let iy = oy * s - g.padding + ky
            let dst = out + oy * ow
            guard iy >= 0 && iy < g.height else {
              dst.update(repeating: 0, count: ow)
              continue
            }
            let src = plane + iy * g.width + firstColumn
            for x in 0..<lo { dst[x] = 0 }
            if s == 1 {
              copy(src, to: dst + lo, count: hi - lo)
            } else {
              for x in lo..<hi { dst[x] = src[(x - lo) * s] }
            }
            for x in hi..<ow { dst[x] = 0 }
          }
          row += 1
        }
      }
    }
  }

  /// Adds the column matrix back into a `[C, H, W]` image gradient (the adjoint of
  /// `unfold`): `image += fold(columns)`.
  public static func foldAdding(
    _ geometry: ConvGeometry, columns: UnsafePointer<Float>, image: UnsafeMutablePointer<Float>
  ) {
    foldAdding(geometry, columns: columns, rowStride: geometry.outputPixels, image: image)
  }

  /// `foldAdding` from a wider matrix whose row r starts at `columns + r · rowStride`.
  ///
  /// Contributions to each image element are added in a fixed order (channel, ky, kx,
  /// output row), so the result is deterministic.
  public static func foldAdding(
    _ geometry: ConvGeometry, columns: UnsafePointer<Float>, rowStride: Int,
    image: UnsafeMutablePointer<Float>
  ) {
    let g = geometry
    let oh = g.outHeight, ow = g.outWidth, s = g.stride
    precondition(rowStride >= oh * ow, "Im2Col: row stride smaller than the output pixels")
    var row = 0
    for c in 0..<g.inChannels {
      let plane = image + c * g.height * g.width
      for ky in 0..<g.kernelHeight {
        for kx in 0..<g.kernelWidth {
          let col = columns + row * rowStride
          let (lo, hi) = insideColumns(g, kx: kx)
          let firstColumn = lo * s - g.padding + kx
          for oy in 0..<oh {
            let iy = oy * s - g.padding + ky
            guard iy >= 0 && iy < g.height else { continue }
            let dst = plane + iy * g.width + firstColumn
            let src = col + oy * ow
            if s == 1 {
              add(src + lo, into: dst, count: hi - lo)
            } else {
              for x in lo..<hi { dst[(x - lo) * s] += src[x] }
            }
          }
          row += 1
        }
      }
    }
  }

  /// `dst[0..<count] = src[0..<count]`, eight at a time. Rows are short (8–30 values for
  /// the MNIST networks), where an explicit vector loop beats the compiler's generic one.
  @inline(__always)
  static func copy(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
    var x = 0
    while x + 8 <= count {
      UnsafeMutableRawPointer(dst + x).storeBytes(
        of: UnsafeRawPointer(src + x).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
      x += 8
    }
    while x < count {
      dst[x] = src[x]
      x += 1
    }
  }

  /// `dst[0..<count] += src[0..<count]`, eight at a time.
  @inline(__always)
  static func add(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int) {
    var x = 0
    while x + 8 <= count {
      let d = UnsafeMutableRawPointer(dst + x)
      d.storeBytes(
        of: d.loadUnaligned(as: SIMD8<Float>.self)
          + UnsafeRawPointer(src + x).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
      x += 8
    }
    while x < count {
      dst[x] += src[x]
      x += 1
    }
  }

  /// The output columns `lo..<hi` whose input column `ox·stride − padding + kx` lies in
  /// `0..<width`.
  @inline(__always)
  static func insideColumns(_ g: ConvGeometry, kx: Int) -> (lo: Int, hi: Int) {
    let ow = g.outWidth
    // ox·s ≥ padding − kx  and  ox·s ≤ width − 1 + padding − kx.
    let lo = max(0, ceilDivide(g.padding - kx, g.stride))
    let hi = min(ow, floorDivide(g.width - 1 + g.padding - kx, g.stride) + 1)
    return (min(lo, ow), max(min(lo, ow), hi))
  }

  @inline(__always)
  static func floorDivide(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && a < 0) ? q - 1 : q
  }

  @inline(__always)
  static func ceilDivide(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && a > 0) ? q + 1 : q
  }
}
