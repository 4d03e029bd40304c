import SNNBase

// The network file format (documented in Docs/Engine.md, example in
// Examples/networks/balanced.json). Keys are camelCase as in the Swift API; every key is
// checked, so a misspelt one is an error that names it.

extension NetworkSpec {
  /// Reads a network description from JSON; errors name the field by its path.
  public init(json: JSONValue) throws(ConfigurationError) {
    var root = try JSONObjectReader(json, path: "")
    guard let populations = try root.array("populations") else {
      throw .missing(field: "populations", expected: "an array of populations")
    }
    self.init()
    for (i, value) in populations.enumerated() {
      self.populations.append(try PopulationSpec(json: value, path: "populations[\(i)]"))
    }
    for (i, value) in (try root.array("projections") ?? []).enumerated() {
      projections.append(try ProjectionSpec(json: value, path: "projections[\(i)]"))
    }
    try root.finish()
  }

  /// The description as JSON (read back by ``init(json:)``).
  public var json: JSONValue {
    .object([
      ("populations", .array(populations.map(\.json))),
      ("projections", .array(projections.map(\.json))),
    ])
  }
}

extension Distribution {
  /// A number, `{"uniform": [low, high]}` or `{"normal": {"mean": m, "sd": s}}`.
  init(json: JSONValue, path: String) throws(ConfigurationError) {
    if let v = json.doubleValue {
      self = .constant(v)
      return
    }
    var r = try JSONObjectReader(json, path: path)
    if let u = try r.array("uniform") {
      guard u.count == 2, let lo = u[0].doubleValue, let hi = u[1].doubleValue else {
        throw .invalid(field: r.field("uniform"), value: JSONValue.array(u).description, expected: "[low, high]")
      }
      self = .uniform(lo, hi)
    } else if var n = try r.object("normal") {
      self = .normal(mean: try n.requiredDouble("mean"), sd: try n.requiredDouble("sd"))
      try n.finish()
    } else {
      throw .invalid(field: path, value: json.description, expected: "a number, {\"uniform\": [low, high]} or {\"normal\": {\"mean\": m, \"sd\": s}}")
    }
    try r.finish()
  }

  var json: JSONValue {
    switch self {
    case .constant(let v): return .number(v)
    case .uniform(let lo, let hi): return .object([("uniform", .array([.number(lo), .number(hi)]))])
    case .normal(let m, let s): return .object([("normal", .object([("mean", .number(m)), ("sd", .number(s))]))])
    }
  }
}

extension PopulationSpec {
  static let models = ["lif", "if", "poisson", "spike_trains"]

  init(json: JSONValue, path: String) throws(ConfigurationError) {
    var r = try JSONObjectReader(json, path: path)
    let name = try r.requiredString("name")
    let size = try r.requiredInt("size")
    let modelName = try r.requiredString("model")
    let model: NeuronModel
    switch modelName {
    case "lif":
      var p = LIF.Parameters()
      if var q = try r.object("parameters") {
        p.tauMem = try q.double("tauMem", default: p.tauMem)
        p.vRest = try q.double("vRest", default: p.vRest)
        p.vReset = try q.double("vReset", default: p.vReset)
        p.vThreshold = try q.double("vThreshold", default: p.vThreshold)
        p.tauRefractory = try q.double("tauRefractory", default: p.tauRefractory)
        p.iOffset = try q.double("iOffset", default: p.iOffset)
        if let channels = try q.array("channels") {
          p.channels = []
          for (k, c) in channels.enumerated() {
            var cr = try JSONObjectReader(c, path: q.field("channels[\(k)]"))
            switch try cr.requiredString("kind") {
            case "delta": p.channels.append(.delta)
            case "exponential": p.channels.append(.exponential(tau: try cr.requiredDouble("tau")))
            case let other: throw .unknown(field: cr.field("kind"), value: other, allowed: ["delta", "exponential"])
            }
            try cr.finish()
          }
        }
        try q.finish()
      }
      model = .lif(p, initialPotential: try Self.initialPotential(&r, default: p.vReset))
    case "if":
      var p = IF.Parameters()
      if var q = try r.object("parameters") {
        p.vThreshold = try q.double("vThreshold", default: p.vThreshold)
        p.vReset = try q.double("vReset", default: p.vReset)
        p.drive = try q.double("drive", default: p.drive)
        p.tauRefractory = try q.double("tauRefractory", default: p.tauRefractory)
        p.subtractiveReset = try q.bool("subtractiveReset", default: p.subtractiveReset)
        try q.finish()
      }
      model = .integrateAndFire(p, initialPotential: try Self.initialPotential(&r, default: p.vReset))
    case "poisson":
      model = .poisson(rateHz: try r.requiredDouble("rateHz"))
    case "spike_trains":
      guard let trains = try r.array("spikeTimes") else {
        throw .missing(field: r.field("spikeTimes"), expected: "an array of spike-time arrays (ms), one per neuron")
      }
      var parsed: [[Double]] = []
      for (n, train) in trains.enumerated() {
        guard let times = train.arrayValue else {
          throw .invalid(field: r.field("spikeTimes[\(n)]"), value: train.kindName, expected: "an array of times (ms)")
        }
        var row: [Double] = []
        for (k, t) in times.enumerated() {
          guard let v = t.doubleValue else {
            throw .invalid(field: r.field("spikeTimes[\(n)][\(k)]"), value: t.description, expected: "a time in ms")
          }
          row.append(v)
        }
        parsed.append(row)
      }
      model = .spikeTrains(parsed)
    default:
      throw .unknown(field: r.field("model"), value: modelName, allowed: Self.models)
    }
    try r.finish()
    self.init(name: name, size: size, model: model)
  }

