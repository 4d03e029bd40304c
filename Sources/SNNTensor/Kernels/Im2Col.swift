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
}

/// Unfolding of image patches into a matrix, and its adjoint.
public enum Im2Col {
  /// Writes the `[C·kh·kw, outH·outW]` column matrix of one `[C, H, W]` image (zero padding).
  public static func unfold(
    _ geometry: ConvGeometry, image: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>
  ) {
    let g = geometry
    let oh = g.outHeight, ow = g.outWidth
    var row = 0
    for c in 0..<g.inChannels {
      for ky in 0..<g.kernelHeight {
        for kx in 0..<g.kernelWidth {
          let out = columns + row * oh * ow
          for oy in 0..<oh {
            let iy = oy * g.stride - g.padding + ky
            for ox in 0..<ow {
              let ix = ox * g.stride - g.padding + kx
              let inside = iy >= 0 && iy < g.height && ix >= 0 && ix < g.width
              out[oy * ow + ox] = inside ? image[(c * g.height + iy) * g.width + ix] : 0
            }
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
    let g = geometry
    let oh = g.outHeight, ow = g.outWidth
    var row = 0
    for c in 0..<g.inChannels {
      for ky in 0..<g.kernelHeight {
        for kx in 0..<g.kernelWidth {
          let col = columns + row * oh * ow
          for oy in 0..<oh {
            let iy = oy * g.stride - g.padding + ky
            guard iy >= 0 && iy < g.height else { continue }
            for ox in 0..<ow {
              let ix = ox * g.stride - g.padding + kx
              guard ix >= 0 && ix < g.width else { continue }
              image[(c * g.height + iy) * g.width + ix] += col[oy * ow + ox]
            }
          }
          row += 1
        }
      }
    }
  }
}
