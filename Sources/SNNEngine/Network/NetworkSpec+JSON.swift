import SNNBase

// The network file format (documented in Docs/Engine.md, example in
// Examples/networks/balanced.json). Keys are camelCase as in the Swift API; every key is
// checked, so a misspelt one is an error that names it.

extension NetworkSpec {
  /// Reads a network description from JSON; errors name the field by its path.
  public init(json: JSONValue) throws(ConfigurationError) {
    var root = try JSONObjectReader(json, path: "")
    guard let populations = try root.optionalArray("populations") else {
      throw .missing(field: "populations", expected: "an array of populations")
    }
    self.init()
    for (i, value) in populations.enumerated() {
      self.populations.append(try PopulationSpec(json: value, path: "populations[\(i)]"))
    }
    for (i, value) in (try root.optionalArray("projections") ?? []).enumerated() {
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
    if let u = try r.optionalArray("uniform") {
      guard u.count == 2, let lo = u[0].doubleValue, let hi = u[1].doubleValue else {
        throw .invalid(field: r.field("uniform"), value: JSONValue.array(u).description, expected: "[low, high]")
      }
      self = .uniform(lo, hi)
    } else if var n = try r.optionalObject("normal") {
      self = .normal(mean: try n.double("mean"), sd: try n.double("sd"))
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
    let name = try r.string("name")
    let size = try r.int("size")
    let modelName = try r.string("model")
    let model: NeuronModel
    switch modelName {
    case "lif":
      var p = LIF.Parameters()
      if var q = try r.optionalObject("parameters") {
        p.tauMem = try q.optionalDouble("tauMem") ?? p.tauMem
        p.vRest = try q.optionalDouble("vRest") ?? p.vRest
        p.vReset = try q.optionalDouble("vReset") ?? p.vReset
        p.vThreshold = try q.optionalDouble("vThreshold") ?? p.vThreshold
        p.tauRefractory = try q.optionalDouble("tauRefractory") ?? p.tauRefractory
        p.iOffset = try q.optionalDouble("iOffset") ?? p.iOffset
        if let channels = try q.optionalArray("channels") {
          p.channels = []
          for (k, c) in channels.enumerated() {
            var cr = try JSONObjectReader(c, path: q.field("channels[\(k)]"))
            switch try cr.string("kind") {
            case "delta": p.channels.append(.delta)
            case "exponential": p.channels.append(.exponential(tau: try cr.double("tau")))
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
      if var q = try r.optionalObject("parameters") {
        p.vThreshold = try q.optionalDouble("vThreshold") ?? p.vThreshold
        p.vReset = try q.optionalDouble("vReset") ?? p.vReset
        p.drive = try q.optionalDouble("drive") ?? p.drive
        p.tauRefractory = try q.optionalDouble("tauRefractory") ?? p.tauRefractory
        p.subtractiveReset = try q.optionalBool("subtractiveReset") ?? p.subtractiveReset
        try q.finish()
      }
      model = .integrateAndFire(p, initialPotential: try Self.initialPotential(&r, default: p.vReset))
    case "poisson":
      model = .poisson(rateHz: try r.double("rateHz"))
    case "spike_trains":
      guard let trains = try r.optionalArray("spikeTimes") else {
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
    guard var initial = try r.optionalObject("initial") else { return .constant(v) }
    let d = try initial.optional("v").map { (x) throws(ConfigurationError) in try Distribution(json: x, path: initial.field("v")) }
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
    let source = try r.string("source")
    let target = try r.string("target")
    let name = try r.optionalString("name") ?? ""
    var rr = try JSONObjectReader(try r.value("rule", expected: "an object with a \"kind\""), path: r.field("rule"))
    let kind = try rr.string("kind")
    let rule: ConnectionRule
    switch kind {
    case "all_to_all": rule = .allToAll
    case "one_to_one": rule = .oneToOne
    case "fixed_probability":
      rule = .fixedProbability(try rr.double("probability"), allowAutapses: try rr.optionalBool("autapses") ?? true)
    case "fixed_fan_in": rule = .fixedFanIn(try rr.int("fanIn"))
    case "explicit":
      guard let pairs = try rr.optionalArray("pairs") else { throw .missing(field: rr.field("pairs"), expected: "an array of [source, target] pairs") }
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
        height: try rr.int("height"), width: try rr.int("width"),
        inChannels: try rr.int("inChannels"), outChannels: try rr.int("outChannels"),
        kernel: try rr.int("kernel"), stride: try rr.optionalInt("stride") ?? 1, padding: try rr.optionalInt("padding") ?? 0)
    default:
      throw .unknown(field: rr.field("kind"), value: kind, allowed: Self.rules)
    }
    try rr.finish()
    let weight = try Distribution(json: try r.value("weight", expected: "a number or a distribution"), path: r.field("weight"))
    let delay = try r.optionalDouble("delay") ?? 0
    let channel = try r.optionalInt("channel") ?? 0
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
