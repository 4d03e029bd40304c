import SNNBase

@testable import SNNTensor

/// A two-layer spiking network in Float64 built on the library's generic `LIFKernel`:
/// x `[T, B, nIn]` → ·W1 → LIF → ·W2 → LIF → L = Σ r ⊙ S2 + Σ q ⊙ S1.
/// Its backward is the library's kernel backward plus plain matrix products.
struct ReferenceNetwork {
  var steps: Int, batch: Int, nIn: Int, nHidden: Int, nOut: Int
  var x: [Double], w1: [Double], w2: [Double]
  var r: [Double], q: [Double]
  var kernel1: LIFKernel<Double>, kernel2: LIFKernel<Double>

  struct Gradients {
    var x: [Double], w1: [Double], w2: [Double]
    var decay1: Double, decay2: Double
  }

  init(
    steps: Int = 4, batch: Int = 2, nIn: Int = 3, nHidden: Int = 4, nOut: Int = 3,
    kernel: LIFKernel<Double>, seed: UInt64
  ) {
    self.steps = steps
    self.batch = batch
    self.nIn = nIn
    self.nHidden = nHidden
    self.nOut = nOut
    var g = Xoshiro256StarStar(seed: seed)
    x = (0..<(steps * batch * nIn)).map { _ in g.nextUnitDouble() * 1.5 }
    w1 = (0..<(nIn * nHidden)).map { _ in g.nextNormal() * 0.8 + 0.3 }
    w2 = (0..<(nHidden * nOut)).map { _ in g.nextNormal() * 0.8 + 0.3 }
    r = (0..<(steps * batch * nOut)).map { _ in g.nextNormal() }
    q = (0..<(steps * batch * nHidden)).map { _ in g.nextNormal() * 0.5 }
    kernel1 = kernel
    kernel2 = kernel
  }

  /// rows×k · k×n.
  static func matmul(_ a: [Double], _ b: [Double], rows: Int, k: Int, n: Int) -> [Double] {
    var c = [Double](repeating: 0, count: rows * n)
    for i in 0..<rows {
      for p in 0..<k { for j in 0..<n { c[i * n + j] += a[i * k + p] * b[p * n + j] } }
    }
    return c
  }

  /// rows×n · (k×n)ᵀ.
  static func matmulTransposedB(_ a: [Double], _ b: [Double], rows: Int, n: Int, k: Int) -> [Double]
  {
    var c = [Double](repeating: 0, count: rows * k)
    for i in 0..<rows {
      for p in 0..<k { for j in 0..<n { c[i * k + p] += a[i * n + j] * b[p * n + j] } }
    }
    return c
  }

  /// (rows×k)ᵀ · rows×n.
  static func matmulTransposedA(_ a: [Double], _ b: [Double], rows: Int, k: Int, n: Int) -> [Double]
  {
    var c = [Double](repeating: 0, count: k * n)
    for i in 0..<rows {
      for p in 0..<k { for j in 0..<n { c[p * n + j] += a[i * k + p] * b[i * n + j] } }
    }
    return c
  }

  struct LayerState { var h: [Double], s: [Double], v0: [Double] }

  static func lifForward(_ kernel: LIFKernel<Double>, _ input: [Double], steps: Int, n: Int)
    -> LayerState
  {
    var v = [Double](repeating: kernel.hardReset ? kernel.vReset : 0, count: n)
    let v0 = v
    var h = [Double](repeating: 0, count: steps * n), s = h
    _ = input.withUnsafeBufferPointer { ip in
      v.withUnsafeMutableBufferPointer { vp in
        h.withUnsafeMutableBufferPointer { hp in
          s.withUnsafeMutableBufferPointer { sp in
            kernel.forward(
              steps: steps, stride: n, range: 0..<n, input: ip.baseAddress!,
              membrane: vp.baseAddress!,
              potential: hp.baseAddress!, spikes: sp.baseAddress!, countWindow: false)
          }
        }
      }
    }
    return LayerState(h: h, s: s, v0: v0)
  }

  static func lifBackward(
    _ kernel: LIFKernel<Double>, _ st: LayerState, _ gs: [Double], steps: Int, n: Int
  ) -> (gi: [Double], decay: Double) {
    var gi = [Double](repeating: 0, count: steps * n)
    var gv = [Double](repeating: 0, count: n)
    let leak = gs.withUnsafeBufferPointer { g in
      st.h.withUnsafeBufferPointer { h in
        st.s.withUnsafeBufferPointer { s in
          st.v0.withUnsafeBufferPointer { v0 in
            gv.withUnsafeMutableBufferPointer { gvp in
              gi.withUnsafeMutableBufferPointer { gip in
                kernel.backward(
                  steps: steps, stride: n, range: 0..<n, gradSpikes: g.baseAddress!,
                  potential: h.baseAddress!, spikes: s.baseAddress!,
                  initialMembrane: v0.baseAddress!,
                  gradMembrane: gvp.baseAddress!, gradInput: gip.baseAddress!, leakGradient: true)
              }
            }
          }
        }
      }
    }
    return (gi, leak)
  }

