import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Plot

/// One element of a parsed SVG document.
struct ParsedElement {
    let name: String
    let attributes: [String: String]
    var text = ""
}

/// A parsed SVG document: every element in document order, or the parser's error.
struct ParsedSVG {
    let elements: [ParsedElement]

    /// Parses `svg` with Foundation's XML parser; throws if it is not well-formed XML.
    init(_ svg: String) throws {
        let collector = ElementCollector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        guard parser.parse() else {
            throw ParseFailure(description: parser.parserError.map { "\($0)" } ?? "unknown XML error")
        }
        elements = collector.elements
    }

    func all(_ name: String) -> [ParsedElement] {
        elements.filter { $0.name == name }
    }

    /// The texts of all `<text>` elements.
    var texts: [String] {
        all("text").map(\.text)
    }

    /// The points of every `<polyline>` (legend swatches included), as (x, y) pairs.
    func polylines() -> [[(Double, Double)]] {
        all("polyline").map { element in
            (element.attributes["points"] ?? "").split(separator: " ").map { pair in
                let coordinates = pair.split(separator: ",").map { Double($0)! }
                return (coordinates[0], coordinates[1])
            }
        }
    }
}

struct ParseFailure: Error, CustomStringConvertible {
    let description: String
}

private final class ElementCollector: NSObject, XMLParserDelegate {
    var elements: [ParsedElement] = []
    private var open: [Int] = []

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName: String?, attributes: [String: String]
    ) {
        open.append(elements.count)
        elements.append(ParsedElement(name: elementName, attributes: attributes))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let index = open.last { elements[index].text += string }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
    }
}

/// A fresh empty directory, removed when the value is deinitialized.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "plot-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The names of the entries in the directory, sorted.
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    /// The path of `name` inside the directory.
    func file(_ name: String) -> String {
        path + "/" + name
    }
}

/// The labels of an axis's labelled ticks, in order.
func labels(_ axis: ResolvedAxis) -> [String] {
    axis.ticks.compactMap(\.label)
}
