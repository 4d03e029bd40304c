/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit generator with one word of state.
///
/// Fast and statistically sound for seeding; swift-snn uses it to expand a user seed into
/// the 256-bit state of ``Xoshiro256StarStar``. Every output of a seed is reproducible on
/// every platform.
@frozen
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
  public var state: UInt64

  @inlinable public init(seed: UInt64) { state = seed }

  @inlinable
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
