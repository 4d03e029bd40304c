import Testing

@testable import SNNDatasets

@Suite struct SNNDatasetsSmokeTests {
  @Test func moduleLoads() {}
}
