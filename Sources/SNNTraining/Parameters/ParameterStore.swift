import SNNBase

/// Named Float32 parameters with their gradient buffers, independent of any backend.
///
/// The same store loads into the dense backend or the event engine: each parameter is a
/// flat row-major array (`conv1.weight` is `[out, in, k, k]`), and backends read and write
/// it in place through ``withValues(_:_:)`` / ``withGradients(_:_:)``. Order is the order
/// of insertion, which is deterministic (the model's layout, then what a method adds), and
/// everything that iterates (initialization, norms, checkpoints) follows it.
///
/// Initialization is seeded per parameter: parameter `name` draws from
/// `RandomStreams.generator(seed, "init/" + name)`, so adding a parameter never changes
/// another's initial values.
public struct ParameterStore: Equatable, Sendable {
  /// One parameter: its values and a gradient buffer of the same size.
  public struct Parameter: Equatable, Sendable {
    public let name: String
    public let shape: [Int]
    public let group: ParameterGroup
    public let fanIn: Int
    public let fanOut: Int
    public var values: [Float]
    /// dL/dθ, accumulated by backward passes; zeroed by ``ParameterStore/zeroGradients()``.
    public var gradients: [Float]
    public var count: Int { values.count }
  }

  public private(set) var parameters: [Parameter] = []
  private var indexByName: [String: Int] = [:]

  /// An empty store.
  public init() {}

  /// The parameters of `model`, initialized from `seed` (see ``ModelAnalysis/parameterLayout``).
  public init(model: ModelSpec, seed: UInt64) throws(ConfigurationError) {
    let analysis = try model.analyze()
    for descriptor in analysis.parameterLayout { add(descriptor, seed: seed) }
  }

  /// The number of parameters (tensors).
  public var count: Int { parameters.count }
  /// The number of scalar values over all parameters.
  public var scalarCount: Int { parameters.reduce(0) { $0 + $1.count } }
  /// Parameter names in order.
  public var names: [String] { parameters.map(\.name) }

  /// Adds a parameter initialized by its descriptor from stream `init/<name>` of `seed`.
  /// Names must be unique (a precondition).
  @discardableResult
  public mutating func add(_ descriptor: ParameterDescriptor, seed: UInt64) -> Int {
    var values = [Float](repeating: 0, count: descriptor.count)
    var generator = RandomStreams.generator(seed, "init/" + descriptor.name)
    descriptor.initializer.fill(
      &values, fanIn: descriptor.fanIn, fanOut: descriptor.fanOut, using: &generator)
    return add(descriptor, values: values)
  }

  /// Adds a parameter with the given values (`values.count` must match the shape).
  @discardableResult
  public mutating func add(_ descriptor: ParameterDescriptor, values: [Float]) -> Int {
    precondition(
      indexByName[descriptor.name] == nil, "parameter '\(descriptor.name)' already exists")
    precondition(
      descriptor.shape.allSatisfy { $0 >= 0 }, "negative dimension in '\(descriptor.name)'")
    precondition(
      values.count == descriptor.count, "'\(descriptor.name)': values do not match the shape")
    indexByName[descriptor.name] = parameters.count
    parameters.append(
      Parameter(
        name: descriptor.name, shape: descriptor.shape, group: descriptor.group,
        fanIn: descriptor.fanIn, fanOut: descriptor.fanOut, values: values,
        gradients: [Float](repeating: 0, count: values.count)))
    return parameters.count - 1
  }

  /// Re-initializes parameter `index` with `initializer` from stream `init/<name>` of
  /// `seed` (e.g. SPIDE's feedback at Kaiming × 0.1, NDOT's readout at N(0, 0.01)).
  public mutating func reinitialize(
    _ index: Int, with initializer: ParameterInitializer, seed: UInt64
  ) {
    var generator = RandomStreams.generator(seed, "init/" + parameters[index].name)
    let p = parameters[index]
    initializer.fill(&parameters[index].values, fanIn: p.fanIn, fanOut: p.fanOut, using: &generator)
  }

  /// The index of parameter `name`, or nil.
  public func index(of name: String) -> Int? { indexByName[name] }

  /// Parameter `index`. Values and gradients can be changed in place
  /// (`store[i].values[j] = x`); name, shape and group cannot.
  public subscript(index: Int) -> Parameter {
    get { parameters[index] }
    _modify { yield &parameters[index] }
  }

