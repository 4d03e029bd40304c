import SNNBase

/// Event-driven products for binary spike inputs: only active (nonzero) inputs are visited.
///
/// Inside the dense backend, a layer whose input is a {0, 1} spike matrix of low density
/// does less work by accumulating the weight rows of the active inputs than by a full
/// GEMM. The results equal `GEMM.sgemm` on the same operands up to floating-point summation
/// order. Callers choose between the two by the measured density (`crossoverDensity`).
public enum SpikeGEMM {
  /// Below this fraction of active inputs the spike kernels beat `GEMM.sgemm` (measured by
  /// `snn bench gemm --spikes`; see Docs/Benchmarks.md).
  nonisolated(unsafe) public static var crossoverDensity: Double = 0.1

  /// `C = S · W + beta · C`: S is m×k row-major with entries 0 or 1 (stride `lds`), W is
  /// k×n row-major (stride `ldw`), C is m×n (stride `ldc`). Nonzero entries of S are
  /// treated as 1.
  public static func multiply(
    spikes s: UnsafePointer<Float>, lds: Int, m: Int, k: Int,
    weights w: UnsafePointer<Float>, ldw: Int, n: Int, beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = Parallel.defaultThreads
  ) {
    for i in 0..<m {
      let row = c + i * ldc
      if beta == 0 {
        for j in 0..<n { row[j] = 0 }
      } else if beta != 1 {
        for j in 0..<n { row[j] *= beta }
      }
      for p in 0..<k where s[i * lds + p] != 0 {
        let wr = w + p * ldw
        for j in 0..<n { row[j] += wr[j] }
      }
    }
  }

  /// `G += Sᵀ · D`: the weight gradient of `multiply`. S is m×k (stride `lds`, entries 0 or
  /// 1), D is m×n (stride `ldd`), G is k×n (stride `ldg`).
  public static func accumulateTransposed(
    spikes s: UnsafePointer<Float>, lds: Int, m: Int, k: Int,
    gradient d: UnsafePointer<Float>, ldd: Int, n: Int,
    into g: UnsafeMutablePointer<Float>, ldg: Int, threads: Int = Parallel.defaultThreads
  ) {
    for i in 0..<m {
      let dr = d + i * ldd
      for p in 0..<k where s[i * lds + p] != 0 {
        let gr = g + p * ldg
        for j in 0..<n { gr[j] += dr[j] }
      }
    }
  }

  /// The fraction of nonzero entries among the first `count` values.
  public static func density(_ values: UnsafePointer<Float>, count: Int) -> Double {
    guard count > 0 else { return 0 }
    var active = 0
    for i in 0..<count where values[i] != 0 { active += 1 }
    return Double(active) / Double(count)
  }
}
