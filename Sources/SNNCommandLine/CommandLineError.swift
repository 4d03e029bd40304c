/// A command line that cannot be run as written.
public enum CommandLineError: Error, Equatable, Sendable, CustomStringConvertible {
  case unknownCommand(String, suggestion: String?)
  case unknownOption(String, suggestion: String?)
  case missingValue(option: String, expected: String)
  case missingOption(option: String, expected: String)
  case invalidValue(option: String, value: String, expected: String)
  case repeatedOption(String)
  case unexpectedArgument(String)

  public var description: String {
    switch self {
    case .unknownCommand(let name, let suggestion):
      return "unknown command '\(name)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
    case .unknownOption(let name, let suggestion):
      return "unknown option '\(name)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
    case .missingValue(let option, let expected):
      return "option '\(option)' needs a value (expected \(expected))"
    case .missingOption(let option, let expected):
      return "missing required option '\(option)' (expected \(expected))"
    case .invalidValue(let option, let value, let expected):
      return "invalid value for '\(option)': '\(value)' (expected \(expected))"
    case .repeatedOption(let name):
      return "option '\(name)' given more than once"
    case .unexpectedArgument(let text):
      return "unexpected argument '\(text)'"
    }
  }
}

/// The closest of `candidates` to `word` by edit distance, if it is close enough to be a
/// plausible typo.
func closest(to word: String, in candidates: [String]) -> String? {
  let scored = candidates.map { ($0, editDistance(word, $0)) }.min { $0.1 < $1.1 }
  guard let best = scored, best.1 <= max(2, word.count / 3) else { return nil }
  return best.0
}

func editDistance(_ a: String, _ b: String) -> Int {
  let a = Array(a.utf8)
  let b = Array(b.utf8)
  if a.isEmpty { return b.count }
  if b.isEmpty { return a.count }
  var previous = Array(0...b.count)
  var current = [Int](repeating: 0, count: b.count + 1)
  for i in 1...a.count {
    current[0] = i
    for j in 1...b.count {
      let cost = a[i - 1] == b[j - 1] ? 0 : 1
      current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
    }
    swap(&previous, &current)
  }
  return previous[b.count]
}
