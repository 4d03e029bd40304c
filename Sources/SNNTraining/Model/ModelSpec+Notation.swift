import SNNBase

// The compact notation of the SNN papers.
//
//   notation := [input ":"] stage ("-" stage)* ("+" feedback)*
//   input    := C "x" H "x" W                      e.g. 2x34x34
//   stage    := N "C" K ("s" S | "p" P)*           conv: N channels, K×K kernel, stride, padding
//             | "AP" K | "MP" K                    average / max pooling, K×K windows
//             | N                                  linear layer with N outputs
//   feedback := "FB" FROM "to" TO ":" kind          from layer FROM back to layer TO
//   kind     := "L"                                dense
//             | "C" K ("s" S | "p" P)*             convolution
//             | "T" K ("s" S | "p" P | "o" O)*     transposed convolution
//
// Letters are case-insensitive. When every stage is a plain number (an MLP such as
// 784-800-10), the first number is the input size C·H·W, as the papers write it.

extension ModelSpec: CustomStringConvertible {
  /// The compact notation without the input prefix: `15C5-AP2-40C5-AP2-300-10`,
  /// `784-800-10` (an MLP starts with its input size), feedback as `+FB3to1:T3s2p1o1`.
  public var notation: String {
    var tokens: [String] = []
    if case .flatten? = stages.first { tokens.append(String(input.elementCount)) }
    for stage in stages where stage != .flatten { tokens.append(stageNotation(stage)) }
    var text = tokens.joined(separator: "-")
    for feedback in feedbacks { text += "+" + feedbackNotation(feedback) }
    return text
  }

  /// The notation with the input shape as a prefix: `1x28x28:15C5-AP2-40C5-AP2-300-10`.
  /// `ModelSpec.parse(spec.fullNotation, input: nil)` rebuilds the stages, feedbacks and
  /// input of `spec` (readout, bias and neuron settings take their defaults).
  public var fullNotation: String { input.notation + ":" + notation }

  public var description: String { notation }

  func stageNotation(_ stage: Stage) -> String {
    switch stage {
    case .conv(let outChannels, let kernel, let stride, let padding):
      return "\(outChannels)C\(kernel)" + (stride != 1 ? "s\(stride)" : "")
        + (padding != 0 ? "p\(padding)" : "")
    case .avgPool(let k): return "AP\(k)"
    case .maxPool(let k): return "MP\(k)"
    case .flatten: return "flatten"
    case .linear(let n): return String(n)
    }
  }

  func feedbackNotation(_ feedback: Feedback) -> String {
    let kind: String
    switch feedback.kind {
    case .dense: kind = "L"
    case .conv(let k, let s, let p):
      kind = "C\(k)" + (s != 1 ? "s\(s)" : "") + (p != 0 ? "p\(p)" : "")
    case .convTranspose(let k, let s, let p, let o):
      kind = "T\(k)" + (s != 1 ? "s\(s)" : "") + (p != 0 ? "p\(p)" : "") + (o != 0 ? "o\(o)" : "")
    }
    return "FB\(feedback.from)to\(feedback.to):\(kind)"
  }

