import SNNBase

/// What the trainer tells a method about the step it runs.
public struct StepContext: Sendable {
  /// The epoch, from 0, and the number of epochs of the run.
  public var epoch: Int
  public var epochs: Int
  /// The batch within the epoch, from 0, and the number of batches per epoch.
  public var batchIndex: Int
  public var batchesPerEpoch: Int
  /// Optimizer steps (batches) before this one, over the whole run.
  public var globalStep: Int
  /// The learning rate of this step from the run's schedule (with warm-up).
  public var learningRate: Double
  /// A generator for this step only: stream `("train-step", globalStep)` of the run seed.
  public var random: Xoshiro256StarStar

  public init(
    epoch: Int, epochs: Int, batchIndex: Int, batchesPerEpoch: Int, globalStep: Int,
    learningRate: Double, random: Xoshiro256StarStar
  ) {
    self.epoch = epoch
    self.epochs = epochs
    self.batchIndex = batchIndex
    self.batchesPerEpoch = batchesPerEpoch
    self.globalStep = globalStep
    self.learningRate = learningRate
    self.random = random
  }
}

/// What the trainer tells a method about an evaluation batch.
public struct EvaluationContext: Sendable {
  /// The batch within the evaluation pass, from 0.
  public var batchIndex: Int
  /// Stream `("evaluation", batchIndex)` of the run seed: the same in every evaluation
  /// pass, so a test accuracy can be reproduced from a checkpoint.
  public var random: Xoshiro256StarStar

  public init(batchIndex: Int, random: Xoshiro256StarStar) {
    self.batchIndex = batchIndex
    self.random = random
  }
}
