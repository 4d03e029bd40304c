import Testing

@testable import SNNBase

@Suite struct EnergyModelTests {
  @Test func horowitzTablesAndFormula() {
    let m = EnergyModel(table: .fp32)
    // 1,000 ACs and 10 MACs: 900 + 46 pJ.
    #expect(abs(m.energy(accumulates: 1000, macs: 10) - 946) < 1e-9)
    #expect(abs(m.annEnergy(denseMACs: 1000) - 4600) < 1e-9)
    #expect(m.formula.contains("0.9 pJ") && m.formula.contains("4.6 pJ") && m.formula.contains("Horowitz"))
    #expect(EnergyModel.CostTable.fp16.macPicojoules == 1.5 && EnergyModel.CostTable.int8.addPicojoules == 0.03)
  }

  @Test func customTablesParseAndValidate() throws {
    let t = try EnergyModel.CostTable(
      json: try JSONValue.parse(#"{"name": "mine", "add_pj": 0.1, "mac_pj": 0.5, "memory_access_pj": 2}"#), path: "t.json")
    let m = EnergyModel(table: t)
    // The memory term counts one access per operation.
    #expect(abs(m.energy(accumulates: 10, macs: 2) - (1 + 1 + 24)) < 1e-12)
    #expect(m.formula.contains("memory"))
    #expect(throws: ConfigurationError.self) {
      try EnergyModel.CostTable(json: try JSONValue.parse(#"{"add_pj": -1, "mac_pj": 1}"#), path: "t.json")
    }
    #expect(throws: ConfigurationError.self) {
      try EnergyModel.CostTable(json: try JSONValue.parse(#"{"add_pj": 1, "mac": 1}"#), path: "t.json")
    }
  }
}
