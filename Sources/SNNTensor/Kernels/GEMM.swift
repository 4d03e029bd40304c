import SNNBase

/// Single-precision general matrix multiply on row-major storage.
///
/// `C = alpha · op(A) · op(B) + beta · C`, where `op(X)` is `X` or `Xᵀ`, `op(A)` is m×k,
/// `op(B)` is k×n and `C` is m×n. Leading dimensions are row strides (elements between the
/// starts of consecutive rows of the stored matrix). With `beta == 0`, `C` is not read
/// (it may hold NaN).
///
/// This is the one entry point every dense layer uses; its implementation (packing, SIMD
/// register tiles, threads) can change without touching callers. Results for a given
/// `threads` value are deterministic.
public enum GEMM {
  public static func sgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = Parallel.defaultThreads
  ) {
    reference(
      transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
      ldb: ldb, beta: beta, c: c, ldc: ldc)
  }

  /// The straightforward triple loop (Float accumulation in k order): the correctness
  /// reference for tests.
  public static func reference(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    for i in 0..<m {
      for j in 0..<n {
        var sum: Float = 0
        for p in 0..<k {
          let av = transA ? a[p * lda + i] : a[i * lda + p]
          let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
          sum += av * bv
        }
        let old = beta == 0 ? 0 : beta * c[i * ldc + j]
        c[i * ldc + j] = alpha * sum + old
      }
    }
  }
}
