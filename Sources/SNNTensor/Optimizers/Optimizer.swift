/// Gradient-descent optimizers over parameter groups.
public protocol Optimizer: AnyObject {
  var groups: [ParameterGroup] { get }
  /// The base learning rate (a schedule sets it before each step).
  var learningRate: Float { get set }
  /// Updates taken so far.
  var stepCount: Int { get }
  /// Applies one update from the accumulated gradients.
  func step()
  func exportState() -> OptimizerState
  func importState(_ state: OptimizerState) throws(OptimizerStateError)
}

extension Optimizer {
  /// Every parameter of every group, in order.
  public var allParameters: [Parameter] { groups.flatMap { $0.parameters } }

  /// Sets every gradient to zero.
  public func zeroGradients() { for p in allParameters { p.zeroGradient() } }

  func validate(_ state: OptimizerState, kind: String, slots: Int) throws(OptimizerStateError) {
    guard state.kind == kind else { throw .kindMismatch(expected: kind, found: state.kind) }
    guard state.stepCount >= 0 else { throw .negativeStepCount(state.stepCount) }
    let params = allParameters
    guard state.buffers.count == slots * params.count else {
      throw .bufferCount(expected: slots * params.count, found: state.buffers.count)
    }
    for (i, b) in state.buffers.enumerated() {
      let expected = params[i % params.count].value.count
      guard b.count == expected else {
        throw .bufferSize(index: i, expected: expected, found: b.count)
      }
    }
  }
}
