import SNNBase

/// A method's complete state: JSON for scalars, blobs for arrays, generators by name.
public struct MethodState: Sendable {
  /// A JSON object (step counters, optimizer kind, flags…).
  public var json: JSONValue
  /// Arrays: parameters (`param/<name>`, see ``ParameterStore/blobs(prefix:)``), optimizer
  /// moments (`optimizer/…`), anything else. Names must be unique.
  public var blobs: [TensorBlob]
  /// Generators the method owns, saved as their four state words.
  public var generators: [(name: String, state: Xoshiro256StarStar)]

  public init(
    json: JSONValue = [:], blobs: [TensorBlob] = [],
    generators: [(name: String, state: Xoshiro256StarStar)] = []
  ) {
    self.json = json
    self.blobs = blobs
    self.generators = generators
  }

  /// The generator saved under `name`, or a `missingBlob`-style error naming it.
  public func generator(_ name: String) throws(CheckpointError) -> Xoshiro256StarStar {
    guard let g = generators.first(where: { $0.name == name }) else {
      throw CheckpointError(
        .invalidHeader, field: "header.random_states.\(name)",
        expected: "the state of generator '\(name)'",
        found: "nothing")
    }
    return g.state
  }

  /// Whether two states hold the same JSON, bit-identical blobs and the same generators.
  public func isBitIdentical(to other: MethodState) -> Bool {
    json == other.json && blobs.count == other.blobs.count
      && zip(blobs, other.blobs).allSatisfy { $0.isBitIdentical(to: $1) }
      && generators.count == other.generators.count
      && zip(generators, other.generators).allSatisfy { $0.name == $1.name && $0.state == $1.state }
  }
}
