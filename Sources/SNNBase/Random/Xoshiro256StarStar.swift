/// xoshiro256** (Blackman & Vigna 2018): the library's default generator.
///
/// 256 bits of state, period 2^256 − 1, and `jump()` / `longJump()` that advance the state
/// by 2^128 and 2^192 draws. Independent streams come from jumps, so two streams of one
/// seed never overlap within 2^128 draws: `Xoshiro256StarStar(seed: s, stream: k)` is the
/// generator of seed `s` jumped `k` times.
@frozen
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable, Hashable {
  public var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

  /// Seeds the state from SplitMix64, as the algorithm's authors recommend.
  @inlinable
  public init(seed: UInt64) {
    var mixer = SplitMix64(seed: seed)
    s0 = mixer.next()
    s1 = mixer.next()
    s2 = mixer.next()
    s3 = mixer.next()
  }

  /// Stream `stream` of `seed`: the state of `init(seed:)` advanced by `stream` × 2^128
  /// draws. Creating stream k costs k jumps (about 1 µs each).
  public init(seed: UInt64, stream: Int) {
    precondition(stream >= 0, "stream must be non-negative")
    self.init(seed: seed)
    for _ in 0..<stream { jump() }
  }

  /// Restores a generator from its four state words (as saved in a checkpoint).
  public init(state: (UInt64, UInt64, UInt64, UInt64)) {
    precondition(state != (0, 0, 0, 0), "the all-zero state is not allowed")
    (s0, s1, s2, s3) = state
  }

  /// The four state words, for checkpoints.
  public var state: (UInt64, UInt64, UInt64, UInt64) { (s0, s1, s2, s3) }

  @inlinable
  public mutating func next() -> UInt64 {
    let result = rotl(s1 &* 5, 7) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = rotl(s3, 45)
    return result
  }

  @inlinable @inline(__always)
  func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 &- k)) }

  /// Advances the state by 2^128 draws.
  public mutating func jump() {
    apply([0x180E_C6D3_3CFD_0ABA, 0xD5A6_1266_F0C9_392C, 0xA958_2618_E03F_C9AA, 0x39AB_DC45_29B1_661C])
  }

  /// Advances the state by 2^192 draws.
  public mutating func longJump() {
    apply([0x76E1_5D3E_FEFD_CBBF, 0xC500_4E44_1C52_2FB3, 0x7771_0069_854E_E241, 0x3910_9BB0_2ACB_E635])
  }

  private mutating func apply(_ polynomial: [UInt64]) {
    var t0: UInt64 = 0, t1: UInt64 = 0, t2: UInt64 = 0, t3: UInt64 = 0
    for word in polynomial {
      for bit in 0..<64 {
        if word & (1 << UInt64(bit)) != 0 {
          t0 ^= s0
          t1 ^= s1
          t2 ^= s2
          t3 ^= s3
        }
        _ = next()
      }
    }
    (s0, s1, s2, s3) = (t0, t1, t2, t3)
  }

  public static func == (a: Self, b: Self) -> Bool {
    a.s0 == b.s0 && a.s1 == b.s1 && a.s2 == b.s2 && a.s3 == b.s3
  }
  public func hash(into hasher: inout Hasher) {
    hasher.combine(s0)
    hasher.combine(s1)
    hasher.combine(s2)
    hasher.combine(s3)
  }
}
