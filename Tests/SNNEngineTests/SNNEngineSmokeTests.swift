import Testing

@testable import SNNEngine

@Suite struct SNNEngineSmokeTests {
  @Test func moduleLoads() {}
}
