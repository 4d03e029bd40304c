import Testing

@testable import SNNBase

@Suite struct SynOpCounterTests {
  @Test func countsAndMergesPerLayer() {
    var a = SynOpCounter(layerNames: ["in", "hidden"])
    a.addAccumulates(10, layer: 1)
    a.addMultiplyAccumulates(784, layer: 0)
    a.addSpikes(3, layer: 1)
    var b = SynOpCounter(layerNames: ["in", "hidden"])
    b.addAccumulates(5, layer: 1)
    b.addNeuronUpdates(7, layer: 0)
    a.merge(b)
    #expect(a.accumulates == [0, 15])
    #expect(a.multiplyAccumulates == [784, 0])
    #expect(a.neuronUpdates == [7, 0])
    #expect(a.totalSpikes == 3)
    a.reset()
    #expect(a.totalAccumulates == 0 && a.layerNames == ["in", "hidden"])
  }
}

@Suite struct TimeTests {
  @Test func conversions() {
    #expect(SimTime.seconds(1).milliseconds == 1000)
    #expect(SimTime.microseconds(1500).milliseconds == 1.5)
    #expect(Step(containing: .milliseconds(2.99), dt: .milliseconds(0.1)) == Step(29))
    #expect(abs(SimTime(step: Step(30), dt: .milliseconds(0.1)).milliseconds - 3) < 1e-12)
  }
}
