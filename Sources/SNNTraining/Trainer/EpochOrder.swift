import SNNBase

/// The order of the training samples in an epoch: a pure function of the seed and the
/// epoch, so that a resumed run sees exactly the batches an uninterrupted run sees.
///
/// Epoch `e`'s order is `0..<n` shuffled (Fisher–Yates, ``Swift/Array/seededShuffle(using:)``)
/// by the generator of stream `("epoch-order", e)` of the seed (``RandomStreams``).
public enum EpochOrder {
  public static func permutation(sampleCount: Int, seed: UInt64, epoch: Int) -> [Int] {
    var order = Array(0..<sampleCount)
    var generator = RandomStreams.generator(seed, "epoch-order", epoch)
    order.seededShuffle(using: &generator)
    return order
  }
}
