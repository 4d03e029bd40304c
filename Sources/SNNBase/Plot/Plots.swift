/// Ready-made plots as SVG text: spike rasters, line charts, grey-scale images.
public enum Plot {
  /// A colour cycle for series.
  public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

  /// A spike raster: one tick per spike at (time, neuron).
  ///
  /// - Parameters:
  ///   - spikes: (time, neuron index) pairs; times in `timeUnit`.
  ///   - neuronCount: the number of rows.
  ///   - duration: the right end of the time axis.
  ///   - groups: optional (first neuron, colour) boundaries, e.g. excitatory / inhibitory.
  public static func raster(
    spikes: [(time: Double, neuron: Int)], neuronCount: Int, duration: Double,
    title: String, timeLabel: String = "time (ms)", groups: [(start: Int, color: String, label: String)] = []
  ) -> String {
    let frame = Frame(width: 900, height: 520)
    var svg = SVGDocument(width: frame.width, height: frame.height)
    let xAxis = Axis(min: 0, max: max(duration, 1e-9))
    let yAxis = Axis(min: 0, max: Double(max(neuronCount, 1)))
    frame.drawAxes(&svg, x: xAxis, y: yAxis, xLabel: timeLabel, yLabel: "neuron", title: title, yInverted: false)
    let colors = groups.isEmpty ? [(start: 0, color: "#222", label: "")] : groups.sorted { $0.start < $1.start }
    var paths = [String](repeating: "", count: colors.count)
    let tickHeight = max(1.5, min(4, frame.plotHeight / Double(max(neuronCount, 1))))
    for spike in spikes {
      var g = 0
      while g + 1 < colors.count && spike.neuron >= colors[g + 1].start { g += 1 }
      let x = frame.x(spike.time, xAxis)
      let y = frame.y(Double(spike.neuron) + 0.5, yAxis)
      paths[g] += "M\(svg.n(x)) \(svg.n(y - tickHeight / 2))v\(svg.n(tickHeight))"
    }
    for (g, data) in paths.enumerated() where !data.isEmpty {
      svg.path(data, stroke: colors[g].color, width: 1.2)
    }
    if !groups.isEmpty {
      frame.legend(&svg, colors.map { ($0.label, $0.color) })
    }
    return svg.render()
  }

  /// A line chart of one or more series with markers.
  public static func lineChart(
    series: [(label: String, points: [(x: Double, y: Double)])],
    title: String, xLabel: String, yLabel: String, logX: Bool = false, logY: Bool = false,
    yFromZero: Bool = true
  ) -> String {
    let frame = Frame(width: 720, height: 440)
    var svg = SVGDocument(width: frame.width, height: frame.height)
    let xs = series.flatMap { $0.points.map(\.x) }
    let ys = series.flatMap { $0.points.map(\.y) }
    let xAxis = Axis(min: xs.min() ?? 0, max: xs.max() ?? 1, log: logX)
    let yAxis = Axis(min: yFromZero && !logY ? min(0, ys.min() ?? 0) : (ys.min() ?? 0), max: ys.max() ?? 1, log: logY)
    frame.drawAxes(&svg, x: xAxis, y: yAxis, xLabel: xLabel, yLabel: yLabel, title: title, yInverted: false)
    for (i, s) in series.enumerated() {
      let color = palette[i % palette.count]
      let points = s.points.map { (frame.x($0.x, xAxis), frame.y($0.y, yAxis)) }
      svg.polyline(points, stroke: color, width: 2)
      for p in points { svg.circle(cx: p.0, cy: p.1, r: 3.5, fill: color) }
    }
    frame.legend(&svg, series.enumerated().map { ($0.element.label, palette[$0.offset % palette.count]) })
    return svg.render()
  }

  /// The path of a companion figure: `plot.svg` with suffix `-time` → `plot-time.svg`
  /// (a path without `.svg` gets `suffix.svg` appended).
  public static func siblingPath(_ path: String, suffix: String) -> String {
    (path.hasSuffix(".svg") ? String(path.dropLast(4)) : path) + suffix + ".svg"
  }

  /// A grey-scale image (row-major `values`, `width` × `height`), scaled so that the
  /// largest value is black; `scale` pixels per value.
  public static func image(values: [Double], width: Int, height: Int, scale: Double = 8, title: String) -> String {
    let top = 30.0
    var svg = SVGDocument(width: Double(width) * scale + 20, height: Double(height) * scale + top + 10)
    svg.text(title, x: 10, y: 20, size: 14, weight: "bold")
    let peak = values.map(abs).max() ?? 1
    for row in 0..<height {
      for col in 0..<width {
        let v = values[row * width + col] / (peak > 0 ? peak : 1)
        guard v != 0 else { continue }
        let level = Int((1 - min(1, max(0, v))) * 255)
        let hex = String(level, radix: 16)
        let c = (hex.count == 1 ? "0" : "") + hex
        svg.rect(x: 10 + Double(col) * scale, y: top + Double(row) * scale, width: scale, height: scale, fill: "#\(c)\(c)\(c)")
      }
    }
    svg.rect(x: 10, y: top, width: Double(width) * scale, height: Double(height) * scale, fill: "none", stroke: "#888")
    return svg.render()
  }
}

