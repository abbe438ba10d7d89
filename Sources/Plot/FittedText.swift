/// Text set to fit a width: the lines to draw and their font size.
struct FittedText {
    let lines: [String]
    let fontSize: Double

    /// The height the lines take, at 1.2 times the font size per line; 0 when there is no text.
    var height: Double {
        Double(lines.count) * fontSize * 1.2
    }

    /// One line: `text` at `size` if it fits in `width`; otherwise smaller, down to
    /// `minimumSize`; otherwise at `minimumSize`, cut short with an ellipsis.
    init(_ text: String, size: Double, minimumSize: Double, bold: Bool = false, width: Double) {
        guard !text.isEmpty else {
            self.init(lines: [], fontSize: size)
            return
        }
        let natural = estimatedTextWidth(text, fontSize: size, bold: bold)
        let fontSize = natural <= width ? size : max(minimumSize, size * width / natural)
        self.init(lines: [Self.truncated(text, fontSize: fontSize, bold: bold, width: width)], fontSize: fontSize)
    }

    /// Up to two lines: `text` on one line at `size` if it fits, else broken at the space that
    /// best balances the two lines, shrunk and cut short as in the one-line initializer.
    init(wrapping text: String, size: Double, minimumSize: Double, bold: Bool = false, width: Double) {
        let measure = { (line: String) in estimatedTextWidth(line, fontSize: size, bold: bold) }
        let spaces = text.indices.filter { text[$0] == " " }
        guard measure(text) > width, !spaces.isEmpty else {
            self.init(text, size: size, minimumSize: minimumSize, bold: bold, width: width)
            return
        }
        let halves = spaces.map { space in
            (String(text[..<space]), String(text[text.index(after: space)...]))
        }
        let (first, second) = halves.min { max(measure($0.0), measure($0.1)) < max(measure($1.0), measure($1.1)) }!
        let widest = max(measure(first), measure(second))
        let fontSize = widest <= width ? size : max(minimumSize, size * width / widest)
        let lines = [first, second].map { Self.truncated($0, fontSize: fontSize, bold: bold, width: width) }
        self.init(lines: lines, fontSize: fontSize)
    }

    private init(lines: [String], fontSize: Double) {
        self.lines = lines
        self.fontSize = fontSize
    }

    /// `text`, or as much of it as fits in `width` followed by an ellipsis.
    private static func truncated(_ text: String, fontSize: Double, bold: Bool, width: Double) -> String {
        guard estimatedTextWidth(text, fontSize: fontSize, bold: bold) > width else { return text }
        var kept = Substring(text)
        while !kept.isEmpty && estimatedTextWidth(String(kept) + "…", fontSize: fontSize, bold: bold) > width {
            kept = kept.dropLast()
        }
        return kept.trimmingSuffixSpaces() + "…"
    }
}

private extension Substring {
    func trimmingSuffixSpaces() -> String {
        var trimmed = self
        while trimmed.last == " " { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }
}
