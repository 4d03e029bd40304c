/// The `snn bench` group: one subcommand per benchmark.
///
/// To add a benchmark, write a `Command` whose help name is `bench <name>` and append it
/// to `children`; `SNNTool.commands` picks the group up from here.
public enum BenchCommands {
  public static let abstract = "Measure the speed of kernels, simulations and training steps."

  /// The benchmarks, in the order `snn bench --help` lists them.
  public static var children: [CommandNode] {
    [
      .command(BenchGEMMCommand.self),
      .command(BenchConvCommand.self),
    ]
  }

  /// The group node for `SNNTool.commands`.
  public static var group: CommandNode {
    .group(name: "bench", abstract: abstract, children: children)
  }
}