  /// Parameter `name`; a precondition that it exists.
  public subscript(name: String) -> Parameter {
    get {
      guard let i = indexByName[name] else { preconditionFailure("no parameter named '\(name)'") }
      return parameters[i]
    }
    _modify {
      guard let i = indexByName[name] else { preconditionFailure("no parameter named '\(name)'") }
      yield &parameters[i]
    }
  }

  /// Runs `body` on the values of parameter `index` (one bounds-check-free buffer for a hot
  /// loop).
  public mutating func withValues<R>(
    _ index: Int, _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
  ) rethrows -> R {
    try parameters[index].values.withUnsafeMutableBufferPointer { try body($0) }
  }

  /// Runs `body` on the gradient buffer of parameter `index`.
  public mutating func withGradients<R>(
    _ index: Int, _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
  ) rethrows -> R {
    try parameters[index].gradients.withUnsafeMutableBufferPointer { try body($0) }
  }

  /// Runs `body` on the values and the gradients of parameter `index` together (an
  /// optimizer's update loop).
  public mutating func withValuesAndGradients<R>(
    _ index: Int,
    _ body: (UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) throws -> R
  ) rethrows -> R {
    var gradients = parameters[index].gradients
    parameters[index].gradients = []
    defer { parameters[index].gradients = gradients }
    return try parameters[index].values.withUnsafeMutableBufferPointer { v in
      try gradients.withUnsafeMutableBufferPointer { g in try body(v, g) }
    }
  }

  /// Sets every gradient to zero.
  public mutating func zeroGradients() {
    for i in parameters.indices {
      parameters[i].gradients.withUnsafeMutableBufferPointer { g in
        g.update(repeating: 0)
      }
    }
  }

  /// The global L2 norm of all gradients, `√Σ g²`, summed in Double in parameter order.
  public func gradientNorm() -> Double {
    var total = 0.0
    for p in parameters {
      p.gradients.withUnsafeBufferPointer { g in
        for x in g { total += Double(x) * Double(x) }
      }
    }
    return total.squareRoot()
  }

  /// Multiplies every gradient by `factor`.
  public mutating func scaleGradients(by factor: Float) {
    for i in parameters.indices {
      parameters[i].gradients.withUnsafeMutableBufferPointer { g in
        for j in g.indices { g[j] *= factor }
      }
    }
  }

  // MARK: Checkpoints

  /// The values as blobs named `<prefix><name>` (gradients are not saved: they are
  /// recomputed from scratch every step).
  public func blobs(prefix: String = "param/") -> [TensorBlob] {
    parameters.map { TensorBlob(name: prefix + $0.name, shape: $0.shape, values: $0.values) }
  }

  /// Loads values from blobs named `<prefix><name>`: every parameter must be present with
  /// its exact shape, and no other blob may carry the prefix. Nothing changes unless all
  /// parameters load. Gradients are zeroed.
  public mutating func load(_ blobs: [TensorBlob], prefix: String = "param/")
    throws(CheckpointError)
  {
    var byName: [String: TensorBlob] = [:]
    for blob in blobs where blob.name.hasPrefix(prefix) {
      let name = String(blob.name.dropFirst(prefix.count))
      guard indexByName[name] != nil else {
        throw CheckpointError(
          .unexpectedBlob, field: "blob '\(blob.name)'",
          expected: "only the parameters " + names.map { "'\($0)'" }.joined(separator: ", "),
          found: "a parameter this model does not have")
      }
      byName[name] = blob
    }
    var loaded = parameters
    for i in loaded.indices {
      let p = loaded[i]
      guard let blob = byName[p.name] else {
        throw CheckpointError(
          .missingBlob, field: "blob '\(prefix)\(p.name)'",
          expected: "parameter '\(p.name)' of shape \(p.shape)", found: "no such blob")
      }
      guard blob.shape == p.shape else {
        throw CheckpointError(
          .incompatible, field: "blob '\(blob.name)'", expected: "shape \(p.shape)",
          found: "shape \(blob.shape)")
      }
      loaded[i].values = blob.values
      loaded[i].gradients = [Float](repeating: 0, count: p.count)
    }
    parameters = loaded
  }

  /// Whether both stores hold the same parameters with bit-identical values.
  public func isBitIdentical(to other: ParameterStore) -> Bool {
    zip(blobs(), other.blobs()).allSatisfy { $0.isBitIdentical(to: $1) } && count == other.count
  }
}
