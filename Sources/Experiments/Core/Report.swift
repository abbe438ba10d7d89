import Plot

/// An experiment's report as it is built: markdown lines, CSV rows and figures, kept in memory
/// until the runner writes them (`NAME.md`, `NAME.csv`, `NAME-SUFFIX.svg`).
public struct Report: Sendable {
    /// The experiment's name: the files' prefix.
    public let name: String
    /// The CSV's header and rows, comma-separated.
    public private(set) var csvRows: [String] = []
    /// The markdown body (between the setup and the verdict sections).
    public private(set) var markdown: [String] = []
    /// The figures by file suffix, in the order added.
    public private(set) var figures: [(suffix: String, figure: Figure)] = []

    /// An empty report.
    public init(name: String) {
        self.name = name
    }

    /// Starts the CSV with a header of `names`.
    public mutating func columns(_ names: [String]) {
        precondition(csvRows.isEmpty, "\(name): the CSV columns are set once, before the rows")
        csvRows = [names.joined(separator: ",")]
    }

    /// Appends a CSV row (fields written with `description`).
    public mutating func row(_ fields: [any CustomStringConvertible]) {
        csvRows.append(fields.map(\.description).joined(separator: ","))
    }

    /// Appends a markdown line (an empty line by default).
    public mutating func text(_ line: String = "") {
        markdown.append(line)
    }

    /// Appends a markdown table.
    public mutating func table(header: [String], rows: [[String]]) {
        text("| " + header.joined(separator: " | ") + " |")
        text("|" + header.map { _ in "---" }.joined(separator: "|") + "|")
        for row in rows { text("| " + row.joined(separator: " | ") + " |") }
        text()
    }

    /// Adds `figure` as `NAME-suffix.svg` and shows it in the markdown.
    public mutating func figure(_ figure: Figure, suffix: String, caption: String) {
        figures.append((suffix, figure))
        text("![\(caption)](\(fileName(suffix)))")
        text()
    }

    /// The file name of the figure with `suffix`.
    public func fileName(_ suffix: String) -> String { "\(name)-\(suffix).svg" }
}

extension Figure {
    /// A figure with one chart.
    public init(single chart: Chart) {
        self.init(rows: 1, columns: 1, title: "", panelWidth: chart.width, panelHeight: chart.height)
        self[0, 0] = chart
    }
}
