/// Accumulates SVG markup, one element per line. Attribute values and text are escaped here,
/// so callers pass plain strings.
struct SVGWriter {
    private(set) var markup = ""

    /// An attribute name and its unescaped value.
    typealias Attribute = (name: String, value: String)

    /// A self-closing element.
    mutating func element(_ name: String, _ attributes: [Attribute]) {
        markup += "<\(name)\(Self.attributeText(attributes))/>\n"
    }

    /// An element with text content.
    mutating func element(_ name: String, _ attributes: [Attribute], text: String) {
        markup += "<\(name)\(Self.attributeText(attributes))>\(escapeXML(text))</\(name)>\n"
    }

    /// Opens an element; children follow until ``close(_:)``.
    mutating func open(_ name: String, _ attributes: [Attribute] = []) {
        markup += "<\(name)\(Self.attributeText(attributes))>\n"
    }

    mutating func close(_ name: String) {
        markup += "</\(name)>\n"
    }

    /// Raw markup, already escaped (the XML declaration).
    mutating func raw(_ text: String) {
        markup += text
    }

    private static func attributeText(_ attributes: [Attribute]) -> String {
        attributes.map { " \($0.name)=\"\(escapeXML($0.value))\"" }.joined()
    }
}

/// How a text element lines up with its anchor point.
enum TextAnchor: String {
    case start, middle, end
}

extension SVGWriter {
    /// A single line of text whose baseline starts, centres or ends at `position`, optionally
    /// rotated about that point (degrees, clockwise positive as in SVG).
    mutating func text(
        _ content: String, at position: Point, fontSize: Double, anchor: TextAnchor,
        bold: Bool = false, rotation: Double = 0, color: String = Palette.text
    ) {
        var attributes: [Attribute] = [
            ("x", svgNumber(position.x)), ("y", svgNumber(position.y)),
            ("font-size", svgNumber(fontSize)), ("text-anchor", anchor.rawValue), ("fill", color),
        ]
        if bold { attributes.append(("font-weight", "bold")) }
        if rotation != 0 {
            attributes.append(("transform", "rotate(\(svgNumber(rotation)) \(svgNumber(position.x)) \(svgNumber(position.y)))"))
        }
        element("text", attributes, text: content)
    }
}

/// `text` made safe for XML character data and attribute values: the five markup characters
/// become entities, and the characters XML 1.0 forbids (C0 controls, U+FFFE, U+FFFF) become
/// spaces. Tabs and line breaks become spaces too, since every text element is one line.
func escapeXML(_ text: String) -> String {
    var escaped = ""
    escaped.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": escaped += "&amp;"
        case "<": escaped += "&lt;"
        case ">": escaped += "&gt;"
        case "\"": escaped += "&quot;"
        case "'": escaped += "&apos;"
        case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: escaped += " "
        default: escaped.unicodeScalars.append(scalar)
        }
    }
    return escaped
}

/// Neutral colours of the chart furniture (text, frame, gridlines), as SVG colour strings.
enum Palette {
    static let text = "#222222"
    static let frame = "#444444"
    static let majorGrid = "#dedede"
    static let minorGrid = "#f0f0f0"
    static let legendBorder = "#c8c8c8"
}

/// Font sizes in pixels and the font stack; DejaVu Sans first, since its metrics are the ones
/// ``estimatedTextWidth(_:fontSize:bold:)`` assumes (Helvetica and Arial are narrower).
enum Typography {
    static let family = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif"
    static let figureTitle = 17.0
    static let title = 15.0
    static let axisLabel = 13.0
    static let tickLabel = 11.0
    static let legend = 11.5
    static let smallest = 8.0
}

/// An estimate of the width of `text` in pixels, from DejaVu Sans advance widths (an
/// overestimate for narrower fonts, which is the safe side for layout).
func estimatedTextWidth(_ text: String, fontSize: Double, bold: Bool = false) -> Double {
    var ems = 0.0
    for scalar in text.unicodeScalars {
        ems += characterWidths[scalar] ?? (scalar.value < 0x80 ? 0.6 : 0.75)
    }
    return ems * fontSize * (bold ? 1.1 : 1)
}

/// DejaVu Sans advance widths in ems for the printable ASCII characters that appear most.
private let characterWidths: [Unicode.Scalar: Double] = {
    var widths: [Unicode.Scalar: Double] = [:]
    for digit in "0123456789".unicodeScalars { widths[digit] = 0.636 }
    let table: [(String, Double)] = [
        (" .,:;", 0.318), ("-", 0.361), ("()[]", 0.39), ("/", 0.337), ("+=<>", 0.838), ("%", 0.95),
        ("ilj", 0.278), ("ft", 0.37), ("r", 0.411), ("sz", 0.525), ("c", 0.55), ("kvxy", 0.59),
        ("aeo", 0.615), ("bdghnpqu", 0.635), ("w", 0.818), ("m", 0.974),
        ("IJ", 0.295), ("L", 0.557), ("F", 0.575), ("PTYZ", 0.61), ("ES", 0.635), ("K", 0.656),
        ("ABVX", 0.685), ("CR", 0.697), ("U", 0.732), ("HN", 0.75), ("DG", 0.772), ("OQ", 0.787),
        ("M", 0.863), ("W", 0.989),
    ]
    for (characters, width) in table {
        for scalar in characters.unicodeScalars { widths[scalar] = width }
    }
    return widths
}()
