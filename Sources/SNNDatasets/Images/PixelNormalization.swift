/// Maps a pixel byte to a network input: x = (p / 255 − mean) / std.
///
/// With `mean = 0, std = 1` the input is the intensity in [0, 1]. ``mnist`` uses the
/// statistics of the MNIST training set that most published MNIST pipelines use
/// (mean 0.1307, std 0.3081; `ImageDataset.pixelStatistics()` reproduces them from the
/// files: 0.13066, 0.30811).
public struct PixelNormalization: Sendable, Equatable {
  /// Subtracted after scaling to [0, 1].
  public var mean: Float
  /// Divides after subtracting the mean; must be positive.
  public var std: Float

  public init(mean: Float, std: Float) {
    precondition(std > 0 && std.isFinite && mean.isFinite, "std must be a positive finite number")
    self.mean = mean
    self.std = std
  }

  /// Intensity in [0, 1]: p / 255.
  public static let unit = PixelNormalization(mean: 0, std: 1)
  /// MNIST training-set statistics: mean 0.1307, std 0.3081.
  public static let mnist = PixelNormalization(mean: 0.1307, std: 0.3081)
  /// Fashion-MNIST training-set statistics: mean 0.2860, std 0.3530 (reproduced from the
  /// files by `pixelStatistics()`: 0.28604, 0.35302).
  public static let fashionMNIST = PixelNormalization(mean: 0.2860, std: 0.3530)

  /// The normalised value of one pixel byte.
  @inlinable
  public func value(_ pixel: UInt8) -> Float { (Float(pixel) / 255 - mean) / std }

  /// The 256 possible outputs, indexed by pixel byte.
  public var table: [Float] { (0..<256).map { value(UInt8($0)) } }

  /// Normalises `source` into `destination` (same count) with a 256-entry table.
  public func apply(
    _ source: UnsafeBufferPointer<UInt8>, to destination: UnsafeMutableBufferPointer<Float>
  ) {
    precondition(source.count == destination.count, "source and destination sizes differ")
    let lookup = table
    lookup.withUnsafeBufferPointer { t in
      for i in 0..<source.count { destination[i] = t[Int(source[i])] }
    }
  }
}

extension ImageDataset {
  /// Image `index` normalised, `rows × cols` values.
  public func normalizedImage(_ index: Int, _ normalization: PixelNormalization = .unit) -> [Float]
  {
    normalizedBatch([index], normalization)
  }

  /// The images at `indices`, normalised, as a `[B, rows × cols]` row-major array.
  public func normalizedBatch(
    _ indices: some Collection<Int>, _ normalization: PixelNormalization = .unit
  )
    -> [Float]
  {
    var out = [Float](repeating: 0, count: indices.count * pixelsPerImage)
    normalizedBatch(indices, normalization, into: &out)
    return out
  }

  /// Writes the images at `indices`, normalised, into `out` (`[B, rows × cols]`), reusing
  /// its storage; `out.count` must be `indices.count × rows × cols`.
  public func normalizedBatch(
    _ indices: some Collection<Int>, _ normalization: PixelNormalization, into out: inout [Float]
  ) {
    let n = pixelsPerImage
    precondition(
      out.count == indices.count * n,
      "output holds \(out.count) values, expected \(indices.count * n)")
    let lookup = normalization.table
    lookup.withUnsafeBufferPointer { t in
      pixels.withUnsafeBufferPointer { p in
        out.withUnsafeMutableBufferPointer { o in
          var row = 0
          for index in indices {
            precondition(
              index >= 0 && index < count, "image index \(index) out of range 0..<\(count)")
            let src = p.baseAddress! + index * n
            let dst = o.baseAddress! + row * n
            for k in 0..<n { dst[k] = t[Int(src[k])] }
            row += 1
          }
        }
      }
    }
  }

  /// The labels at `indices`.
  public func labels(_ indices: some Collection<Int>) -> [UInt8] { indices.map { labels[$0] } }
}
