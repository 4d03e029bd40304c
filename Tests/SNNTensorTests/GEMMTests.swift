import SNNBase
import Testing

@testable import SNNTensor

@Suite struct GEMMTests {
  /// One product checked element by element against `GEMM.reference`.
  struct Case: CustomStringConvertible {
    var transA = false, transB = false
    var m: Int, n: Int, k: Int
    var alpha: Float = 1, beta: Float = 0
    /// Extra elements per row beyond the stored width.
    var padA = 0, padB = 0, padC = 0
    var threads = 1
    var seed: UInt64 = 1

    var description: String {
      "tA=\(transA) tB=\(transB) m=\(m) n=\(n) k=\(k) α=\(alpha) β=\(beta) "
        + "pad=\(padA),\(padB),\(padC) threads=\(threads)"
    }

    var lda: Int { (transA ? m : k) + padA }
    var ldb: Int { (transB ? k : n) + padB }
    var ldc: Int { n + padC }
    var aCount: Int { (transA ? k : m) * lda }
    var bCount: Int { (transB ? n : k) * ldb }

    func a(_ i: Int, _ p: Int, _ a: [Float]) -> Float { transA ? a[p * lda + i] : a[i * lda + p] }
    func b(_ p: Int, _ j: Int, _ b: [Float]) -> Float { transB ? b[j * ldb + p] : b[p * ldb + j] }
  }

  /// Runs `sgemm` and the reference on the same operands; returns the first mismatch.
  static func check(_ t: Case) -> String? {
    let a = KernelTestSupport.randomMatrix(max(1, t.aCount), seed: t.seed)
    let b = KernelTestSupport.randomMatrix(max(1, t.bCount), seed: t.seed &+ 1)
    var c0 = KernelTestSupport.randomMatrix(max(1, t.m * t.ldc), seed: t.seed &+ 2)
    if t.beta == 0 {
      // C must not be read when beta == 0.
      for i in c0.indices { c0[i] = .nan }
    }
    var fast = c0, slow = c0
    a.withUnsafeBufferPointer { a in
      b.withUnsafeBufferPointer { b in
        fast.withUnsafeMutableBufferPointer { c in
          GEMM.sgemm(
            transA: t.transA, transB: t.transB, m: t.m, n: t.n, k: t.k, alpha: t.alpha,
            a: a.baseAddress!, lda: t.lda, b: b.baseAddress!, ldb: t.ldb, beta: t.beta,
            c: c.baseAddress!, ldc: t.ldc, threads: t.threads)
        }
        slow.withUnsafeMutableBufferPointer { c in
          GEMM.reference(
            transA: t.transA, transB: t.transB, m: t.m, n: t.n, k: t.k, alpha: t.alpha,
            a: a.baseAddress!, lda: t.lda, b: b.baseAddress!, ldb: t.ldb, beta: t.beta,
            c: c.baseAddress!, ldc: t.ldc)
        }
      }
    }
    for i in 0..<t.m {
      for j in 0..<t.ldc {
        let index = i * t.ldc + j
        if j >= t.n {
          // Padding between rows of C is never written.
          if fast[index].bitPattern != c0[index].bitPattern {
            return "\(t): padding C[\(i), \(j)] was overwritten"
          }
          continue
        }
        var magnitude = 0.0
        for p in 0..<t.k { magnitude += Double(abs(t.a(i, p, a) * t.b(p, j, b))) }
        magnitude *= Double(abs(t.alpha))
        if t.beta != 0 { magnitude += Double(abs(t.beta * c0[index])) }
        if !KernelTestSupport.close(fast[index], slow[index], terms: t.k, magnitude: magnitude) {
          return "\(t): C[\(i), \(j)] = \(fast[index]), reference \(slow[index])"
        }
      }
    }
    return nil
  }

  @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
  func matchesReferenceOnEdgeShapes(transA: Bool, transB: Bool) {
    // Sizes around the tile (6×16), the k block (256) and the row block (144).
    let sizes = [1, 2, 5, 6, 7, 13, 16, 17, 31, 33, 97]
    var seed: UInt64 = 10
    for m in sizes {
      for n in sizes {
        for k in [1, 3, 16, 37] {
          seed += 3
          let t = Case(transA: transA, transB: transB, m: m, n: n, k: k, seed: seed)
          if let failure = Self.check(t) {
            Issue.record(Comment(rawValue: failure))
            return
          }
        }
      }
    }
  }

  @Test func matchesReferenceAcrossBlockBoundaries() {
    // k crosses the 256-deep block, m the 144-row block, n the 4096-column block.
    let cases = [
      Case(m: 150, n: 40, k: 257),
      Case(transA: true, m: 151, n: 33, k: 513, alpha: 0.5, beta: 1),
      Case(transB: true, m: 289, n: 17, k: 300, beta: -2),
      Case(transA: true, transB: true, m: 145, n: 50, k: 256, alpha: -1.5, beta: 0.25),
      Case(m: 7, n: 4200, k: 3, beta: 1),
      Case(transB: true, m: 3, n: 4111, k: 9, alpha: 2),
    ]
    for t in cases {
      if let failure = Self.check(t) { Issue.record(Comment(rawValue: failure)) }
    }
  }

