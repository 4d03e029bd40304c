import SNN

/// The `snn data` group: look at, verify and time the dataset readers.
enum DataCommands {
  static var node: CommandNode {
    .group(
      name: "data", abstract: "Inspect and verify datasets (MNIST, Fashion-MNIST, N-MNIST).",
      children: [
        .command(DataInspectCommand.self),
        .command(DataVerifyCommand.self),
        .command(DataBenchCommand.self),
      ])
  }

  /// The median of `values` (mean of the middle two for an even count).
  static func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
  }
}
