import Testing

@testable import SNNTraining

@Suite struct SNNTrainingSmokeTests {
  @Test func moduleLoads() {}
}
