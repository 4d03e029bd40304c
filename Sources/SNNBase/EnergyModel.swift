/// Energy estimates from exact operation counts.
///
/// `E = N_AC·E_AC + N_MAC·E_MAC (+ N_access·E_access)`: every synaptic accumulate (a binary
/// spike adding a weight) costs one addition, every multiply-accumulate (a non-binary input
/// times a weight: an analog first layer, a readout of rates) one MAC, and optionally every
/// synaptic event one memory access (reading the weight). The ANN baseline of the same
/// network is its dense MAC count per sample times `E_MAC`. Counts come from
/// ``SynOpCounter`` (exact); the cost tables are per operation, in picojoules.
public struct EnergyModel: Sendable, Equatable {
  /// Energy per operation, in pJ.
  public struct CostTable: Sendable, Equatable {
    public var name: String
    /// One addition (an accumulate).
    public var addPicojoules: Double
    /// One multiply-accumulate.
    public var macPicojoules: Double
    /// One memory access per synaptic event, or 0 to leave memory out.
    public var memoryAccessPicojoules: Double
    public var source: String

    public init(name: String, addPicojoules: Double, macPicojoules: Double, memoryAccessPicojoules: Double = 0, source: String) {
      self.name = name
      self.addPicojoules = addPicojoules
      self.macPicojoules = macPicojoules
      self.memoryAccessPicojoules = memoryAccessPicojoules
      self.source = source
    }

    /// Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014,
    /// 45 nm: floating-point add and multiply; a MAC is counted as add + multiply.
    public static let fp32 = CostTable(name: "fp32", addPicojoules: 0.9, macPicojoules: 4.6, source: "Horowitz, ISSCC 2014, 45 nm")
    public static let fp16 = CostTable(name: "fp16", addPicojoules: 0.4, macPicojoules: 1.5, source: "Horowitz, ISSCC 2014, 45 nm")
    public static let int8 = CostTable(name: "int8", addPicojoules: 0.03, macPicojoules: 0.23, source: "Horowitz, ISSCC 2014, 45 nm")

    public static let builtIn: [CostTable] = [.fp32, .fp16, .int8]

    /// Reads `{"name": ..., "add_pj": x, "mac_pj": y, "memory_access_pj": z, "source": ...}`
    /// (`name`, `memory_access_pj` and `source` optional).
    public init(json: JSONValue, path: String) throws(ConfigurationError) {
      var r = try JSONObjectReader(json, path: "")
      let name = try r.optionalString("name") ?? path
      let add = try r.double("add_pj")
      let mac = try r.double("mac_pj")
      let memory = try r.optionalDouble("memory_access_pj") ?? 0
      let source = try r.optionalString("source") ?? path
      try r.finish()
      try ConfigurationError.requireNonNegative(add, "add_pj", unit: "pJ")
      try ConfigurationError.requireNonNegative(mac, "mac_pj", unit: "pJ")
      try ConfigurationError.requireNonNegative(memory, "memory_access_pj", unit: "pJ")
      self.init(name: name, addPicojoules: add, macPicojoules: mac, memoryAccessPicojoules: memory, source: source)
    }

    public var json: JSONValue {
      .object([
        ("name", .string(name)), ("add_pj", .number(addPicojoules)), ("mac_pj", .number(macPicojoules)),
        ("memory_access_pj", .number(memoryAccessPicojoules)), ("source", .string(source)),
      ])
    }
  }

  public var table: CostTable

  public init(table: CostTable = .fp32) { self.table = table }

  /// The formula with this table's numbers, printed with every report.
  public var formula: String {
    var f = "E = ACs × \(table.addPicojoules) pJ + MACs × \(table.macPicojoules) pJ"
    if table.memoryAccessPicojoules > 0 { f += " + synaptic events × \(table.memoryAccessPicojoules) pJ (memory)" }
    return f + "; ANN = dense MACs × \(table.macPicojoules) pJ (\(table.name), \(table.source))"
  }

  /// Energy in pJ of `accumulates` ACs and `macs` MACs (the memory term counts one access per
  /// accumulate and per MAC).
  public func energy(accumulates: Double, macs: Double) -> Double {
    accumulates * table.addPicojoules + macs * table.macPicojoules
      + (accumulates + macs) * table.memoryAccessPicojoules
  }

  /// Energy in pJ of the dense (ANN) network doing `denseMACs` MACs.
  public func annEnergy(denseMACs: Double) -> Double {
    denseMACs * (table.macPicojoules + table.memoryAccessPicojoules)
  }
}
