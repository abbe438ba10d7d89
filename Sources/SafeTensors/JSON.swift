/// The subset of JSON a safetensors header uses: objects, arrays, strings and integers.
///
/// Objects keep their members in document order; duplicate keys are rejected while parsing.
/// Integers keep their literal text so the header decoder can report range problems (negative,
/// too large) in the context of the tensor they belong to.
enum JSONValue {
    /// An object's members, in document order.
    case object([(key: String, value: JSONValue)])
    /// An array's elements, in order.
    case array([JSONValue])
    /// A string, with escapes resolved.
    case string(String)
    /// An integer literal: an optional `-`, then `0` or digits without a leading zero.
    case integer(String)

    /// A short name for the kind of value, for error messages.
    var kindName: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .integer: "an integer"
        }
    }

    /// Appends the compact encoding of the value (no spaces, as serde_json writes it).
    /// Strings are escaped the way serde_json escapes them: `"`, `\` and control characters;
    /// everything else, including non-ASCII text, is written as raw UTF-8.
    func write(to output: inout [UInt8]) {
        switch self {
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                JSONValue.string(member.key).write(to: &output)
                output.append(UInt8(ascii: ":"))
                member.value.write(to: &output)
            }
            output.append(UInt8(ascii: "}"))
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                element.write(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .string(let text):
            output.append(UInt8(ascii: "\""))
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "\""): output.append(contentsOf: Array(#"\""#.utf8))
                case UInt8(ascii: "\\"): output.append(contentsOf: Array(#"\\"#.utf8))
                case 0x08: output.append(contentsOf: Array(#"\b"#.utf8))
                case 0x0C: output.append(contentsOf: Array(#"\f"#.utf8))
                case 0x0A: output.append(contentsOf: Array(#"\n"#.utf8))
                case 0x0D: output.append(contentsOf: Array(#"\r"#.utf8))
                case 0x09: output.append(contentsOf: Array(#"\t"#.utf8))
                case 0..<0x20:
                    let hexDigits = Array("0123456789abcdef".utf8)
                    output.append(contentsOf: Array(#"\u00"#.utf8))
                    output.append(hexDigits[Int(byte >> 4)])
                    output.append(hexDigits[Int(byte & 0xF)])
                default: output.append(byte)
                }
            }
            output.append(UInt8(ascii: "\""))
        case .integer(let literal):
            output.append(contentsOf: Array(literal.utf8))
        }
    }
}

/// A strict recursive-descent parser for ``JSONValue``.
///
/// It accepts exactly one value surrounded by optional whitespace, and rejects floats,
/// exponents, `true`/`false`/`null`, unescaped control characters, invalid escapes, lone
/// surrogates, duplicate keys and nesting deeper than ``maximumDepth``. Errors are
/// ``SafeTensorsError/Kind/invalidFormat`` and give the byte offset within the header.
struct JSONParser {
    /// The deepest nesting of objects and arrays accepted. A valid header needs 3
    /// (header object → tensor object → shape array); the bound keeps recursion shallow.
    static let maximumDepth = 32

    private let bytes: [UInt8]
    private var position = 0

    /// Parses `text`, which must be valid UTF-8 (the header decoder checks that first, so
    /// string contents can be decoded without re-validation).
    static func parse(_ text: [UInt8]) throws(SafeTensorsError) -> JSONValue {
        var parser = JSONParser(bytes: text)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 1)
        parser.skipWhitespace()
        if parser.position < parser.bytes.count {
            throw parser.error("unexpected \(parser.describeCurrentByte()) after the end of the JSON value")
        }
        return value
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private func error(_ problem: String) -> SafeTensorsError {
        SafeTensorsError(.invalidFormat, "header JSON: \(problem) at byte \(position) of the header")
    }

    private func describeCurrentByte() -> String {
        guard position < bytes.count else { return "end of header" }
        let byte = bytes[position]
        if byte >= 0x21 && byte < 0x7F { return "character '\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16))"
    }

    private var currentByte: UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private mutating func skipWhitespace() {
        while let byte = currentByte,
              byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
            position += 1
        }
    }

    private mutating func expect(_ character: Unicode.Scalar) throws(SafeTensorsError) {
        guard currentByte == UInt8(ascii: character) else {
            throw error("expected '\(character)' but found \(describeCurrentByte())")
        }
        position += 1
    }

    private mutating func parseValue(depth: Int) throws(SafeTensorsError) -> JSONValue {
        guard let byte = currentByte else { throw error("expected a value but found end of header") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .integer(try parseInteger())
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            throw error("true, false and null are not allowed in a safetensors header")
        default:
            throw error("expected a value but found \(describeCurrentByte())")
        }
    }

    private mutating func checkDepth(_ depth: Int) throws(SafeTensorsError) {
        if depth > Self.maximumDepth {
            throw error("objects and arrays nested deeper than \(Self.maximumDepth) levels")
        }
    }

    private mutating func parseObject(depth: Int) throws(SafeTensorsError) -> JSONValue {
        try checkDepth(depth)
        try expect("{")
        var members: [(key: String, value: JSONValue)] = []
        var seenKeys: Set<String> = []
        skipWhitespace()
        if currentByte == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard currentByte == UInt8(ascii: "\"") else {
                throw error("expected a string key but found \(describeCurrentByte())")
            }
            let keyPosition = position
            let key = try parseString()
            guard seenKeys.insert(key).inserted else {
                position = keyPosition
                throw error("duplicate key '\(key)'")
            }
            skipWhitespace()
            try expect(":")
            skipWhitespace()
            members.append((key, try parseValue(depth: depth + 1)))
            skipWhitespace()
            if currentByte == UInt8(ascii: ",") {
                position += 1
            } else {
                try expect("}")
                return .object(members)
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(SafeTensorsError) -> JSONValue {
        try checkDepth(depth)
        try expect("[")
        var elements: [JSONValue] = []
        skipWhitespace()
        if currentByte == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            if currentByte == UInt8(ascii: ",") {
                position += 1
            } else {
                try expect("]")
                return .array(elements)
            }
        }
    }

    private mutating func parseInteger() throws(SafeTensorsError) -> String {
        let start = position
        if currentByte == UInt8(ascii: "-") { position += 1 }
        guard let firstDigit = currentByte, firstDigit >= UInt8(ascii: "0"), firstDigit <= UInt8(ascii: "9") else {
            throw error("expected a digit but found \(describeCurrentByte())")
        }
        position += 1
        if firstDigit != UInt8(ascii: "0") {
            while let byte = currentByte, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                position += 1
            }
        }
        if let byte = currentByte,
           byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) {
            throw error("only integers without leading zeros are allowed in a safetensors header")
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private mutating func parseString() throws(SafeTensorsError) -> String {
        try expect("\"")
        var content: [UInt8] = []
        while true {
            guard let byte = currentByte else { throw error("unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: content, as: UTF8.self)
            case UInt8(ascii: "\\"):
                position += 1
                try parseEscape(into: &content)
            case 0..<0x20:
                throw error("unescaped control character 0x\(String(byte, radix: 16)) in a string")
            default:
                content.append(byte)
                position += 1
            }
        }
    }

    private mutating func parseEscape(into content: inout [UInt8]) throws(SafeTensorsError) {
        guard let byte = currentByte else { throw error("unterminated escape sequence") }
        position += 1
        switch byte {
        case UInt8(ascii: "\""): content.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): content.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): content.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): content.append(0x08)
        case UInt8(ascii: "f"): content.append(0x0C)
        case UInt8(ascii: "n"): content.append(0x0A)
        case UInt8(ascii: "r"): content.append(0x0D)
        case UInt8(ascii: "t"): content.append(0x09)
        case UInt8(ascii: "u"):
            UTF8.encode(try parseUnicodeEscape()) { content.append($0) }
        default:
            position -= 1
            throw error("invalid escape sequence: backslash followed by \(describeCurrentByte())")
        }
    }

    /// Parses the hex digits after `\u`, combining a UTF-16 surrogate pair into one scalar.
    private mutating func parseUnicodeEscape() throws(SafeTensorsError) -> Unicode.Scalar {
        let first = try parseHexQuad()
        switch first {
        case 0xD800...0xDBFF:
            guard currentByte == UInt8(ascii: "\\"),
                  position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
                throw error("high surrogate \\u\(String(first, radix: 16)) is not followed by a low surrogate")
            }
            position += 2
            let second = try parseHexQuad()
            guard (0xDC00...0xDFFF).contains(second) else {
                throw error("high surrogate \\u\(String(first, radix: 16)) is followed by \\u\(String(second, radix: 16)), not a low surrogate")
            }
            let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            // A surrogate pair always combines to a valid scalar in U+10000...U+10FFFF.
            return Unicode.Scalar(combined) ?? "\u{FFFD}"
        case 0xDC00...0xDFFF:
            throw error("lone low surrogate \\u\(String(first, radix: 16))")
        default:
            // Values outside the surrogate range are always valid scalars.
            return Unicode.Scalar(first) ?? "\u{FFFD}"
        }
    }

    private mutating func parseHexQuad() throws(SafeTensorsError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = currentByte else { throw error("unterminated \\u escape") }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("expected a hex digit in a \\u escape but found \(describeCurrentByte())")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }
}
