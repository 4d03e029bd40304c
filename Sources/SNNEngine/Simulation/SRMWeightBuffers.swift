/// The weights of an ``SRMNetwork`` copied into manually managed memory, in the layouts the
/// simulator's hot loops read: per layer the forward layout (convolution kernel
/// `[ky][kx][cin][cout]`, dense rows by cell) and the transposed one. Read-only once made,
/// so one instance can serve every ``SRMSimulator`` of a batch on any thread.
public final class SRMWeightBuffers: @unchecked Sendable {
  let forward: [UnsafeMutablePointer<Float>]
  let transposed: [UnsafeMutablePointer<Float>]

  public init(_ network: SRMNetwork) {
    var f: [UnsafeMutablePointer<Float>] = []
    var t: [UnsafeMutablePointer<Float>] = []
    for layer in network.layers {
      let n = layer.weightCount
      let a = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
      let b = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
      switch layer.connectivity {
      case .convolution(let c):
        c.kernel.withUnsafeBufferPointer { a.initialize(from: $0.baseAddress!, count: n) }
      case .dense(let d):
        d.weights.withUnsafeBufferPointer { a.initialize(from: $0.baseAddress!, count: n) }
      case .sparse: preconditionFailure("SRM layers are convolutional or dense")
      }
      layer.transposedWeights.withUnsafeBufferPointer {
        b.initialize(from: $0.baseAddress!, count: n)
      }
      f.append(a)
      t.append(b)
    }
    forward = f
    transposed = t
  }

  deinit {
    for p in forward { p.deallocate() }
    for p in transposed { p.deallocate() }
  }
}

/// `y[0..<n] += a·x[0..<n]` with 8-lane vectors (unaligned) and a scalar tail.
@inline(__always)
func srmAXPY(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ a: Float, _ n: Int) {
  var i = 0
  let av = SIMD8<Float>(repeating: a)
  while i + 8 <= n {
    let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
    let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
    UnsafeMutableRawPointer(y + i).storeBytes(of: yv.addingProduct(av, xv), as: SIMD8<Float>.self)
    i += 8
  }
  while i < n {
    y[i] += a * x[i]
    i += 1
  }
}
