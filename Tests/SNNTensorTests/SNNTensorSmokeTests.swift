import Testing

@testable import SNNTensor

@Suite struct SNNTensorSmokeTests {
  @Test func moduleLoads() {}
}
