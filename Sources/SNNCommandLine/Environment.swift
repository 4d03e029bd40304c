#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The process environment as a dictionary.
public func currentEnvironment() -> [String: String] {
  var result: [String: String] = [:]
  var pointer = environ
  while let entry = pointer.pointee {
    let text = String(cString: entry)
    if let eq = text.firstIndex(of: "=") {
      result[String(text[..<eq])] = String(text[text.index(after: eq)...])
    }
    pointer += 1
  }
  return result
}
