import SNNBase

/// Splits `count` samples into mini-batches, in an order that is a pure function of
/// (seed, epoch).
///
/// With shuffling, epoch e's order is `[0, 1, ..., count−1]` shuffled by
/// `Array.seededShuffle` (Fisher–Yates) with the generator ``generator(seed:epoch:)``;
/// without, it is the identity. Batch b is `order[b·batchSize ..< (b+1)·batchSize]`; the
/// last partial batch is kept or dropped (`dropLast`). Because nothing carries over between
/// epochs, a trainer that saved (epoch, batch index) resumes bit-identically by recomputing
/// `order(epoch:)`.
public struct BatchSampler: Sendable, Equatable {
  public let count: Int
  public let batchSize: Int
  public let seed: UInt64
  public let shuffle: Bool
  public let dropLast: Bool

  /// - Parameters:
  ///   - count: the number of samples.
  ///   - batchSize: samples per batch (> 0).
  ///   - seed: the run's seed; with the epoch it fixes the order.
  ///   - shuffle: shuffle every epoch (else the identity order).
  ///   - dropLast: drop the last batch when it is smaller than `batchSize`.
  public init(
    count: Int, batchSize: Int, seed: UInt64, shuffle: Bool = true, dropLast: Bool = false
  ) {
    precondition(count >= 0, "count must be non-negative")
    precondition(batchSize > 0, "batchSize must be positive")
    self.count = count
    self.batchSize = batchSize
    self.seed = seed
    self.shuffle = shuffle
    self.dropLast = dropLast
  }

  /// Batches per epoch: ⌊count / batchSize⌋, plus one for a kept partial batch.
  public var batchesPerEpoch: Int {
    dropLast ? count / batchSize : (count + batchSize - 1) / batchSize
  }

  /// The generator that shuffles epoch `epoch`: xoshiro256** seeded with
  /// `seed + (epoch + 1) · 0x9E3779B97F4A7C15` (wrapping), which its SplitMix64 seeding
  /// spreads into unrelated states.
  public static func generator(seed: UInt64, epoch: Int) -> Xoshiro256StarStar {
    precondition(epoch >= 0, "epoch must be non-negative")
    return Xoshiro256StarStar(seed: seed &+ (UInt64(epoch) &+ 1) &* 0x9E37_79B9_7F4A_7C15)
  }

  /// The sample order of epoch `epoch`.
  public func order(epoch: Int) -> [Int] {
    var order = Array(0..<count)
    if shuffle {
      var rng = BatchSampler.generator(seed: seed, epoch: epoch)
      order.seededShuffle(using: &rng)
    }
    return order
  }

  /// Batch `index` of an epoch's `order`.
  public func batch(_ index: Int, of order: [Int]) -> ArraySlice<Int> {
    precondition(
      index >= 0 && index < batchesPerEpoch,
      "batch index \(index) out of range 0..<\(batchesPerEpoch)")
    precondition(order.count == count, "order has \(order.count) entries, expected \(count)")
    return order[index * batchSize..<min((index + 1) * batchSize, count)]
  }

  /// All batches of epoch `epoch`.
  public func batches(epoch: Int) -> [ArraySlice<Int>] {
    let order = order(epoch: epoch)
    return (0..<batchesPerEpoch).map { batch($0, of: order) }
  }
}
