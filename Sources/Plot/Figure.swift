import FileSupport

/// A grid of charts in one SVG document, with an optional overall title: several panels side
/// by side, such as one per network depth.
///
/// ```swift
/// var figure = Figure(rows: 1, columns: 3, title: "Gradient vs input")
/// for (column, depth) in [2, 10, 50].enumerated() {
///     figure[0, column].title = "depth \(depth)"
///     figure[0, column].line(x: inputs, y: gradients[depth]!, name: "plain")
/// }
/// try figure.write(to: "shattered.svg")
/// ```
///
/// Each panel is a full ``Chart`` with its own axes and legend. Each column is as wide as its
/// widest chart and each row as tall as its tallest; a smaller chart sits in its cell's top-left.
public struct Figure: Sendable {
    /// The text above all panels. Empty for none.
    public var title: String
    /// The number of rows of panels.
    public let rows: Int
    /// The number of columns of panels.
    public let columns: Int
    /// The panels, row by row.
    private var charts: [Chart]

    /// A grid of `rows` × `columns` empty charts, each `panelWidth` × `panelHeight` pixels.
    /// `rows` and `columns` must be at least 1.
    public init(rows: Int, columns: Int, title: String = "", panelWidth: Double = 420, panelHeight: Double = 320) {
        precondition(rows >= 1 && columns >= 1, "a figure needs at least one row and one column, not \(rows) × \(columns)")
        self.rows = rows
        self.columns = columns
        self.title = title
        charts = Array(repeating: Chart(width: panelWidth, height: panelHeight), count: rows * columns)
    }

    /// The chart in row `row` and column `column`, both counted from 0 at the top left.
    public subscript(row: Int, column: Int) -> Chart {
        get { charts[index(row, column)] }
        set { charts[index(row, column)] = newValue }
    }

    private func index(_ row: Int, _ column: Int) -> Int {
        precondition((0..<rows).contains(row) && (0..<columns).contains(column),
                     "panel (\(row), \(column)) is outside a \(rows) × \(columns) figure")
        return row * columns + column
    }

    /// The figure as a standalone SVG 1.1 document.
    public func svg() -> String {
        let sizes = charts.map(\.canvasSize)
        let columnWidths = (0..<columns).map { column in (0..<rows).map { sizes[$0 * columns + column].width }.max() ?? 0 }
        let rowHeights = (0..<rows).map { row in (0..<columns).map { sizes[row * columns + $0].height }.max() ?? 0 }
        let width = columnWidths.reduce(0, +)
        let fittedTitle = FittedText(
            wrapping: title, size: Typography.figureTitle, minimumSize: 11, bold: true, width: width - 2 * Spacing.padding)
        let titleHeight = fittedTitle.lines.isEmpty ? 0 : Spacing.padding + fittedTitle.height
        let height = titleHeight + rowHeights.reduce(0, +)

        var writer = SVGWriter()
        writer.beginDocument(width: width, height: height, title: title)
        for (index, line) in fittedTitle.lines.enumerated() {
            let baseline = Spacing.padding + fittedTitle.fontSize * (0.9 + 1.2 * Double(index))
            writer.text(line, at: Point(x: width / 2, y: baseline), fontSize: fittedTitle.fontSize, anchor: .middle, bold: true)
        }
        var top = titleHeight
        for row in 0..<rows {
            var left = 0.0
            for column in 0..<columns {
                writer.open("g", [("transform", "translate(\(svgNumber(left)) \(svgNumber(top)))")])
                self[row, column].render(into: &writer)
                writer.close("g")
                left += columnWidths[column]
            }
            top += rowHeights[row]
        }
        writer.endDocument()
        return writer.markup
    }

    /// Writes ``svg()`` to `path` atomically: a reader sees the old file or the complete new one.
    public func write(to path: String) throws(PlotError) {
        do { try AtomicFile.write(svg(), to: path) } catch { throw PlotError(error) }
    }
}
