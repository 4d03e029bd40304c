import Testing

@testable import SNNBase

@Suite struct FileIOTests {
  static func temporaryPath(_ name: String) -> String {
    "/tmp/snn-test-\(name)-\(UInt64.random(in: 0...UInt64.max))"
  }

  @Test func atomicWriteThenReadRoundTrips() throws {
    let path = Self.temporaryPath("roundtrip")
    defer { unlink(path) }
    let bytes = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    try FileIO.writeAtomically(bytes, to: path)
    #expect(try FileIO.read(path) == bytes)
    try FileIO.writeAtomically("replaced", to: path)
    #expect(try FileIO.read(path) == Array("replaced".utf8))
    #expect(!FileIO.exists(path + ".tmp-\(getpidForTests())"))
  }

  @Test func missingFileIsATypedError() {
    do {
      _ = try FileIO.read("/nonexistent/snn/file")
      Issue.record("expected an error")
    } catch {
      #expect(error.operation == .open)
      #expect(error.description.contains("/nonexistent/snn/file"))
    }
  }

  @Test func writeIntoMissingDirectoryFailsWithoutLeavingFiles() {
    // The error names the file asked for (not the temporary one) and is a write failure.
    let error = #expect(throws: FileError.self) { try FileIO.writeAtomically([1, 2, 3], to: "/nonexistent-dir/x.bin") }
    #expect(error?.path == "/nonexistent-dir/x.bin" && error?.operation == .write)
  }

  @Test func readingADirectoryIsAnError() {
    #expect(throws: FileError.self) { try FileIO.read("/tmp") }
  }
}

#if canImport(Glibc)
  import Glibc
#endif
func getpidForTests() -> Int32 { getpid() }
