import SNNBase

/// Independent Poisson spike sources: each neuron's next spike is drawn from an
/// exponential inter-spike interval when the previous one is emitted.
struct PoissonPopulationState {
  let rateHz: Double
  var schedule: IndexedTimeHeap
  var generator: Xoshiro256StarStar

  init(count: Int, rateHz: Double, generator: Xoshiro256StarStar) {
    self.rateHz = rateHz
    self.generator = generator
    schedule = IndexedTimeHeap(capacity: count)
  }

  mutating func start(at time: Double) {
    guard rateHz > 0 else { return }
    for j in 0..<schedule.capacity { schedule.update(j, time: time + interval()) }
  }

  /// One exponential interval in ms.
  mutating func interval() -> Double { generator.nextExponential(rate: rateHz / 1000) }

  /// Emits neuron `j`'s spike at `time` and schedules its next one.
  mutating func handle(_ j: Int, time: Double) {
    schedule.update(j, time: time + interval())
  }
}

/// Sources that replay given spike times.
struct SpikeTrainPopulationState {
  let trains: [[Double]]
  var next: [Int]
  var schedule: IndexedTimeHeap

  init(trains: [[Double]]) {
    self.trains = trains
    next = Array(repeating: 0, count: trains.count)
    schedule = IndexedTimeHeap(capacity: trains.count)
  }

  mutating func start() {
    for (j, train) in trains.enumerated() where !train.isEmpty { schedule.update(j, time: train[0]) }
  }

  mutating func handle(_ j: Int, time: Double) {
    next[j] += 1
    if next[j] < trains[j].count {
      schedule.update(j, time: trains[j][next[j]])
    } else {
      schedule.remove(j)
    }
  }
}

/// Exact continuous-time non-leaky integrate-and-fire neurons (``IF``): `V(t) = V(t₀) +
/// I·(t − t₀)` between inputs, stored as `V = B + I·t` with one coefficient B per neuron.
struct IFPopulationState {
  let parameters: IF.Parameters
  var offset: [Double]
  var refractoryUntil: [Double]
  var schedule: IndexedTimeHeap
  /// True while a neuron's pending entry is the end of its refractory period.
  var endingRefractory: [Bool]

  init(parameters: IF.Parameters, initialPotentials: [Double]) {
    self.parameters = parameters
    offset = initialPotentials
    refractoryUntil = Array(repeating: -.infinity, count: initialPotentials.count)
    endingRefractory = Array(repeating: false, count: initialPotentials.count)
    schedule = IndexedTimeHeap(capacity: initialPotentials.count)
  }

  func potential(_ j: Int, at time: Double) -> Double {
    time < refractoryUntil[j] ? parameters.vReset : offset[j] + parameters.drive * time
  }

  mutating func start() {
    for j in offset.indices { predict(j, time: 0) }
  }

  /// Schedules neuron `j`'s crossing from its state at `time` (at `time` if already there).
  mutating func predict(_ j: Int, time: Double) {
    let v = offset[j] + parameters.drive * time
    if v >= parameters.vThreshold {
      schedule.update(j, time: time)
    } else if parameters.drive > 0 {
      // Solve B + I·t = V_th; never earlier than now.
      let t = max(time, (parameters.vThreshold - offset[j]) / parameters.drive)
      schedule.update(j, time: t)
    } else {
      schedule.remove(j)
    }
  }

  @inline(__always)
  mutating func receive(count: Int, time: Double, target: (Int) -> Int, weight: (Int) -> Float) {
    for i in 0..<count {
      let j = target(i)
      if time < refractoryUntil[j] { continue }
      offset[j] += Double(weight(i))
      predict(j, time: time)
    }
  }

  /// Handles neuron `j`'s scheduled event; returns true if it spikes.
  mutating func handle(_ j: Int, time: Double) -> Bool {
    if endingRefractory[j] {
      endingRefractory[j] = false
      predict(j, time: time)
      return false
    }
    // A crossing: reset.
    if parameters.subtractiveReset {
      offset[j] -= parameters.vThreshold - parameters.vReset
    } else {
      offset[j] = parameters.vReset - parameters.drive * time
    }
    if parameters.tauRefractory > 0 {
      refractoryUntil[j] = time + parameters.tauRefractory
      // V is held at vReset while refractory; restart the ramp from there.
      offset[j] = parameters.vReset - parameters.drive * refractoryUntil[j]
      endingRefractory[j] = true
      schedule.update(j, time: refractoryUntil[j])
    } else {
      predict(j, time: time)
    }
    return true
  }
}
