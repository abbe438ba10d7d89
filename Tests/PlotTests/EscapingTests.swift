import Testing
@testable import Plot

@Suite struct EscapingTests {
    @Test func markupCharactersBecomeEntities() {
        #expect(escapeXML(#"a < b & c > "d" 'e'"#) == "a &lt; b &amp; c &gt; &quot;d&quot; &apos;e&apos;")
        #expect(escapeXML("∂L/∂x ± σ") == "∂L/∂x ± σ")
    }

    @Test func forbiddenCharactersBecomeSpaces() {
        #expect(escapeXML("a\u{0}b\u{1B}c\nd\te\u{FFFF}") == "a b c d e ")
    }

    @Test func textsWithMarkupSurviveAsText() throws {
        var chart = Chart(title: "loss <depth & width>", xLabel: "x < 1", yLabel: "\"y\" & 'z'")
        chart.line(x: [0, 1], y: [0, 1], name: "a&b <c>")
        let svg = chart.svg()
        #expect(!svg.contains("<depth"))
        let parsed = try ParsedSVG(svg)
        #expect(parsed.texts.contains("loss <depth & width>"))
        #expect(parsed.texts.contains("x < 1"))
        #expect(parsed.texts.contains("\"y\" & 'z'"))
        #expect(parsed.texts.contains("a&b <c>"))
        #expect(parsed.all("title").first?.text == "loss <depth & width>")
    }
}
