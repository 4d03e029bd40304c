// libFuzzer entry point for the data readers (DEFLATE, gzip, IDX, N-MNIST events, ZIP).
//
// Built only with the compilation condition SNN_FUZZ and the fuzzer sanitizer, in its own
// build folder (see Docs/Datasets.md, "Fuzzing"):
//
//   swift build -c release --product snn-fuzz --scratch-path .build-fuzz \
//     -Xswiftc -sanitize=fuzzer,address -Xswiftc -DSNN_FUZZ
//   SNN_FUZZ_TARGET=zip .build-fuzz/release/snn-fuzz Fuzz/corpus/zip -max_total_time=300
//
// In a normal `swift build` this file compiles to a placeholder executable that explains
// how to build the harness, so the package's default build and tests are unaffected.

import SNNBase
import SNNDatasets

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The reader a run exercises, from `SNN_FUZZ_TARGET`.
enum FuzzTarget: String, CaseIterable {
  case deflate, gzip, idx, nmnist, zip

  static let current: FuzzTarget = {
    guard let raw = getenv("SNN_FUZZ_TARGET") else { return .deflate }
    let name = String(cString: raw)
    guard let target = FuzzTarget(rawValue: name) else {
      print("SNN_FUZZ_TARGET=\(name) is not one of \(FuzzTarget.allCases.map(\.rawValue))")
      exit(2)
    }
    return target
  }()
}

/// Output bound for the decompressors, so that the fuzzer explores parsing rather than
/// memory exhaustion.
let fuzzLimit = 1 << 24

/// Runs one input through the selected reader. Errors are expected; crashes, traps,
/// sanitizer reports and timeouts are findings.
func fuzzOne(_ bytes: [UInt8]) {
  switch FuzzTarget.current {
  case .deflate:
    if let out = try? Deflate.inflate(bytes, limit: fuzzLimit) {
      precondition(out.count <= fuzzLimit)
    }
  case .gzip:
    _ = try? GZip.decompress(bytes, limit: fuzzLimit)
  case .idx:
    if let array = try? IDXArray.parse(bytes) {
      precondition(array.elementCount * array.dataType.byteWidth == array.payload.count)
      if array.elementCount <= 4096 { _ = array.doubleValues() }
      precondition((try? IDXArray.parse(array.encoded())) == array)
    }
  case .nmnist:
    if let all = try? NMNIST.decode(bytes, label: 3) {
      precondition(all.x.allSatisfy { $0 < 34 } && all.y.allSatisfy { $0 < 34 })
      let first = try? NMNIST.decode(bytes, label: 3, firstSaccadeOnly: true)
      precondition(first != nil && first!.count <= all.count)
      let framing = EventFraming(frameCount: 4, split: .equalTime)
      precondition(Int(framing.frames(all).reduce(0, +)) == all.count)
    }
  case .zip:
    if let zip = try? ZIPArchive(bytes: bytes) {
      for entry in zip.entries.prefix(64) { _ = try? zip.extract(entry) }
      _ = try? NMNIST.load(archive: zip)
    }
  }
}

/// The libFuzzer callback: one input through the selected reader.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
  fuzzOne(bytes)
  return 0
}

#if SNN_FUZZ
  /// libFuzzer's driver (in libclang_rt.fuzzer, linked by `-sanitize=fuzzer`): parses the
  /// libFuzzer flags in argv and runs the fuzzing loop with `callback`.
  @_silgen_name("LLVMFuzzerRunDriver")
  func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
  ) -> CInt
#endif

@main
struct FuzzMain {
  static func main() {
    #if SNN_FUZZ
      // SwiftPM links an executable's `main` to the target's own entry point, so a harness
      // without `@main` does not link; this entry point hands control to libFuzzer instead
      // (libFuzzer's `main` is then not pulled from its archive).
      _ = FuzzTarget.current  // reject a bad SNN_FUZZ_TARGET before fuzzing starts
      var argc = CommandLine.argc
      var argv = CommandLine.unsafeArgv
      exit(LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput))
    #else
      print(
        """
        snn-fuzz: this build has no fuzzing engine. Build the libFuzzer harness with
          swift build -c release --product snn-fuzz --scratch-path .build-fuzz \\
            -Xswiftc -sanitize=fuzzer,address -Xswiftc -DSNN_FUZZ
        and run it with SNN_FUZZ_TARGET=deflate|gzip|idx|nmnist|zip (see Docs/Datasets.md).
        Without the engine, each argument is read as one input and run once:
        """)
      for path in CommandLine.arguments.dropFirst() {
        guard let bytes = try? FileIO.read(path) else {
          print("  \(path): cannot read")
          continue
        }
        fuzzOne(bytes)
        print("  \(path): ok (\(bytes.count) bytes, target \(FuzzTarget.current.rawValue))")
      }
    #endif
  }
}
