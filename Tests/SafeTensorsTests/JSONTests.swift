import Testing
@testable import SafeTensors

@Suite struct JSONTests {
    private func parse(_ text: String) throws(SafeTensorsError) -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    private func parsedString(_ literal: String) throws -> String? {
        guard case .string(let text) = try parse(literal) else { return nil }
        return text
    }

    @Test func stringEscapes() throws {
        #expect(try parsedString(#""a\"b\\c\/d\b\f\n\r\t""#) == "a\"b\\c/d\u{8}\u{C}\n\r\t")
        #expect(try parsedString(#""\u00e9\u00E9\u0000""#) == "éé\u{0}")
        #expect(try parsedString(#""\ud83d\ude00 raw 😀 名前""#) == "😀 raw 😀 名前")
    }

    @Test func structureAndOrder() throws {
        guard case .object(let members) = try parse(#" { "b" : [ 1 , -0, 12345678901234567890 ] , "a" : { } } "#) else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["b", "a"])
        guard case .array(let elements) = members[0].value else {
            Issue.record("not an array")
            return
        }
        let literals = elements.compactMap { if case .integer(let literal) = $0 { literal } else { nil } }
        #expect(literals == ["1", "-0", "12345678901234567890"])
    }

    @Test(arguments: [
        "", "   ", "{", "{\"a\"}", "{\"a\":}", "{\"a\" 1}", "{\"a\":1,}", "[1,]", "[1 2]", "{} x", "{'a':1}",
        "1.5", "1e3", "01", "-", "-a", "true", "false", "null", "\"abc", "\"a\u{1}b\"", "\"\\x\"",
        "\"\\u12\"", "\"\\uZZZZ\"", "\"\\ud800\"", "\"\\ud800\\u0041\"", "\"\\udc00\"", "\"\\ud800x\"",
        "{\"a\":1,\"a\":2}", "{1:2}", "+1",
    ])
    func rejectsInvalidJSON(text: String) {
        let error = #expect(throws: SafeTensorsError.self) { try parse(text) }
        #expect(error?.kind == .invalidFormat)
        #expect(error?.description.contains("header JSON") == true)
    }

    @Test func duplicateKeyErrorNamesTheKey() {
        let error = #expect(throws: SafeTensorsError.self) { try parse(#"{"w":1,"w":2}"#) }
        #expect(error?.problem.contains("duplicate key 'w'") == true)
    }

    @Test func nestingIsBounded() {
        let limit = JSONParser.maximumDepth
        #expect(throws: Never.self) { try parse(String(repeating: "[", count: limit) + String(repeating: "]", count: limit)) }
        let tooDeep = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        let error = #expect(throws: SafeTensorsError.self) { try parse(tooDeep) }
        #expect(error?.problem.contains("nested deeper") == true)
        // Far deeper input must fail fast rather than overflow the stack.
        #expect(throws: SafeTensorsError.self) { try parse(String(repeating: "{\"a\":", count: 1_000_000)) }
    }

    @Test func writerEscapesLikeSerdeJSON() {
        var output: [UInt8] = []
        JSONValue.object([("k\"\\", .array([.string("\n\t\r\u{8}\u{C}\u{1}\u{1F}é😀/"), .integer("7")]))]).write(to: &output)
        #expect(String(decoding: output, as: UTF8.self) == #"{"k\"\\":["\n\t\r\b\f\u0001\u001fé😀/",7]}"#)
    }

    @Test func writerOutputParsesBack() throws {
        let original = "tab\t quote\" nul\u{0} del\u{7F} emoji😀"
        var output: [UInt8] = []
        JSONValue.string(original).write(to: &output)
        guard case .string(let parsed) = try JSONParser.parse(output) else {
            Issue.record("not a string")
            return
        }
        #expect(parsed == original)
    }
}
