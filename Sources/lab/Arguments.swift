/// An error in what the user asked for: printed as `lab: error: …` with exit status 1 (2 for
/// usage errors).
struct LabError: Error, CustomStringConvertible {
    let description: String
    var isUsage = false

    init(_ description: String, usage: Bool = false) {
        self.description = description
        isUsage = usage
    }
}

/// Command-line options: `--name value` pairs and `--flag` switches, parsed strictly (unknown
/// options and missing values are errors).
struct Arguments {
    private(set) var positional: [String] = []
    private var values: [String: String] = [:]
    private var flags: Set<String> = []
    private var used: Set<String> = []

    /// - Parameters:
    ///   - valueOptions: options that take a value.
    ///   - flagOptions: options that take none.
    init(_ arguments: [String], valueOptions: Set<String>, flagOptions: Set<String>) throws {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument.hasPrefix("--") {
                let name = String(argument.dropFirst(2))
                if let equals = name.firstIndex(of: "="), valueOptions.contains(String(name[..<equals])) {
                    values[String(name[..<equals])] = String(name[name.index(after: equals)...])
                } else if valueOptions.contains(name) {
                    guard index + 1 < arguments.count else { throw LabError("option --\(name) needs a value", usage: true) }
                    values[name] = arguments[index + 1]
                    index += 1
                } else if flagOptions.contains(name) {
                    flags.insert(name)
                } else {
                    let known = (valueOptions.union(flagOptions)).sorted().map { "--" + $0 }.joined(separator: ", ")
                    throw LabError("unknown option \(argument) (this command takes: \(known.isEmpty ? "no options" : known))", usage: true)
                }
            } else {
                positional.append(argument)
            }
            index += 1
        }
    }

    func value(_ name: String) -> String? { values[name] }

    func required(_ name: String) throws -> String {
        guard let value = values[name] else { throw LabError("missing required option --\(name)", usage: true) }
        return value
    }

    func flag(_ name: String) -> Bool { flags.contains(name) }

    func integer(_ name: String, default fallback: Int) throws -> Int {
        guard let text = values[name] else { return fallback }
        guard let value = Int(text) else { throw LabError("--\(name) expects an integer, got '\(text)'", usage: true) }
        return value
    }

    func float(_ name: String, default fallback: Float) throws -> Float {
        guard let text = values[name] else { return fallback }
        guard let value = Float(text), value.isFinite else { throw LabError("--\(name) expects a number, got '\(text)'", usage: true) }
        return value
    }
}