  var rows: Int { steps * batch }

  /// The library kernel's forward for both layers (the base point of a gradient check).
  private func layers() -> (LayerState, LayerState) {
    let i1 = Self.matmul(x, w1, rows: rows, k: nIn, n: nHidden)
    let l1 = Self.lifForward(kernel1, i1, steps: steps, n: batch * nHidden)
    let i2 = Self.matmul(l1.s, w2, rows: rows, k: nHidden, n: nOut)
    let l2 = Self.lifForward(kernel2, i2, steps: steps, n: batch * nOut)
    return (l1, l2)
  }

  /// Values of the base point that a detached (stop-gradient) path treats as constants:
  /// S[t] for the reset and V[t] for the next charge, per layer.
  struct Frozen { var s1: [Double], v1: [Double], s2: [Double], v2: [Double] }

  /// An independent scalar implementation of the neuron (not the library's kernel), where
  /// a detached quantity reads its frozen base-point value: the finite differences of this
  /// function are then exactly the stop-gradient derivatives.
  static func independentLIF(
    _ k: LIFKernel<Double>, _ input: [Double], steps: Int, n: Int,
    frozen: (s: [Double], v: [Double])?
  ) -> (h: [Double], s: [Double], v: [Double]) {
    var h = [Double](repeating: 0, count: steps * n), s = h, v = h
    let v0 = k.hardReset ? k.vReset : 0
    for i in 0..<n {
      var vPrev = v0
      for t in 0..<steps {
        let idx = t * n + i
        var vIn = vPrev
        if k.detachMembrane, let frozen { vIn = t == 0 ? v0 : frozen.v[idx - n] }
        let hv = k.decay * vIn + k.inputScale * input[idx]
        let x = hv - k.vThreshold
        let sv: Double
        if k.primitive {
          let p = k.surrogate.parameter
          switch k.surrogate.kind {
          case .sigmoid: sv = 1 / (1 + Math.exp(-p * x))
          case .atan: sv = Math.atan(Double.pi / 2 * p * x) / Double.pi + 0.5
          case .rectangle: sv = min(max(x / p + 0.5, 0), 1)
          case .triangle:
            let u = (x + p / 2) / (p / 2)
            sv = u <= 0 ? 0 : (u >= 2 ? 1 : (u <= 1 ? u * u / 2 : 1 - (2 - u) * (2 - u) / 2))
          }
        } else {
          sv = hv >= k.vThreshold ? 1 : 0
        }
        var sr = sv
        if k.detachReset, let frozen { sr = frozen.s[idx] }
        let vv = k.hardReset ? hv * (1 - sr) + k.vReset * sr : hv - k.vThreshold * sr
        h[idx] = hv
        s[idx] = sv
        v[idx] = vv
        vPrev = vv
      }
    }
    return (h, s, v)
  }

  /// Forward with the independent neuron; `frozen` nil means no freezing (the base point).
  func independentForward(frozen: Frozen?) -> (
    l1: (h: [Double], s: [Double], v: [Double]), l2: (h: [Double], s: [Double], v: [Double])
  ) {
    let i1 = Self.matmul(x, w1, rows: rows, k: nIn, n: nHidden)
    let l1 = Self.independentLIF(
      kernel1, i1, steps: steps, n: batch * nHidden, frozen: frozen.map { ($0.s1, $0.v1) })
    let i2 = Self.matmul(l1.s, w2, rows: rows, k: nHidden, n: nOut)
    let l2 = Self.independentLIF(
      kernel2, i2, steps: steps, n: batch * nOut, frozen: frozen.map { ($0.s2, $0.v2) })
    return (l1, l2)
  }

  func frozenValues() -> Frozen {
    let (l1, l2) = independentForward(frozen: nil)
    return Frozen(s1: l1.s, v1: l1.v, s2: l2.s, v2: l2.v)
  }

  /// The loss of the independent forward with detached paths frozen at `frozen`.
  func loss(frozen: Frozen?) -> Double {
    let (l1, l2) = independentForward(frozen: frozen)
    var total = 0.0
    for i in 0..<l2.s.count { total += r[i] * l2.s[i] }
    for i in 0..<l1.s.count { total += q[i] * l1.s[i] }
    return total
  }

  /// Which piece of a piecewise primitive each H falls in, to detect finite-difference
  /// steps that straddle a kink.
  func regions(frozen: Frozen?) -> [Int] {
    let (l1, l2) = independentForward(frozen: frozen)
    func piece(_ k: LIFKernel<Double>, _ h: Double) -> Int {
      let half = k.surrogate.parameter / 2, x = h - k.vThreshold
      return x <= -half ? -1 : (x >= half ? 1 : (x < 0 ? 2 : 0))
    }
    return l1.h.map { piece(kernel1, $0) } + l2.h.map { piece(kernel2, $0) }
  }

