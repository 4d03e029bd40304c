/// Eight-lane loops for one step of one block of `LIFKernel<Float>` (Heaviside forward and
/// the recurrences of backward).
///
/// The generic scalar loops do not vectorize: the compiler cannot prove that the input,
/// state and output buffers do not overlap (and for a static input the backward's output
/// *is* the surrogate buffer). Here each group of eight neurons is loaded completely before
/// anything is stored, which is correct for that overlap too, and the arithmetic is the
/// scalar loop's, operation for operation, so the results are bit-identical.
@usableFromInline
enum LIFFloatSIMD {
  @usableFromInline typealias V = SIMD8<Float>

  @inlinable @inline(__always)
  static func load(_ p: UnsafePointer<Float>, _ j: Int) -> V {
    UnsafeRawPointer(p + j).loadUnaligned(as: V.self)
  }

  @inlinable @inline(__always)
  static func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ j: Int) {
    UnsafeMutableRawPointer(p + j).storeBytes(of: v, as: V.self)
  }

  /// 1 where `mask`, else 0 (the mask's lanes are all-ones or zero; AND with 1.0's bits).
  @inlinable @inline(__always)
  static func ones(_ mask: SIMDMask<SIMD8<Int32>>) -> V {
    unsafeBitCast(
      unsafeBitCast(mask, to: SIMD8<Int32>.self) & SIMD8<Int32>(repeating: 0x3F80_0000),
      to: V.self)
  }

  /// `mask ? a : b` lane by lane, by bits (exact, no arithmetic).
  @inlinable @inline(__always)
  static func select(_ mask: SIMDMask<SIMD8<Int32>>, _ a: V, _ b: V) -> V {
    let m = unsafeBitCast(mask, to: SIMD8<Int32>.self)
    let ai = unsafeBitCast(a, to: SIMD8<Int32>.self), bi = unsafeBitCast(b, to: SIMD8<Int32>.self)
    return unsafeBitCast((m & ai) | (~m & bi), to: V.self)
  }

  /// One step of the Heaviside forward for `count` neurons: H = a·V + c·I, S = [H ≥ V_th],
  /// V ← hard ? (S ? V_reset : H) : H − V_th·S.
  @inlinable @inline(__always)
  static func forwardStep(
    count: Int, hard: Bool, a: Float, c: Float, vth: Float, vr: Float,
    input x: UnsafePointer<Float>, membrane: UnsafeMutablePointer<Float>,
    potential h: UnsafeMutablePointer<Float>, spikes s: UnsafeMutablePointer<Float>
  ) {
    let av = V(repeating: a), cv = V(repeating: c), tv = V(repeating: vth)
    let rv = V(repeating: vr)
    var j = 0
    while count - j >= 8 {
      let hv = av * load(membrane, j) + cv * load(x, j)
      let fired = hv .>= tv
      store(hv, h, j)
      store(ones(fired), s, j)
      store(select(fired, hard ? rv : hv - tv, hv), membrane, j)
      j += 8
    }
    while j < count {
      let hv = a * membrane[j] + c * x[j]
      let fired = hv >= vth
      h[j] = hv
      s[j] = fired ? 1 : 0
      membrane[j] = fired ? (hard ? vr : hv - vth) : hv
      j += 1
    }
  }

  /// One step of the hard-reset backward recurrence with S recomputed from H:
  /// g_S = g + r·g_V·(V_reset − H), g_H = g_S·h′ + g_V·(1 − S), out = c·g_H, g_V ← carry·g_H.
  @inlinable @inline(__always)
  static func backwardHardStep(
    count: Int, reset r: Float, c: Float, carry: Float, vth: Float, vr: Float,
    gradient g: UnsafePointer<Float>, potential hh: UnsafePointer<Float>,
    surrogate sg: UnsafePointer<Float>, gradMembrane gv: UnsafeMutablePointer<Float>,
    out: UnsafeMutablePointer<Float>
  ) {
    let rv = V(repeating: r), cv = V(repeating: c), kv = V(repeating: carry)
    let tv = V(repeating: vth), vrv = V(repeating: vr), one = V(repeating: 1)
    var j = 0
    while count - j >= 8 {
      let hv = load(hh, j), gV = load(gv, j), gj = load(g, j), sj = load(sg, j)
      let sv = ones(hv .>= tv)
      let gS = gj + rv * gV * (vrv - hv)
      let gH = gS * sj + gV * (one - sv)
      store(cv * gH, out, j)
      store(kv * gH, gv, j)
      j += 8
    }
    while j < count {
      let hv = hh[j], gV = gv[j]
      let sv: Float = hv >= vth ? 1 : 0
      let gS = g[j] + r * gV * (vr - hv)
      let gH = gS * sg[j] + gV * (1 - sv)
      out[j] = c * gH
      gv[j] = carry * gH
      j += 1
    }
  }

  /// One step of the soft-reset backward recurrence: g_S = g − r·g_V·V_th,
  /// g_H = g_S·h′ + g_V, out = c·g_H, g_V ← carry·g_H.
  @inlinable @inline(__always)
  static func backwardSoftStep(
    count: Int, reset r: Float, c: Float, carry: Float, vth: Float,
    gradient g: UnsafePointer<Float>, surrogate sg: UnsafePointer<Float>,
    gradMembrane gv: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>
  ) {
    let rv = V(repeating: r), cv = V(repeating: c), kv = V(repeating: carry)
    let tv = V(repeating: vth)
    var j = 0
    while count - j >= 8 {
      let gV = load(gv, j), gj = load(g, j), sj = load(sg, j)
      let gS = gj - rv * gV * tv
      let gH = gS * sj + gV
      store(cv * gH, out, j)
      store(kv * gH, gv, j)
      j += 8
    }
    while j < count {
      let gV = gv[j]
      let gS = g[j] - r * gV * vth
      let gH = gS * sg[j] + gV
      out[j] = c * gH
      gv[j] = carry * gH
      j += 1
    }
  }
}
