import SNNBase

/// SVG pictures of dataset samples.
public enum DatasetPlot {
  /// A grey-scale image sample (white background, dark strokes), `scale` pixels per pixel.
  public static func image(
    _ dataset: ImageDataset, index: Int, title: String? = nil, scale: Double = 10
  ) -> String {
    let values = dataset.image(index).map { Double($0) }
    return Plot.image(
      values: values, width: dataset.cols, height: dataset.rows, scale: scale,
      title: title ?? "\(dataset.name) #\(index), label \(dataset.labels[index])")
  }

  /// An event sample: left, the events accumulated into one frame (ON events green, OFF
  /// events magenta, brighter with more events); right, a raster of every event, time on
  /// the x axis and the pixel index y·width + x on the y axis.
  public static func events(_ sample: EventSample, title: String) -> String {
    let scale = 8.0
    let w = Double(sample.width) * scale
    let h = Double(sample.height) * scale
    let rasterLeft = w + 90
    let rasterWidth = 620.0
    let top = 50.0
    var svg = SVGDocument(width: rasterLeft + rasterWidth + 30, height: max(h, 360) + top + 60)
    svg.text(title, x: 20, y: 26, size: 15, weight: "bold")
    // Frame image.
    var on = [Int](repeating: 0, count: sample.width * sample.height)
    var off = on
    for k in 0..<sample.count {
      let i = Int(sample.y[k]) * sample.width + Int(sample.x[k])
      if sample.polarity[k] == 1 { on[i] += 1 } else { off[i] += 1 }
    }
    let peak = max(1, (on.max() ?? 0), (off.max() ?? 0))
    svg.rect(x: 20, y: top, width: w, height: h, fill: "#000")
    for row in 0..<sample.height {
      for col in 0..<sample.width {
        let i = row * sample.width + col
        guard on[i] + off[i] > 0 else { continue }
        let g = min(255, Int(255 * Double(on[i]) / Double(peak) * 1.5))
        let m = min(255, Int(255 * Double(off[i]) / Double(peak) * 1.5))
        svg.rect(
          x: 20 + Double(col) * scale, y: top + Double(row) * scale, width: scale, height: scale,
          fill: "#" + hex2(m) + hex2(g) + hex2(m))
      }
    }
    svg.text(
      "\(sample.count) events (\(sample.onCount) ON green, \(sample.count - sample.onCount) OFF magenta)",
      x: 20, y: top + h + 20, size: 11)
    // Raster.
    let first = Double(sample.timestamp.first ?? 0)
    let span = max(1, Double(sample.duration))
    let rows = Double(sample.width * sample.height)
    let rh = max(h, 360)
    svg.rect(x: rasterLeft, y: top, width: rasterWidth, height: rh, fill: "none", stroke: "#444")
    var onPath = "", offPath = ""
    for k in 0..<sample.count {
      let px = rasterLeft + (Double(sample.timestamp[k]) - first) / span * rasterWidth
      let py = top + Double(Int(sample.y[k]) * sample.width + Int(sample.x[k])) / rows * rh
      let mark = "M\(fmt(px)) \(fmt(py))v1.5"
      if sample.polarity[k] == 1 { onPath += mark } else { offPath += mark }
    }
    if !onPath.isEmpty { svg.path(onPath, stroke: "#1a9850", width: 1) }
    if !offPath.isEmpty { svg.path(offPath, stroke: "#c51b7d", width: 1) }
    for i in 0...5 {
      let t = first + span * Double(i) / 5
      let px = rasterLeft + rasterWidth * Double(i) / 5
      svg.line(x1: px, y1: top + rh, x2: px, y2: top + rh + 5, stroke: "#444")
      svg.text(fmt(t / 1000), x: px, y: top + rh + 18, size: 10, anchor: .middle)
    }
    svg.text(
      "time (ms)", x: rasterLeft + rasterWidth / 2, y: top + rh + 36, size: 11, anchor: .middle)
    svg.text(
      "pixel y·\(sample.width) + x", x: rasterLeft - 12, y: top + rh / 2, size: 11, anchor: .middle,
      rotate: -90)
    return svg.render()
  }

  private static func hex2(_ v: Int) -> String {
    let s = String(max(0, min(255, v)), radix: 16)
    return s.count == 1 ? "0" + s : s
  }

  private static func fmt(_ v: Double) -> String {
    let r = (v * 10).rounded() / 10
    return r == r.rounded() ? String(Int64(r)) : "\(r)"
  }
}

extension EventDataset {
  /// Per-sample durations (last − first timestamp, µs): (mean, min, max).
  public func durations() -> (mean: Double, min: UInt32, max: UInt32) {
    guard count > 0 else { return (0, 0, 0) }
    var lo = UInt32.max, hi: UInt32 = 0, sum = 0.0
    for i in 0..<count {
      let r = offsets[i]..<offsets[i + 1]
      let d =
        r.isEmpty || timestamp[r.upperBound - 1] < timestamp[r.lowerBound]
        ? 0 : timestamp[r.upperBound - 1] - timestamp[r.lowerBound]
      lo = Swift.min(lo, d)
      hi = Swift.max(hi, d)
      sum += Double(d)
    }
    return (sum / Double(count), lo, hi)
  }
}
