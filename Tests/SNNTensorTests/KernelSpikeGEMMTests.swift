import SNNBase
import Testing

@testable import SNNTensor

@Suite struct KernelSpikeGEMMTests {
  /// `S·W` (+ beta·C) in Double with the magnitudes for the error bound.
  static func expectedMultiply(
    s: [Float], w: [Float], c0: [Float], m: Int, n: Int, k: Int, beta: Float
  ) -> (values: [Double], magnitudes: [Double]) {
    var values = [Double](repeating: 0, count: m * n), magnitudes = values
    for i in 0..<m {
      for j in 0..<n {
        var sum = beta == 0 ? 0 : Double(beta * c0[i * n + j])
        var magnitude = abs(sum)
        for p in 0..<k where s[i * k + p] != 0 {
          sum += Double(w[p * n + j])
          magnitude += Double(abs(w[p * n + j]))
        }
        values[i * n + j] = sum
        magnitudes[i * n + j] = magnitude
      }
    }
    return (values, magnitudes)
  }

  @Test func multiplyMatchesDenseProductForShapesDensitiesAndBeta() throws {
    var seed: UInt64 = 300
    for (m, n, k) in [(1, 1, 1), (3, 10, 7), (17, 65, 33), (70, 130, 100), (5, 247, 9)] {
      for density in [0.0, 0.05, 0.3, 1.0] {
        for beta: Float in [0, 1, -0.5] {
          for threads in [1, 3] {
            seed += 1
            // Nonzero spike values other than 1 count as 1.
            var s = KernelTestSupport.randomSpikes(m * k, density: density, seed: seed)
            if s.count > 2 && s[1] != 0 { s[1] = 0.25 }
            let w = KernelTestSupport.randomMatrix(k * n, seed: seed + 1000)
            var c = KernelTestSupport.randomMatrix(m * n, seed: seed + 2000)
            if beta == 0 { c = c.map { _ in .nan } }
            let c0 = c
            let sOnes = s.map { $0 != 0 ? Float(1) : 0 }
            let expected = Self.expectedMultiply(
              s: sOnes, w: w, c0: c0, m: m, n: n, k: k, beta: beta)
            SpikeGEMM.multiply(
              spikes: s, lds: k, m: m, k: k, weights: w, ldw: n, n: n, beta: beta, c: &c,
              ldc: n, threads: threads)
            for index in c.indices {
              let ok =
                abs(Double(c[index]) - expected.values[index])
                <= 2 * Double(k + 2) * Double(Float.ulpOfOne) * expected.magnitudes[index] + 1e-30
              try #require(
                ok,
                "m=\(m) n=\(n) k=\(k) d=\(density) β=\(beta): C[\(index)] = \(c[index]), expected \(expected.values[index])"
              )
            }
          }
        }
      }
    }
  }

  @Test func accumulateTransposedMatchesDenseProduct() throws {
    var seed: UInt64 = 900
    for (m, n, k) in [(1, 1, 1), (4, 9, 3), (33, 70, 17), (128, 100, 90), (9, 300, 40)] {
      for density in [0.0, 0.1, 0.5, 1.0] {
        for threads in [1, 2, 4] {
          seed += 1
          let s = KernelTestSupport.randomSpikes(m * k, density: density, seed: seed)
          let d = KernelTestSupport.randomMatrix(m * n, seed: seed + 1000)
          let g0 = KernelTestSupport.randomMatrix(k * n, seed: seed + 2000)
          var g = g0
          SpikeGEMM.accumulateTransposed(
            spikes: s, lds: k, m: m, k: k, gradient: d, ldd: n, n: n, into: &g, ldg: n,
            threads: threads)
          for p in 0..<k {
            for j in 0..<n {
              var sum = Double(g0[p * n + j]), magnitude = abs(sum)
              for i in 0..<m where s[i * k + p] != 0 {
                sum += Double(d[i * n + j])
                magnitude += Double(abs(d[i * n + j]))
              }
              let ok =
                abs(Double(g[p * n + j]) - sum)
                <= 2 * Double(m + 2) * Double(Float.ulpOfOne) * magnitude + 1e-30
              try #require(
                ok,
                "m=\(m) n=\(n) k=\(k) d=\(density): G[\(p), \(j)] = \(g[p * n + j]), expected \(sum)"
              )
            }
          }
        }
      }
    }
  }

  @Test func stridesLargerThanTheWidthAreRespected() {
    let m = 6, n = 20, k = 11, lds = 15, ldw = 27, ldc = 23, ldd = 25, ldg = 29
    let s = KernelTestSupport.randomSpikes(m * lds, density: 0.4, seed: 1)
    let w = KernelTestSupport.randomMatrix(k * ldw, seed: 2)
    let d = KernelTestSupport.randomMatrix(m * ldd, seed: 3)
    var c = [Float](repeating: 7, count: m * ldc)
    var g = [Float](repeating: 0, count: k * ldg)
    SpikeGEMM.multiply(
      spikes: s, lds: lds, m: m, k: k, weights: w, ldw: ldw, n: n, c: &c, ldc: ldc, threads: 2)
    SpikeGEMM.accumulateTransposed(
      spikes: s, lds: lds, m: m, k: k, gradient: d, ldd: ldd, n: n, into: &g, ldg: ldg,
      threads: 2)
    var expectedC = [Float](repeating: 7, count: m * ldc)
    var expectedG = [Float](repeating: 0, count: k * ldg)
    GEMM.reference(
      transA: false, transB: false, m: m, n: n, k: k, a: s, lda: lds, b: w, ldb: ldw,
      c: &expectedC, ldc: ldc)
    GEMM.reference(
      transA: true, transB: false, m: k, n: n, k: m, a: s, lda: lds, b: d, ldb: ldd, beta: 1,
      c: &expectedG, ldc: ldg)
    for i in c.indices {
      #expect(abs(c[i] - expectedC[i]) <= 1e-5 * Float(k), "C[\(i)]")
    }
    for i in g.indices {
      #expect(abs(g[i] - expectedG[i]) <= 1e-5 * Float(m), "G[\(i)]")
    }
  }

  @Test func resultsDoNotDependOnThreadsOrRun() {
    let m = 150, n = 333, k = 257
    let s = KernelTestSupport.randomSpikes(m * k, density: 0.2, seed: 11)
    let w = KernelTestSupport.randomMatrix(k * n, seed: 12)
    var reference: [UInt32] = [], referenceG: [UInt32] = []
    for threads in [1, 2, 3, 1, 2] {
      var c = [Float](repeating: 0, count: m * n)
      var g = [Float](repeating: 0, count: k * n)
      SpikeGEMM.multiply(
        spikes: s, lds: k, m: m, k: k, weights: w, ldw: n, n: n, c: &c, ldc: n, threads: threads)
      SpikeGEMM.accumulateTransposed(
        spikes: s, lds: k, m: m, k: k, gradient: c, ldd: n, n: n, into: &g, ldg: n,
        threads: threads)
      if reference.isEmpty {
        reference = KernelTestSupport.bits(c)
        referenceG = KernelTestSupport.bits(g)
      } else {
        #expect(KernelTestSupport.bits(c) == reference, "threads \(threads)")
        #expect(KernelTestSupport.bits(g) == referenceG, "threads \(threads)")
      }
    }
  }

  @Test func densityCountsNonzeros() {
    var values = [Float](repeating: 0, count: 37)
    values[0] = 1
    values[8] = -2
    values[36] = 0.5
    #expect(SpikeGEMM.density(values, count: 37) == 3.0 / 37.0)
    #expect(SpikeGEMM.density(values, count: 0) == 0)
  }
}

extension KernelSpikeGEMMTests {
  @Test func crossoverGrowsWithTheNumberOfOutputs() {
    let narrow = SpikeGEMM.crossoverDensity(outputs: 10)
    let medium = SpikeGEMM.crossoverDensity(outputs: 300)
    let wide = SpikeGEMM.crossoverDensity(outputs: 800)
    #expect(narrow < medium && medium < wide)
    // Below the measured crossovers (0.02, 0.17, 0.29), within the clamp.
    #expect(narrow >= 0.005 && narrow < 0.02)
    #expect(medium < 0.17 && wide < 0.29)
    #expect(SpikeGEMM.crossoverDensity(outputs: 1_000_000) == 0.25)
  }
}
