import SNNBase

/// Named, independent random streams derived from one run seed.
///
/// Every consumer of randomness in a run (parameter initialization, the epoch order,
/// a training step's dropout, an evaluation batch's Poisson encoding) gets its own
/// generator from `(seed, label, index)`, so that what one consumer draws never shifts
/// another's numbers, and a stream can be recreated from the three values alone (which is
/// what makes resuming exact without saving the generators).
///
/// The derivation: 64-bit FNV-1a of the label's UTF-8 bytes, mixed with the seed and the
/// index by SplitMix64 steps; the result seeds ``Xoshiro256StarStar``.
public enum RandomStreams {
  /// The 64-bit seed of stream `(seed, label, index)`.
  public static func seed(_ seed: UInt64, _ label: String, _ index: Int = 0) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in label.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x0000_0100_0000_01B3
    }
    var mixer = SplitMix64(seed: seed ^ hash)
    _ = mixer.next()
    mixer.state ^= UInt64(bitPattern: Int64(index))
    return mixer.next()
  }

  /// The generator of stream `(seed, label, index)`.
  public static func generator(_ seed: UInt64, _ label: String, _ index: Int = 0)
    -> Xoshiro256StarStar
  {
    Xoshiro256StarStar(seed: self.seed(seed, label, index))
  }
}
