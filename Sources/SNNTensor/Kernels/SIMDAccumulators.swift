/// Up to eight `SIMD8<Float>` values in registers (running sums, or a weight vector set);
/// `vectors` is a constant after inlining.
struct SIMDAccumulators {
  var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
  var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()

  init() {}

  @inline(__always)
  init(loading p: UnsafeRawPointer, vectors: Int) {
    typealias V = SIMD8<Float>
    a0 = p.loadUnaligned(as: V.self)
    if vectors > 1 { a1 = p.loadUnaligned(fromByteOffset: 32, as: V.self) }
    if vectors > 2 { a2 = p.loadUnaligned(fromByteOffset: 64, as: V.self) }
    if vectors > 3 { a3 = p.loadUnaligned(fromByteOffset: 96, as: V.self) }
    if vectors > 4 { a4 = p.loadUnaligned(fromByteOffset: 128, as: V.self) }
    if vectors > 5 { a5 = p.loadUnaligned(fromByteOffset: 160, as: V.self) }
    if vectors > 6 { a6 = p.loadUnaligned(fromByteOffset: 192, as: V.self) }
    if vectors > 7 { a7 = p.loadUnaligned(fromByteOffset: 224, as: V.self) }
  }

  /// `self *= factor` lane by lane.
  @inline(__always)
  mutating func scale(by factor: Float, vectors: Int) {
    a0 *= factor
    if vectors > 1 { a1 *= factor }
    if vectors > 2 { a2 *= factor }
    if vectors > 3 { a3 *= factor }
    if vectors > 4 { a4 *= factor }
    if vectors > 5 { a5 *= factor }
    if vectors > 6 { a6 *= factor }
    if vectors > 7 { a7 *= factor }
  }

  /// `target[0..<8·vectors] += self`.
  @inline(__always)
  func add(into target: UnsafeMutableRawPointer, vectors: Int) {
    typealias V = SIMD8<Float>
    @inline(__always) func update(_ offset: Int, _ v: V) {
      target.storeBytes(
        of: target.loadUnaligned(fromByteOffset: offset, as: V.self) + v, toByteOffset: offset,
        as: V.self)
    }
    update(0, a0)
    if vectors > 1 { update(32, a1) }
    if vectors > 2 { update(64, a2) }
    if vectors > 3 { update(96, a3) }
    if vectors > 4 { update(128, a4) }
    if vectors > 5 { update(160, a5) }
    if vectors > 6 { update(192, a6) }
    if vectors > 7 { update(224, a7) }
  }

  @inline(__always)
  mutating func add(_ p: UnsafeRawPointer, vectors: Int) {
    typealias V = SIMD8<Float>
    a0 += p.loadUnaligned(as: V.self)
    if vectors > 1 { a1 += p.loadUnaligned(fromByteOffset: 32, as: V.self) }
    if vectors > 2 { a2 += p.loadUnaligned(fromByteOffset: 64, as: V.self) }
    if vectors > 3 { a3 += p.loadUnaligned(fromByteOffset: 96, as: V.self) }
    if vectors > 4 { a4 += p.loadUnaligned(fromByteOffset: 128, as: V.self) }
    if vectors > 5 { a5 += p.loadUnaligned(fromByteOffset: 160, as: V.self) }
    if vectors > 6 { a6 += p.loadUnaligned(fromByteOffset: 192, as: V.self) }
    if vectors > 7 { a7 += p.loadUnaligned(fromByteOffset: 224, as: V.self) }
  }

  @inline(__always)
  func store(_ out: UnsafeMutablePointer<Float>, vectors: Int) {
    let p = UnsafeMutableRawPointer(out)
    p.storeBytes(of: a0, as: SIMD8<Float>.self)
    if vectors > 1 { p.storeBytes(of: a1, toByteOffset: 32, as: SIMD8<Float>.self) }
    if vectors > 2 { p.storeBytes(of: a2, toByteOffset: 64, as: SIMD8<Float>.self) }
    if vectors > 3 { p.storeBytes(of: a3, toByteOffset: 96, as: SIMD8<Float>.self) }
    if vectors > 4 { p.storeBytes(of: a4, toByteOffset: 128, as: SIMD8<Float>.self) }
    if vectors > 5 { p.storeBytes(of: a5, toByteOffset: 160, as: SIMD8<Float>.self) }
    if vectors > 6 { p.storeBytes(of: a6, toByteOffset: 192, as: SIMD8<Float>.self) }
    if vectors > 7 { p.storeBytes(of: a7, toByteOffset: 224, as: SIMD8<Float>.self) }
  }
}