  /// The library kernel's forward values (H and S of both layers).
  func kernelValues() -> [Double] {
    let (l1, l2) = layers()
    return l1.h + l1.s + l2.h + l2.s
  }

  /// The independent forward's values (H and S of both layers).
  func independentValues() -> [Double] {
    let (l1, l2) = independentForward(frozen: nil)
    return l1.h + l1.s + l2.h + l2.s
  }

  func gradients() -> Gradients {
    let (l1, l2) = layers()
    let (gi2, d2) = Self.lifBackward(kernel2, l2, r, steps: steps, n: batch * nOut)
    let gw2 = Self.matmulTransposedA(l1.s, gi2, rows: rows, k: nHidden, n: nOut)
    var gs1 = Self.matmulTransposedB(gi2, w2, rows: rows, n: nOut, k: nHidden)
    for i in 0..<gs1.count { gs1[i] += q[i] }
    let (gi1, d1) = Self.lifBackward(kernel1, l1, gs1, steps: steps, n: batch * nHidden)
    let gw1 = Self.matmulTransposedA(x, gi1, rows: rows, k: nIn, n: nHidden)
    let gx = Self.matmulTransposedB(gi1, w1, rows: rows, n: nHidden, k: nIn)
    return Gradients(x: gx, w1: gw1, w2: gw2, decay1: d1, decay2: d2)
  }
}

/// An analytic gradient next to central differences.
struct GradientComparison: CustomStringConvertible {
  var analytic: [Double]
  var numeric: [Double]
  var skipped: Int = 0

  /// max_i |a_i − n_i| / max_i |n_i|: the error relative to the gradient's scale.
  var relativeError: Double {
    var num = 0.0, den = 0.0
    for i in 0..<analytic.count {
      num = max(num, abs(analytic[i] - numeric[i]))
      den = max(den, abs(numeric[i]))
    }
    return den == 0 ? num : num / den
  }

  /// max_i |n_i|.
  var scale: Double { numeric.map(abs).max() ?? 0 }

  var description: String {
    "rel.err \(relativeError), scale \(scale), skipped \(skipped)/\(analytic.count + skipped)"
  }
}

/// Central differences of `loss` over the coordinates of `values` with step `epsilon`.
/// `regions` (optional) returns the forward's piecewise regions at a point; coordinates
/// whose ± perturbations land in different regions straddle a kink and are skipped (and
/// counted).
func centralDifferences(
  _ values: [Double], epsilon: Double, analytic: [Double],
  regions: (([Double]) -> [Int])? = nil, loss: ([Double]) -> Double
) -> GradientComparison {
  var keptA: [Double] = [], keptN: [Double] = []
  var skipped = 0
  var v = values
  for i in 0..<values.count {
    v[i] = values[i] + epsilon
    let lp = loss(v)
    let rp = regions?(v)
    v[i] = values[i] - epsilon
    let lm = loss(v)
    let rm = regions?(v)
    v[i] = values[i]
    if let rp, let rm, rp != rm {
      skipped += 1
      continue
    }
    keptA.append(analytic[i])
    keptN.append((lp - lm) / (2 * epsilon))
  }
  return GradientComparison(analytic: keptA, numeric: keptN, skipped: skipped)
}

/// L = Σ r ⊙ y with fixed random r, accumulated in Double.
struct ProjectionLoss {
  var weights: [Float]

  init(count: Int, seed: UInt64) {
    var g = Xoshiro256StarStar(seed: seed)
    weights = (0..<count).map { _ in Float(g.nextNormal()) }
  }

  func value(_ y: Tensor) -> Double {
    precondition(
      y.count == weights.count, "projection of \(y.count) values with \(weights.count) weights")
    var s = 0.0
    for i in 0..<y.count { s += Double(weights[i]) * Double(y.scalars[i]) }
    return s
  }

  func gradient(shape: [Int]) -> Tensor { Tensor(shape: shape, scalars: weights) }
}

func randomTensor(_ shape: [Int], seed: UInt64, scale: Double = 1, offset: Double = 0) -> Tensor {
  var g = Xoshiro256StarStar(seed: seed)
  return Tensor(shape: shape, generating: { _ in Float(offset + scale * g.nextNormal()) })
}

/// Float32 central differences over `count` coordinates reached through `get`/`set`; the
/// step actually applied in Float32 is used as the denominator.
func floatCentralDifferences(
  count: Int, epsilon: Float, analytic: Tensor, get: (Int) -> Float, set: (Int, Float) -> Void,
  loss: () -> Double
) -> GradientComparison {
  var numeric = [Double](repeating: 0, count: count)
  for i in 0..<count {
    let saved = get(i)
    set(i, saved + epsilon)
    let lp = loss()
    set(i, saved - epsilon)
    let lm = loss()
    set(i, saved)
    let h = Double(saved + epsilon) - Double(saved - epsilon)
    numeric[i] = (lp - lm) / h
  }
  return GradientComparison(analytic: analytic.scalars.map(Double.init), numeric: numeric)
}
