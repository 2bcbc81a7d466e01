import Foundation

/// A small JSON Schema (draft 2020-12) validator for the keywords docs/dlmsdump.schema.json uses: type, required,
/// properties, additionalProperties, items, enum, const, oneOf, anyOf, $ref (to #/$defs), minimum, maximum,
/// minLength, pattern. Written for the tests so they need nothing installed at run time.
final class JSONSchemaValidator {
    let root: JSONValue
    private var regexCache: [String: NSRegularExpression] = [:]

    init(schemaText: String) throws {
        root = try JSONValue.parse(schemaText)
    }

    /// Problems found (empty when valid), each with a path.
    func validate(_ value: JSONValue) -> [String] {
        var problems: [String] = []
        check(value, root, "$", &problems)
        return problems
    }

    private func resolve(_ schema: JSONValue) -> JSONValue {
        guard let ref = schema["$ref"]?.string, ref.hasPrefix("#/$defs/") else { return schema }
        return root["$defs"]?[String(ref.dropFirst("#/$defs/".count))] ?? .object([])
    }

    private func typeName(_ v: JSONValue) -> String {
        switch v {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    private func number(_ v: JSONValue) -> Double? {
        switch v {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    private func check(_ v: JSONValue, _ s0: JSONValue, _ path: String, _ out: inout [String]) {
        let s = resolve(s0)
        if let t = s["type"] {
            let types = t.array?.compactMap(\.string) ?? [t.string ?? ""]
            let actual = typeName(v)
            if !(types.contains(actual) || (actual == "integer" && types.contains("number"))) {
                out.append("\(path): type \(actual), want \(types)")
                return
            }
        }
        if let c = s["const"], c != v { out.append("\(path): not the constant \(c)") }
        if let e = s["enum"]?.array, !e.contains(v) { out.append("\(path): \(v) not in enum") }
        if let n = number(v) {
            if let m = s["minimum"].flatMap(number), n < m { out.append("\(path): \(n) below minimum \(m)") }
            if let m = s["maximum"].flatMap(number), n > m { out.append("\(path): \(n) above maximum \(m)") }
        }
        if let str = v.string {
            if let m = s["minLength"]?.int, str.count < m { out.append("\(path): shorter than \(m)") }
            if let p = s["pattern"]?.string {
                let re: NSRegularExpression
                if let cached = regexCache[p] {
                    re = cached
                } else {
                    guard let made = try? NSRegularExpression(pattern: p) else {
                        out.append("schema pattern \(p) does not compile")
                        return
                    }
                    re = made
                    regexCache[p] = made
                }
                let range = NSRange(str.startIndex..., in: str)
                if re.firstMatch(in: str, range: range) == nil { out.append("\(path): '\(str.prefix(40))' !~ \(p)") }
            }
        }
        if case .object(let members) = v {
            if let req = s["required"]?.array?.compactMap(\.string) {
                for k in req where v[k] == nil { out.append("\(path): missing \(k)") }
            }
            let props = s["properties"]
            for (k, val) in members {
                if let ps = props?[k] {
                    check(val, ps, "\(path).\(k)", &out)
                } else if let ap = s["additionalProperties"] {
                    if ap == .bool(false) { out.append("\(path): unexpected member \(k)") }
                    if case .object = ap { check(val, ap, "\(path).\(k)", &out) }
                }
            }
        }
        if case .array(let arr) = v, let items = s["items"] {
            for (i, x) in arr.enumerated() { check(x, items, "\(path)[\(i)]", &out) }
        }
        if let one = s["oneOf"]?.array {
            var matches = 0
            var firstProblems: [String] = []
            for sub in one {
                var p: [String] = []
                check(v, sub, path, &p)
                if p.isEmpty { matches += 1 } else if firstProblems.isEmpty { firstProblems = p }
            }
            if matches != 1 {
                if let kind = v["kind"]?.string,
                   let sub = one.first(where: { ($0["$ref"]?.string ?? "").hasSuffix("/" + kind) })
                {
                    var p: [String] = []
                    check(v, sub, path, &p)
                    out.append(contentsOf: p.isEmpty ? ["\(path): matches \(matches) oneOf branches"] : p)
                } else {
                    out.append("\(path): matches \(matches) of \(one.count) oneOf branches; \(firstProblems.prefix(3))")
                }
            }
        }
        if let any = s["anyOf"]?.array {
            let ok = any.contains { sub in
                var p: [String] = []
                check(v, sub, path, &p)
                return p.isEmpty
            }
            if !ok { out.append("\(path): matches no anyOf branch") }
        }
    }
}