  /// Parses the compact notation (or a preset name, ``presetNames``) and validates the
  /// result.
  ///
  /// The input shape comes from, in order: a `CxHxW:` prefix of the notation, the `input`
  /// argument (normally the dataset's sample shape: `1×28×28` for MNIST and
  /// Fashion-MNIST, `2×34×34` for N-MNIST frames), or, for an MLP notation only, the first
  /// number (`784-800-10` alone gives a flat `784×1×1` input). When two of these are
  /// given they must agree; an MLP's first number must equal C·H·W of the input.
  ///
  /// A `flatten` stage is inserted before the first linear stage. Readout, bias and neuron
  /// settings take their defaults (linear readout, biases on, `lif`).
  ///
  /// - Parameter field: the name used in errors (e.g. the command-line option `--model`).
  public static func parse(_ notation: String, input: FeatureShape?, field: String = "model")
    throws(ConfigurationError) -> ModelSpec
  {
    // `original` keeps the user's spelling for messages; `text` is lowercased for parsing.
    var original = notation.filter { !$0.isWhitespace }
    if let preset = presetNotation(original.lowercased(), input: input ?? .flat(784)) {
      original = preset
    }
    var text = original.lowercased()
    guard !text.isEmpty else {
      throw .invalid(
        field: field, value: "an empty model",
        expected: "a notation such as 15C5-AP2-40C5-AP2-300-10 or one of: "
          + presetNames.joined(separator: ", "))
    }

    // Input prefix.
    var prefixShape: FeatureShape?
    if let colon = text.firstIndex(of: ":"), !text[..<colon].contains("+") {
      let head = String(text[..<colon])
      let parts = head.split(separator: "x", omittingEmptySubsequences: false)
      guard parts.count == 3, let c = Int(parts[0]), let h = Int(parts[1]), let w = Int(parts[2]),
        c > 0, h > 0, w > 0
      else {
        throw .invalid(
          field: field, value: "input prefix '\(head)'",
          expected: "an input shape CxHxW with positive sizes, e.g. 2x34x34")
      }
      prefixShape = FeatureShape(channels: c, height: h, width: w)
      text = String(text[text.index(after: colon)...])
      original = String(original[original.index(after: original.firstIndex(of: ":")!)...])
    }
    if let p = prefixShape, let a = input, p != a {
      throw .invalid(
        field: field, value: "input prefix \(p)",
        expected: "the input shape of the data, \(a)")
    }

    let sections = text.split(separator: "+", omittingEmptySubsequences: false).map(String.init)
    let stageTokens = sections[0].split(separator: "-", omittingEmptySubsequences: false).map(
      String.init)
    let originalSections = original.split(separator: "+", omittingEmptySubsequences: false)
    let originalTokens = originalSections[0].split(separator: "-", omittingEmptySubsequences: false)
      .map(String.init)

    enum Token {
      case conv(Int, Int, Int, Int)
      case avgPool(Int)
      case maxPool(Int)
      case number(Int)
    }
    var tokens: [Token] = []
    for (i, token) in stageTokens.enumerated() {
      let bad = ConfigurationError.invalid(
        field: field, value: "'\(originalTokens[i])' (stage \(i + 1) of '\(notation)')",
        expected: "a stage such as 15C5, 32C5p2, 64C5s2, AP2, MP2 or 300")
      if let n = Int(token) {
        guard n > 0 else { throw bad }
        tokens.append(.number(n))
      } else if token.hasPrefix("ap") || token.hasPrefix("mp") {
        guard let k = Int(token.dropFirst(2)), k > 0 else { throw bad }
        tokens.append(token.hasPrefix("ap") ? .avgPool(k) : .maxPool(k))
      } else if let c = token.firstIndex(of: "c"), let out = Int(token[..<c]), out > 0 {
        guard
          let options = parseOptions(
            String(token[token.index(after: c)...]), letters: ["s", "p"])
        else { throw bad }
        tokens.append(.conv(out, options.size, options["s"] ?? 1, options["p"] ?? 0))
      } else {
        throw bad
      }
    }

    let isMLP = tokens.allSatisfy { if case .number = $0 { return true } else { return false } }
    var shape: FeatureShape
    var stages: [Stage] = []
    var startIndex = 0
    if isMLP {
      guard tokens.count >= 2, case .number(let inputCount) = tokens[0] else {
        throw .invalid(
          field: field, value: "'\(notation)'",
          expected: "an MLP notation with the input size first and at least one layer, "
            + "e.g. 784-800-10")
      }
      if let given = prefixShape ?? input {
        guard given.elementCount == inputCount else {
          throw .invalid(
            field: field, value: "input size \(inputCount) (the first number of '\(notation)')",
            expected: "\(given.elementCount), the size C·H·W of the \(given) input "
              + "(in an MLP notation the first number is the input size)")
        }
        shape = given
      } else {
        shape = .flat(inputCount)
      }
      startIndex = 1
    } else {
      if case .number = tokens[0] {
        throw .invalid(
          field: field, value: "'\(notation)' starts with a plain number before conv stages",
          expected: "conv and pooling stages first, linear layers last, e.g. 15C5-AP2-300-10 "
            + "(the input shape comes from the data or a CxHxW: prefix)")
      }
      guard let given = prefixShape ?? input else {
        throw .missing(
          field: "\(field) input shape",
          expected: "a CxHxW: prefix (e.g. 1x28x28:15C5-AP2-300-10) or a dataset")
      }
      shape = given
    }
    var sawLinear = false
    for (i, token) in tokens.enumerated().dropFirst(startIndex) {
      switch token {
      case .number(let n):
        if !sawLinear { stages.append(.flatten) }
        sawLinear = true
        stages.append(.linear(outFeatures: n))
      case .conv, .avgPool, .maxPool:
        if sawLinear {
          throw .invalid(
            field: field, value: "'\(originalTokens[i])' (stage \(i + 1)) after a linear layer",
            expected: "conv and pooling stages before the first linear layer")
        }
        switch token {
        case .conv(let o, let k, let s, let p):
          stages.append(.conv(outChannels: o, kernel: k, stride: s, padding: p))
        case .avgPool(let k): stages.append(.avgPool(k))
        case .maxPool(let k): stages.append(.maxPool(k))
        case .number: break
        }
      }
    }

    var feedbacks: [Feedback] = []
    for (sectionIndex, section) in sections.enumerated().dropFirst() {
      let bad = ConfigurationError.invalid(
        field: field, value: "feedback '\(originalSections[sectionIndex])'",
        expected: "FB<from>to<to>:<kind> with kind L, C<k>[s<s>][p<p>] or "
          + "T<k>[s<s>][p<p>][o<o>], e.g. FB3to1:T3s2p1o1")
      guard section.hasPrefix("fb"), let colon = section.firstIndex(of: ":") else { throw bad }
      let ends = section[section.index(section.startIndex, offsetBy: 2)..<colon]
        .split(separator: "to", omittingEmptySubsequences: false)
      guard ends.count == 2, let from = Int(ends[0]), let to = Int(ends[1]) else { throw bad }
      let kindText = String(section[section.index(after: colon)...])
      let kind: Feedback.Kind
      if kindText == "l" {
        kind = .dense
      } else if kindText.hasPrefix("c"),
        let o = parseOptions(String(kindText.dropFirst()), letters: ["s", "p"])
      {
        kind = .conv(kernel: o.size, stride: o["s"] ?? 1, padding: o["p"] ?? 0)
      } else if kindText.hasPrefix("t"),
        let o = parseOptions(String(kindText.dropFirst()), letters: ["s", "p", "o"])
      {
        kind = .convTranspose(
          kernel: o.size, stride: o["s"] ?? 1, padding: o["p"] ?? 0, outputPadding: o["o"] ?? 0)
      } else {
        throw bad
      }
      feedbacks.append(Feedback(from: from, to: to, kind: kind))
    }

    let spec = ModelSpec(input: shape, stages: stages, feedbacks: feedbacks)
    try spec.validate()
    return spec
  }

  /// Parses `5s2p1` into the size 5 and the lettered options; nil when malformed or a
  /// letter repeats.
  private static func parseOptions(_ text: String, letters: Set<Character>) -> NotationOptions? {
    var digits = ""
    var index = text.startIndex
    while index < text.endIndex, text[index].isASCII, text[index].isNumber {
      digits.append(text[index])
      index = text.index(after: index)
    }
    guard let size = Int(digits), size > 0 else { return nil }
    var values: [Character: Int] = [:]
    while index < text.endIndex {
      let letter = text[index]
      guard letters.contains(letter), values[letter] == nil else { return nil }
      index = text.index(after: index)
      var number = ""
      while index < text.endIndex, text[index].isASCII, text[index].isNumber {
        number.append(text[index])
        index = text.index(after: index)
      }
      guard let value = Int(number) else { return nil }
      values[letter] = value
    }
    return NotationOptions(size: size, values: values)
  }
}

/// A parsed size with lettered options (`5s2p1`: size 5, s = 2, p = 1).
private struct NotationOptions {
  var size: Int
  var values: [Character: Int]
  subscript(_ letter: Character) -> Int? { values[letter] }
}