/// A linear or logarithmic axis over [min, max].
struct Axis {
  var min: Double
  var max: Double
  var log: Bool = false

  init(min: Double, max: Double, log: Bool = false) {
    self.log = log
    var lo = min
    var hi = max
    if log {
      lo = Swift.max(lo, 1e-300)
      hi = Swift.max(hi, lo * 10)
    } else if hi <= lo {
      hi = lo + 1
    }
    self.min = lo
    self.max = hi
  }

  func fraction(_ v: Double) -> Double {
    if log { return (Math.log(Swift.max(v, min)) - Math.log(min)) / (Math.log(max) - Math.log(min)) }
    return (v - min) / (max - min)
  }

  /// About five round tick values.
  func ticks() -> [Double] {
    if log {
      // Powers of ten; over fewer than two decades also their multiples 2 and 5.
      let steps: [Double] = max / min < 100 ? [1, 2, 5] : [1]
      var t: [Double] = []
      var decade = Math.pow(10, (Math.log(min) / Math.log(10)).rounded(.down))
      while decade <= max * 1.0001 {
        for m in steps where decade * m >= min * 0.9999 && decade * m <= max * 1.0001 {
          t.append(decade * m)
        }
        decade *= 10
      }
      return t.isEmpty ? [min, max] : t
    }
    let raw = (max - min) / 5
    let magnitude = Math.pow(10, (Math.log(raw) / Math.log(10)).rounded(.down))
    let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
    var t: [Double] = []
    var v = (min / step).rounded(.up) * step
    while v <= max + step * 1e-9 {
      t.append(abs(v) < step * 1e-9 ? 0 : v)
      v += step
    }
    return t
  }

  static func label(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e7 { return String(Int64(v)) }
    let a = abs(v)
    if a >= 1e7 || a < 1e-3 { return "\(v)" }
    var s = "\((v * 1000).rounded() / 1000)"
    while s.contains(".") && (s.hasSuffix("0") || s.hasSuffix(".")) { s.removeLast() }
    return s
  }
}

/// The plot area inside a figure, with margins for labels.
struct Frame {
  var width: Double
  var height: Double
  let left = 70.0, right = 20.0, top = 40.0, bottom = 55.0
  var plotWidth: Double { width - left - right }
  var plotHeight: Double { height - top - bottom }

  func x(_ v: Double, _ axis: Axis) -> Double { left + axis.fraction(v) * plotWidth }
  func y(_ v: Double, _ axis: Axis) -> Double { top + (1 - axis.fraction(v)) * plotHeight }

  func drawAxes(
    _ svg: inout SVGDocument, x xAxis: Axis, y yAxis: Axis, xLabel: String, yLabel: String, title: String,
    yInverted: Bool
  ) {
    svg.text(title, x: width / 2, y: 24, size: 15, anchor: .middle, weight: "bold")
    svg.rect(x: left, y: top, width: plotWidth, height: plotHeight, fill: "none", stroke: "#444")
    for t in xAxis.ticks() {
      let px = x(t, xAxis)
      svg.line(x1: px, y1: top + plotHeight, x2: px, y2: top + plotHeight + 5, stroke: "#444")
      svg.line(x1: px, y1: top, x2: px, y2: top + plotHeight, stroke: "#eee")
      svg.text(Axis.label(t), x: px, y: top + plotHeight + 19, size: 11, anchor: .middle)
    }
    for t in yAxis.ticks() {
      let py = y(t, yAxis)
      svg.line(x1: left - 5, y1: py, x2: left, y2: py, stroke: "#444")
      svg.line(x1: left, y1: py, x2: left + plotWidth, y2: py, stroke: "#eee")
      svg.text(Axis.label(t), x: left - 8, y: py + 4, size: 11, anchor: .end)
    }
    svg.text(xLabel, x: left + plotWidth / 2, y: height - 14, size: 12, anchor: .middle)
    svg.text(yLabel, x: 18, y: top + plotHeight / 2, size: 12, anchor: .middle, rotate: -90)
  }

  func legend(_ svg: inout SVGDocument, _ entries: [(String, String)]) {
    var y = top + 16
    for (label, color) in entries where !label.isEmpty {
      svg.rect(x: left + 12, y: y - 9, width: 12, height: 10, fill: color)
      svg.text(label, x: left + 30, y: y, size: 11)
      y += 16
    }
  }
}
