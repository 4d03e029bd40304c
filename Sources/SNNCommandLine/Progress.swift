import SNNBase

/// A live progress line on standard error.
///
/// On a terminal the line rewrites itself in place (at most 10 times a second); in a log
/// file or pipe it prints a full line at most every `logInterval` seconds, so that long
/// runs leave a readable record. `finish()` ends the line.
public final class ProgressLine {
  private let sink: OutputSink
  private let isTerminal: Bool
  private let logInterval: Double
  private var clock = Stopwatch()
  private var lastDraw = -Double.infinity
  private var lastWidth = 0
  private var active = false
  /// When false, nothing is drawn (e.g. `--quiet`).
  public var enabled: Bool

  public init(context: CommandContext, logInterval: Double = 10, enabled: Bool = true) {
    self.sink = context.standardError
    self.isTerminal = context.standardErrorIsTerminal
    self.logInterval = logInterval
    self.enabled = enabled
  }

  /// Seconds since the progress line was created.
  public var elapsedSeconds: Double { clock.elapsedSeconds }

  /// Shows `text` if enough time has passed since the last update (or `force`).
  public func update(_ text: @autoclosure () -> String, force: Bool = false) {
    guard enabled else { return }
    let now = clock.elapsedSeconds
    let interval = isTerminal ? 0.1 : logInterval
    guard force || now - lastDraw >= interval else { return }
    lastDraw = now
    let line = text()
    if isTerminal {
      let pad = max(0, lastWidth - line.count)
      sink.write("\r" + line + String(repeating: " ", count: pad))
      lastWidth = line.count
      active = true
    } else {
      sink.write(line + "\n")
    }
  }

  /// Ends the live line (terminal) so that later output starts on a fresh line.
  public func finish(_ text: String? = nil) {
    guard enabled else { return }
    if let text {
      update(text, force: true)
    }
    if isTerminal && active { sink.write("\n") }
    active = false
    lastWidth = 0
  }

  /// `12.3 s`, `4 min 05 s`, `1 h 02 min`.
  public static func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "--" }
    if seconds < 60 { return String(format1: seconds) + " s" }
    let s = Int(seconds.rounded())
    if s < 3600 { return "\(s / 60) min \(pad2(s % 60)) s" }
    return "\(s / 3600) h \(pad2((s % 3600) / 60)) min"
  }

  private static func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
}

extension String {
  /// A number with one decimal (no Foundation formatting).
  init(format1 value: Double) {
    self = Format.fixed(value, digits: 1)
  }
}

/// Number formatting without Foundation.
public enum Format {
  /// `value` with exactly `digits` decimals, rounded half away from zero.
  public static func fixed(_ value: Double, digits: Int) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    if scaled >= 9e18 { return "\(value)" }
    let whole = Int64(scaled)
    let integerPart = whole / Int64(scale)
    var text = (value < 0 && whole != 0 ? "-" : "") + String(integerPart)
    if digits > 0 {
      let fraction = String(whole % Int64(scale))
      text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
    return text
  }

  /// An integer with thousands separators: 1,234,567.
  public static func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
      out.append(c)
    }
    return (value < 0 ? "-" : "") + out
  }

  /// A count with a metric suffix and three significant digits: 1.23M, 45.6k, 789.
  public static func compact(_ value: Double) -> String {
    let a = abs(value)
    let (scaled, suffix): (Double, String) =
      a >= 1e9 ? (value / 1e9, "G") : a >= 1e6 ? (value / 1e6, "M") : a >= 1e3 ? (value / 1e3, "k") : (value, "")
    let digits = abs(scaled) >= 100 ? 0 : abs(scaled) >= 10 ? 1 : 2
    return fixed(scaled, digits: suffix.isEmpty && value == value.rounded() ? 0 : digits) + suffix
  }

  /// Energy given in picojoules, with a sensible unit and two decimals: 268.56 nJ, 6.07 µJ.
  public static func energy(_ picojoules: Double) -> String {
    let a = abs(picojoules)
    let (scaled, unit): (Double, String) =
      a >= 1e9 ? (picojoules / 1e9, "mJ") : a >= 1e6 ? (picojoules / 1e6, "µJ")
      : a >= 1e3 ? (picojoules / 1e3, "nJ") : (picojoules, "pJ")
    return fixed(scaled, digits: 2) + " " + unit
  }

  /// Seconds with a sensible unit: 45.2 ms, 1.234 s.
  public static func seconds(_ s: Double) -> String {
    if s < 1e-3 { return fixed(s * 1e6, digits: 1) + " µs" }
    if s < 1 { return fixed(s * 1e3, digits: 1) + " ms" }
    return fixed(s, digits: 3) + " s"
  }
}
