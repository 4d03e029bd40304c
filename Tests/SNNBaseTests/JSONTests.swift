import Testing

@testable import SNNBase

@Suite struct JSONTests {
  @Test func roundTripsNestedValues() throws {
    let text = #"{"a": 1, "b": [true, false, null], "c": {"d": -2.5e-3, "e": "x\"y\n\u00e9"}}"#
    let value = try JSONValue.parse(text)
    #expect(value["a"] == .integer(1))
    #expect(value["c"]?["d"]?.doubleValue == -0.0025)
    #expect(value["c"]?["e"]?.stringValue == "x\"y\né")
    #expect(try JSONValue.parse(value.description) == value)
    #expect(try JSONValue.parse(value.rendered(pretty: true)) == value)
  }

  @Test func keepsKeyOrder() {
    let v: JSONValue = ["z": 1, "a": 2, "m": 3]
    #expect(v.description == #"{"z":1,"a":2,"m":3}"#)
  }

  @Test func printsLargeCountsExactly() {
    #expect(JSONValue(UInt64(9_007_199_254_740_993)).description == "9007199254740993")
  }

  @Test(arguments: [
    ("{\"a\": }", 1, 7), ("[1, 2", 1, 6), ("{\"a\" 1}", 1, 6), ("01", 1, 1), ("\"abc", 1, 5), ("[1,]\n", 1, 4),
    ("{\n  \"x\": tru\n}", 2, 8),
  ])
  func reportsLineAndColumnOfSyntaxErrors(text: String, line: Int, column: Int) {
    do {
      _ = try JSONValue.parse(text)
      Issue.record("expected a syntax error for \(text)")
    } catch {
      #expect(error.line == line)
      #expect(error.column == column)
    }
  }

  @Test func rejectsExcessiveNesting() {
    let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
    #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(deep) }
  }

  @Test func surrogatePairs() throws {
    #expect(try JSONValue.parse(#""\ud83d\ude00""#).stringValue == "😀")
    #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(#""\ud83d""#) }
  }
}