  @Test func randomShapesTransposesScalarsStridesAndThreads() {
    var rng = Xoshiro256StarStar(seed: 2024)
    let alphas: [Float] = [1, -1, 0.5, 3]
    let betas: [Float] = [0, 1, -0.5, 2]
    for trial in 0..<120 {
      let t = Case(
        transA: rng.nextIndex(below: 2) == 1, transB: rng.nextIndex(below: 2) == 1,
        m: 1 + rng.nextIndex(below: 90), n: 1 + rng.nextIndex(below: 90),
        k: 1 + rng.nextIndex(below: 300),
        alpha: alphas[rng.nextIndex(below: 4)], beta: betas[rng.nextIndex(below: 4)],
        padA: rng.nextIndex(below: 3) * 5, padB: rng.nextIndex(below: 3) * 3,
        padC: rng.nextIndex(below: 3) * 7, threads: 1 + rng.nextIndex(below: 4),
        seed: UInt64(trial) * 7 + 100)
      if let failure = Self.check(t) {
        Issue.record(Comment(rawValue: failure))
        return
      }
    }
  }

  @Test func trainingShapesOnTwoThreads() {
    let cases = [
      Case(transB: true, m: 128, n: 800, k: 784, threads: 2),  // linear forward, W [out, in]
      Case(m: 128, n: 10, k: 800, threads: 2),
      Case(transA: true, m: 800, n: 784, k: 128, beta: 1, threads: 2),  // weight gradient
      Case(m: 40, n: 64 * 16, k: 375, threads: 2),  // conv as im2col, batch 16
    ]
    for t in cases {
      if let failure = Self.check(t) { Issue.record(Comment(rawValue: failure)) }
    }
  }

  @Test func deepNarrowProductsTakeTheDotPath() {
    // A·Bᵀ with small m·n/(m + n) and deep k: the unpacked dot-product kernel, including
    // partial 4×3 tiles, k blocks of 1024 with a remainder and k % 8 tails.
    let cases = [
      Case(transB: true, m: 15, n: 25, k: 2000, threads: 2),
      Case(transB: true, m: 128, n: 10, k: 800, threads: 2),
      Case(transB: true, m: 7, n: 5, k: 1031, alpha: -0.5, beta: 2, padA: 3, padB: 9, padC: 1),
      Case(transB: true, m: 1, n: 1, k: 4099, beta: 1),
      Case(transB: true, m: 6, n: 40, k: 300, alpha: 2, beta: 0, threads: 3),
      Case(transB: true, m: 41, n: 3, k: 517, beta: -1, threads: 2),
    ]
    for t in cases {
      #expect(GEMM.prefersDotProducts(m: t.m, n: t.n, k: t.k), "\(t)")
      if let failure = Self.check(t) { Issue.record(Comment(rawValue: failure)) }
    }
    #expect(!GEMM.prefersDotProducts(m: 512, n: 512, k: 512))
    #expect(!GEMM.prefersDotProducts(m: 30, n: 30, k: 64))
  }

  @Test func zeroDepthOrZeroAlphaScalesC() {
    for t in [
      // lda ≥ max(1, k), as in BLAS.
      Case(m: 5, n: 9, k: 0, beta: 0, padA: 1), Case(m: 5, n: 9, k: 0, beta: 2, padA: 1),
      Case(m: 8, n: 3, k: 4, alpha: 0, beta: -1),
    ] {
      if let failure = Self.check(t) { Issue.record(Comment(rawValue: failure)) }
    }
  }

  @Test func repeatedRunsAreBitIdenticalForEachThreadCount() {
    // The packed path (203×301) and the dot-product path (20×30).
    for (m, n, k) in [(203, 301, 517), (20, 30, 2100)] {
      let a = KernelTestSupport.randomMatrix(m * k, seed: 5)
      let b = KernelTestSupport.randomMatrix(k * n, seed: 6)
      for threads in [1, 2, 3] {
        var first: [UInt32] = []
        for run in 0..<4 {
          var c = [Float](repeating: 0, count: m * n)
          GEMM.sgemm(
            transA: false, transB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: &c,
            ldc: n, threads: threads)
          let bits = KernelTestSupport.bits(c)
          if run == 0 {
            first = bits
          } else {
            #expect(bits == first, "m=\(m) threads \(threads) run \(run)")
          }
        }
      }
    }
  }

  @Test func threadPlanCoversCOnceAlongWholeTiles() {
    for (m, n, k) in [(1, 1, 1), (512, 512, 512), (128, 10, 800), (40, 1024, 375), (7, 4200, 3)] {
      for threads in 1...5 {
        let plan = GEMM.ThreadPlan(m: m, n: n, k: k, threads: threads)
        #expect(plan.count >= 1 && plan.count <= threads)
        var covered = [Int](repeating: 0, count: m * n)
        for tile in 0..<plan.count {
          let rows = plan.rows(tile), columns = plan.columns(tile)
          #expect(rows.lowerBound % 6 == 0 && columns.lowerBound % 16 == 0)
          for i in rows { for j in columns { covered[i * n + j] += 1 } }
        }
        #expect(covered.allSatisfy { $0 == 1 }, "m=\(m) n=\(n) threads=\(threads)")
      }
    }
    // Large products use every thread they are given.
    #expect(GEMM.ThreadPlan(m: 512, n: 512, k: 512, threads: 2).count == 2)
  }
}
