import SNNCommandLine

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

let standardError = FileDescriptorSink(descriptor: 2)
let context = CommandContext(
  standardOutput: FileDescriptorSink(descriptor: 1),
  standardError: standardError,
  environment: currentEnvironment(),
  standardErrorIsTerminal: standardError.isTerminal)
exit(SNNTool.run(Array(CommandLine.arguments.dropFirst()), context: context))
