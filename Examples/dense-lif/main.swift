// dense-lif: a two-layer LIF network on random data with the dense backend.
//
// Builds Linear(784→800) → LIF → Linear(800→10) → LIF, feeds a random static "image" as
// current at every step (the static-input path), runs forward and full BPTT backward,
// takes one plain gradient step (w ← w − η·∂L/∂w; the training optimizers, SGD/Adam/AdamW,
// work on a `ParameterStore` in SNNTraining), and prints spike rates, gradient norms and timings.
//
//   swift run -c release dense-lif [--steps T] [--batch B] [--repeats N] [--seed S]
import SNN

/// Parses `--steps/--batch/--repeats/--seed`; nil (after printing why) on bad arguments.
func parseOptions() -> (steps: Int, batch: Int, repeats: Int, seed: UInt64)? {
  var o = (steps: 8, batch: 128, repeats: 3, seed: UInt64(1))
  var args = CommandLine.arguments.dropFirst()
  while let flag = args.popFirst() {
    guard let value = args.popFirst(), let n = Int(value), n > 0 else {
      print("usage: dense-lif [--steps T] [--batch B] [--repeats N] [--seed S]")
      return nil
    }
    switch flag {
    case "--steps": o.steps = n
    case "--batch": o.batch = n
    case "--repeats": o.repeats = n
    case "--seed": o.seed = UInt64(n)
    default:
      print("unknown option \(flag)")
      return nil
    }
  }
  return o
}

func run(steps: Int, batch: Int, repeats: Int, seed: UInt64) {

  var rng = Xoshiro256StarStar(seed: seed)
  let fc1 = Linear(
    name: "fc1", inFeatures: 784, outFeatures: 800, initializer: .kaimingNormal(), using: &rng)
  fc1.computesInputGradient = false  // the first layer needs no input gradient
  let lif1 = LIF(
    name: "lif1", charge: .leaky(lambda: 0.5), vThreshold: 1, reset: .soft, detachReset: true)
  let fc2 = Linear(
    name: "fc2", inFeatures: 800, outFeatures: 10, initializer: .kaimingNormal(), using: &rng)
  let lif2 = LIF(
    name: "lif2", charge: .leaky(lambda: 0.5), vThreshold: 1, reset: .soft, detachReset: true)
  let parameters = fc1.parameters + fc2.parameters
  let learningRate: Float = 0.01

  // Random pixel intensities in [0, 1) and random labels.
  let images = Tensor(shape: [batch, 784], generating: { _ in Float(rng.nextUnitDouble()) })
  let labels = (0..<batch).map { _ in rng.nextIndex(below: 10) }

  /// Softmax cross-entropy on the spike counts averaged over time; returns (loss, ∂L/∂S).
  func loss(_ spikes: Tensor) -> (Double, Tensor) {
    let rates = spikes.meanOverTime()  // [B, 10]
    var grad = Tensor(shape: spikes.shape)
    var total = 0.0
    for b in 0..<batch {
      let z = (0..<10).map { Double(rates[b, $0]) * 5 }  // readout scale 5
      let m = z.max()!
      let e = z.map { Math.exp($0 - m) }
      let s = e.reduce(0, +)
      total += -(z[labels[b]] - m - Math.log(s))
      for k in 0..<10 {
        let dz = (e[k] / s - (k == labels[b] ? 1 : 0)) / Double(batch)
        let dS = Float(dz * 5 / Double(steps))
        for t in 0..<steps { grad[t, b, k] = dS }
      }
    }
    return (total / Double(batch), grad)
  }

  // Per-layer times (seconds) of every iteration, to find where the time goes.
  var times: [String: [Double]] = [:]
  func timed<R>(_ label: String, _ body: () -> R) -> R {
    let (r, seconds) = Stopwatch.measure(body)
    times[label, default: []].append(seconds)
    return r
  }
  for r in 0..<repeats {
    for p in parameters { p.zeroGradient() }
    let i1 = timed("fc1.forwardStatic") { fc1.forwardStatic(images, steps: steps) }
    let s1 = timed("lif1.forward") { lif1.forward(i1) }
    let i2 = timed("fc2.forward") { fc2.forward(s1) }
    let s2 = timed("lif2.forward") { lif2.forward(i2) }
    let (l, g) = loss(s2)
    let g2 = timed("lif2.backward") { lif2.backward(g) }
    let gs1 = timed("fc2.backward") { fc2.backward(g2) }
    let g1 = timed("lif1.backward") { lif1.backward(gs1) }
    _ = timed("fc1.backward") { fc1.backward(g1) }
    let norm = parameters.reduce(0.0) { $0 + $1.gradient.squaredNorm }.squareRoot()
    timed("sgd.step") { for p in parameters { p.value.add(p.gradient, scaledBy: -learningRate) } }
    print(
      "iteration \(r): loss \(String(l, digits: 4)), spike rate lif1 \(String(lif1.spikeRate, digits: 4)) "
        + "lif2 \(String(lif2.spikeRate, digits: 4)), fc2 input density \(String(fc2.lastInputDensity ?? -1, digits: 4)) "
        + "(spike kernel: \(fc2.usedSpikeKernel)), gradient norm \(String(norm, digits: 5))")
  }
  for p in parameters {
    print("  \(p.name) \(p.value.shape): gradient norm \(String(p.gradient.norm, digits: 5))")
  }
  func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
  var total = 0.0
  for label in [
    "fc1.forwardStatic", "lif1.forward", "fc2.forward", "lif2.forward", "lif2.backward",
    "fc2.backward", "lif1.backward", "fc1.backward", "sgd.step",
  ] {
    let m = median(times[label]!)
    total += m
    print("  \(label): \(String(m * 1000, digits: 3)) ms")
  }
  print(
    "T=\(steps) B=\(batch): \(String(total * 1000, digits: 2)) ms per batch (sum of per-layer medians of "
      + "\(repeats)); \(String(Double(batch) / total, digits: 1)) samples/s; "
      + "peak RSS \(ResourceUsage.peakResidentBytes() / 1_048_576) MB")
}

if let o = parseOptions() { run(steps: o.steps, batch: o.batch, repeats: o.repeats, seed: o.seed) }

extension String {
  init(_ value: Double, digits: Int) {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    self = "\(rounded)"
  }
}
