/// The training or the test part of a dataset.
public enum DatasetSplit: String, Sendable, CaseIterable, Equatable {
  case train
  case test
}
