import Testing

@testable import SNNBase
@testable import SNNEngine

@Suite struct GraphTests {
  @Test func builderSortsBySourceThenDelayThenTarget() {
    var b = SynapseGraph.Builder(sourceCount: 3, targetCount: 4)
    b.append(source: 2, target: 1, weight: 1, delay: 0)
    b.append(source: 0, target: 3, weight: 2, delay: 1)
    b.append(source: 0, target: 1, weight: 3, delay: 1)
    b.append(source: 0, target: 2, weight: 4, delay: 0.5)
    b.append(source: 2, target: 0, weight: 5, delay: 0)
    let g = b.finalize()
    #expect(g.rowStart == [0, 3, 3, 5])
    #expect(g.targets == [2, 1, 3, 0, 1])
    #expect(g.weights == [4, 3, 2, 5, 1])
    #expect(g.delays == [0.5, 1, 1, 0, 0])
    let t = g.transposed()
    // Row of target 1: synapses from sources 0 and 2, ascending.
    #expect(t.row(1).map { t.sources[$0] } == [0, 2])
    #expect(t.row(1).map { g.weights[Int(t.synapseIndex[$0])] } == [3, 1])
    #expect(t.rowStart.last == 5)
  }

  @Test func uniformDelaysAreNotStored() {
    var b = SynapseGraph.Builder(sourceCount: 2, targetCount: 2)
    b.append(source: 0, target: 1, weight: 1, delay: 1.5)
    b.append(source: 1, target: 0, weight: 1, delay: 1.5)
    let g = b.finalize()
    #expect(g.delays.isEmpty && g.uniformDelay == 1.5 && g.maximumDelay == 1.5)
  }

  @Test func fixedProbabilityHasTheExpectedDensity() {
    var rng = Xoshiro256StarStar(seed: 1)
    let g = SynapseGraph.fixedProbability(sourceCount: 1000, targetCount: 800, probability: 0.05, weight: 1, using: &rng)
    let expected = 1000.0 * 800 * 0.05
    #expect(abs(Double(g.synapseCount) - expected) < 5 * (expected * 0.95).squareRoot())
    for s in 0..<1000 {
      let row = g.row(s).map { g.targets[$0] }
      #expect(row == row.sorted() && Set(row).count == row.count)
    }
  }

  /// Brute-force convolution synapses: (source, target, kernel index) triples.
  func bruteForce(_ c: ConvConnectivity) -> [(Int, Int, Int)] {
    var out: [(Int, Int, Int)] = []
    for oy in 0..<c.outHeight {
      for ox in 0..<c.outWidth {
        for co in 0..<c.outChannels {
          for ky in 0..<c.kernelHeight {
            for kx in 0..<c.kernelWidth {
              let y = oy * c.stride - c.padding + ky, x = ox * c.stride - c.padding + kx
              guard y >= 0 && y < c.height && x >= 0 && x < c.width else { continue }
              for ci in 0..<c.inChannels {
                let source = (y * c.width + x) * c.inChannels + ci
                let target = (oy * c.outWidth + ox) * c.outChannels + co
                out.append((source, target, ((ky * c.kernelWidth + kx) * c.inChannels + ci) * c.outChannels + co))
              }
            }
          }
        }
      }
    }
    return out
  }

  @Test(arguments: [(3, 3, 2, 1, 1, 1, 2), (6, 5, 3, 2, 1, 2, 3), (8, 8, 5, 2, 2, 3, 4), (5, 7, 3, 0, 1, 1, 1)])
  func convolutionRunsMatchBruteForce(_ h: Int, _ w: Int, _ k: Int, _ pad: Int, _ stride: Int, _ cin: Int, _ cout: Int) {
    let c = ConvConnectivity(
      inChannels: cin, height: h, width: w, outChannels: cout, kernelHeight: k, kernelWidth: k, stride: stride,
      padding: pad, kernel: (0..<(k * k * cin * cout)).map(Float.init))
    var fromRuns: [(Int, Int, Int)] = []
    for s in 0..<c.sourceCount {
      c.forEachRun(of: s) { first, offset, n in
        for i in 0..<n { fromRuns.append((s, first + i, offset + i)) }
      }
    }
    var fromTransposed: [(Int, Int, Int)] = []
    for t in 0..<c.targetCount {
      c.forEachSourceRun(of: t) { first, offset, n, stride in
        for i in 0..<n { fromTransposed.append((first + i, t, offset + i * stride)) }
      }
    }
    func key(_ e: (Int, Int, Int)) -> [Int] { [e.0, e.1, e.2] }
    let reference = bruteForce(c).map(key).sorted { $0.lexicographicallyPrecedes($1) }
    #expect(fromRuns.map(key).sorted { $0.lexicographicallyPrecedes($1) } == reference)
    #expect(fromTransposed.map(key).sorted { $0.lexicographicallyPrecedes($1) } == reference)
    #expect(c.synapseCount == reference.count)
    #expect((0..<c.sourceCount).map(c.fanOut).reduce(0, +) == reference.count)
  }

  @Test func borderNeuronsOfAPaddedConvolutionHaveSmallerFanOut() {
    // 3×3 input, 2×2 kernel, padding 1, stride 1: a 4×4 output. Every input pixel reaches
    // four output positions (its kernel offsets), at every border too, while the output
    // corners see one input pixel each.
    let c = ConvConnectivity(
      inChannels: 1, height: 3, width: 3, outChannels: 1, kernelHeight: 2, kernelWidth: 2, stride: 1, padding: 1,
      kernel: [1, 1, 1, 1])
    #expect((0..<9).map(c.fanOut) == Array(repeating: 4, count: 9))
    var fanIn = [Int](repeating: 0, count: 16)
    for t in 0..<16 { c.forEachSourceRun(of: t) { _, _, n, _ in fanIn[t] += n } }
    #expect(fanIn == [1, 2, 2, 1, 2, 4, 4, 2, 2, 4, 4, 2, 1, 2, 2, 1])
    // Without padding and with stride 2 on a 5×5 input, the border pixels reach fewer outputs.
    let s = ConvConnectivity(
      inChannels: 1, height: 5, width: 5, outChannels: 1, kernelHeight: 3, kernelWidth: 3, stride: 2, padding: 0,
      kernel: Array(repeating: 1, count: 9))
    #expect(s.outHeight == 2 && s.outWidth == 2)
    #expect(s.fanOut(0) == 1 && s.fanOut(2) == 2 && s.fanOut(12) == 4 && s.fanOut(1) == 1)
  }
}
