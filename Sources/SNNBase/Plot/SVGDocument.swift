/// A minimal SVG writer: shapes and text appended in order, rendered as one string.
///
/// Plots are written as standalone SVG files (viewable in any browser) by the command-line
/// tool and the examples. Coordinates are in pixels, origin at the top left.
public struct SVGDocument: Sendable {
  public var width: Double
  public var height: Double
  private var elements: [String] = []

  public init(width: Double, height: Double) {
    self.width = width
    self.height = height
  }

  public mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil) {
    var e = "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"\(fill)\""
    if let stroke { e += " stroke=\"\(stroke)\"" }
    elements.append(e + "/>")
  }

  public mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 1, dash: String? = nil) {
    var e = "<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(n(width))\""
    if let dash { e += " stroke-dasharray=\"\(dash)\"" }
    elements.append(e + "/>")
  }

  public mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 1.5) {
    let p = points.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ")
    elements.append("<polyline points=\"\(p)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(n(width))\"/>")
  }

  public mutating func circle(cx: Double, cy: Double, r: Double, fill: String) {
    elements.append("<circle cx=\"\(n(cx))\" cy=\"\(n(cy))\" r=\"\(n(r))\" fill=\"\(fill)\"/>")
  }

  /// A path from raw SVG path data (for many small marks in one element).
  public mutating func path(_ data: String, stroke: String? = nil, fill: String = "none", width: Double = 1) {
    var e = "<path d=\"\(data)\" fill=\"\(fill)\""
    if let stroke { e += " stroke=\"\(stroke)\" stroke-width=\"\(n(width))\"" }
    elements.append(e + "/>")
  }

  public enum Anchor: String, Sendable { case start, middle, end }

  public mutating func text(
    _ s: String, x: Double, y: Double, size: Double = 12, anchor: Anchor = .start,
    rotate: Double? = nil, weight: String? = nil, fill: String = "#222"
  ) {
    var e = "<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" text-anchor=\"\(anchor.rawValue)\" fill=\"\(fill)\""
    if let weight { e += " font-weight=\"\(weight)\"" }
    if let rotate { e += " transform=\"rotate(\(n(rotate)) \(n(x)) \(n(y)))\"" }
    elements.append(e + ">" + SVGDocument.escape(s) + "</text>")
  }

  /// The whole document.
  public func render() -> String {
    var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" "
    out += "viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"Helvetica, Arial, sans-serif\">\n"
    out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    for e in elements { out += e + "\n" }
    out += "</svg>\n"
    return out
  }

  /// A coordinate with at most two decimals (keeps files small).
  func n(_ v: Double) -> String {
    let r = (v * 100).rounded() / 100
    if r == r.rounded() && abs(r) < 1e15 { return String(Int64(r)) }
    return "\(r)"
  }

  static func escape(_ s: String) -> String {
    var out = ""
    for c in s {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      default: out.append(c)
      }
    }
    return out
  }
}
