/// The index of a neuron in a network, global over all populations.
///
/// Populations occupy contiguous ranges of IDs; a population's neuron `k` has the ID
/// `population.start + k`. 32 bits keep event records and synapse arrays small.
@frozen
public struct NeuronID: Hashable, Comparable, Sendable, CustomStringConvertible {
  public var rawValue: UInt32

  @inlinable public init(_ rawValue: UInt32) { self.rawValue = rawValue }
  @inlinable public init(_ index: Int) { self.rawValue = UInt32(truncatingIfNeeded: index) }

  /// The ID as an array index.
  @inlinable public var index: Int { Int(rawValue) }

  @inlinable public static func < (a: NeuronID, b: NeuronID) -> Bool { a.rawValue < b.rawValue }
  public var description: String { "#\(rawValue)" }
}