  static func initialPotential(_ r: inout JSONObjectReader, default v: Double) throws(ConfigurationError) -> Distribution {
    guard var initial = try r.object("initial") else { return .constant(v) }
    let d = try initial.value("v").map { (x) throws(ConfigurationError) in try Distribution(json: x, path: initial.field("v")) }
    try initial.finish()
    return d ?? .constant(v)
  }

  var json: JSONValue {
    var o: [(key: String, value: JSONValue)] = [("name", .string(name)), ("size", JSONValue(size)), ("model", .string(model.name))]
    switch model {
    case .lif(let p, let v0):
      let channels: [JSONValue] = p.channels.map {
        switch $0 {
        case .delta: return .object([("kind", "delta")])
        case .exponential(let tau): return .object([("kind", "exponential"), ("tau", .number(tau))])
        }
      }
      o.append((
        "parameters",
        .object([
          ("tauMem", .number(p.tauMem)), ("vRest", .number(p.vRest)), ("vReset", .number(p.vReset)),
          ("vThreshold", .number(p.vThreshold)), ("tauRefractory", .number(p.tauRefractory)),
          ("iOffset", .number(p.iOffset)), ("channels", .array(channels)),
        ])
      ))
      o.append(("initial", .object([("v", v0.json)])))
    case .integrateAndFire(let p, let v0):
      o.append((
        "parameters",
        .object([
          ("vThreshold", .number(p.vThreshold)), ("vReset", .number(p.vReset)), ("drive", .number(p.drive)),
          ("tauRefractory", .number(p.tauRefractory)), ("subtractiveReset", .bool(p.subtractiveReset)),
        ])
      ))
      o.append(("initial", .object([("v", v0.json)])))
    case .poisson(let rate):
      o.append(("rateHz", .number(rate)))
    case .spikeTrains(let trains):
      o.append(("spikeTimes", .array(trains.map { JSONValue($0) })))
    }
    return .object(o)
  }
}

extension ProjectionSpec {
  static let rules = ["all_to_all", "one_to_one", "fixed_probability", "fixed_fan_in", "explicit", "convolution"]

  init(json: JSONValue, path: String) throws(ConfigurationError) {
    var r = try JSONObjectReader(json, path: path)
    let source = try r.requiredString("source")
    let target = try r.requiredString("target")
    let name = try r.string("name") ?? ""
    var rr = try JSONObjectReader(try r.required("rule", expected: "an object with a \"kind\""), path: r.field("rule"))
    let kind = try rr.requiredString("kind")
    let rule: ConnectionRule
    switch kind {
    case "all_to_all": rule = .allToAll
    case "one_to_one": rule = .oneToOne
    case "fixed_probability":
      rule = .fixedProbability(try rr.requiredDouble("probability"), allowAutapses: try rr.bool("autapses", default: true))
    case "fixed_fan_in": rule = .fixedFanIn(try rr.requiredInt("fanIn"))
    case "explicit":
      guard let pairs = try rr.array("pairs") else { throw .missing(field: rr.field("pairs"), expected: "an array of [source, target] pairs") }
      var parsed: [(source: Int, target: Int)] = []
      for (k, pair) in pairs.enumerated() {
        guard let a = pair.arrayValue, a.count == 2, let s = a[0].intValue, let t = a[1].intValue else {
          throw .invalid(field: rr.field("pairs[\(k)]"), value: pair.description, expected: "[source, target]")
        }
        parsed.append((s, t))
      }
      rule = .explicit(parsed)
    case "convolution":
      rule = .convolution(
        height: try rr.requiredInt("height"), width: try rr.requiredInt("width"),
        inChannels: try rr.requiredInt("inChannels"), outChannels: try rr.requiredInt("outChannels"),
        kernel: try rr.requiredInt("kernel"), stride: try rr.int("stride") ?? 1, padding: try rr.int("padding") ?? 0)
    default:
      throw .unknown(field: rr.field("kind"), value: kind, allowed: Self.rules)
    }
    try rr.finish()
    let weight = try Distribution(json: try r.required("weight", expected: "a number or a distribution"), path: r.field("weight"))
    let delay = try r.double("delay", default: 0)
    let channel = try r.int("channel") ?? 0
    try r.finish()
    self.init(name: name, source: source, target: target, rule: rule, weight: weight, delay: delay, channel: channel)
  }

  var json: JSONValue {
    var rule: [(key: String, value: JSONValue)] = [("kind", .string(self.rule.name))]
    switch self.rule {
    case .allToAll, .oneToOne: break
    case .fixedProbability(let p, let autapses):
      rule.append(("probability", .number(p)))
      rule.append(("autapses", .bool(autapses)))
    case .fixedFanIn(let k): rule.append(("fanIn", JSONValue(k)))
    case .explicit(let pairs): rule.append(("pairs", .array(pairs.map { .array([JSONValue($0.source), JSONValue($0.target)]) })))
    case .convolution(let h, let w, let cin, let cout, let k, let s, let p):
      rule += [("height", JSONValue(h)), ("width", JSONValue(w)), ("inChannels", JSONValue(cin)), ("outChannels", JSONValue(cout)), ("kernel", JSONValue(k)), ("stride", JSONValue(s)), ("padding", JSONValue(p))]
    }
    return .object([
      ("name", .string(name)), ("source", .string(source)), ("target", .string(target)), ("rule", .object(rule)),
      ("weight", weight.json), ("delay", .number(delay)), ("channel", JSONValue(channel)),
    ])
  }
}
