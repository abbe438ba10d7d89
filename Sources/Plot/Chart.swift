import FileSupport

/// One plot: a title, two axes and layers of data (lines, scatter markers, shaded bands,
/// error bars) with a legend, rendered as a standalone SVG 1.1 document.
///
/// ```swift
/// var chart = Chart(title: "Training loss", xLabel: "step", yLabel: "loss", yScale: .log10)
/// chart.line(x: steps, y: meanLoss, spread: seedStd, name: "ResNet-20")
/// chart.line(x: steps, y: plainLoss, name: "plain-20", style: .dashed)
/// try chart.write(to: "loss.svg")
/// ```
///
/// Values that cannot be drawn (NaN, ±infinity, and zero or negative values on a log axis) are
/// skipped: a line breaks into separate pieces around them. When the arrays of one call differ
/// in length, the values beyond the shortest are ignored. Data is `Double`; convert `Float`
/// arrays (tensor scalars) with `.map(Double.init)`.
///
/// Series without an explicit colour take the next colour of ``Color/palette``, except that
/// series sharing a name share a colour and a single legend entry: give a band and its line the
/// same name and they match.
public struct Chart: Sendable {
    /// The text above the plot. Empty for none.
    public var title: String
    /// The horizontal axis.
    public var xAxis: Axis
    /// The vertical axis.
    public var yAxis: Axis
    /// Where the legend goes.
    public var legend: LegendPlacement
    /// The width of the whole chart in SVG pixels, margins and legend included (kept
    /// between 120 and 20 000).
    public var width: Double
    /// The height of the whole chart in SVG pixels, margins and title included (kept
    /// between 120 and 20 000).
    public var height: Double

    /// The layers in the order they were added (areas are still drawn beneath everything else).
    private(set) var marks: [Mark] = []
    private var colorsByName: [String: Color] = [:]
    private var nextPaletteIndex = 0

    /// An empty chart. Set axis ranges here or later through ``xAxis`` and ``yAxis``; a nil
    /// range fits the data.
    public init(
        title: String = "", xLabel: String = "", yLabel: String = "",
        xScale: AxisScale = .linear, yScale: AxisScale = .linear,
        xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil,
        width: Double = 640, height: Double = 400
    ) {
        self.title = title
        self.xAxis = Axis(label: xLabel, scale: xScale, range: xRange)
        self.yAxis = Axis(label: yLabel, scale: yScale, range: yRange)
        self.legend = .automatic
        self.width = width
        self.height = height
    }

    /// Adds a line through the points `(x[i], y[i])` in order, optionally with a marker at each.
    public mutating func line(
        x: [Double], y: [Double], name: String? = nil, color: Color? = nil,
        style: LineStyle = .solid, width: Double = 1.75, marker: Marker? = nil
    ) {
        add(.line(style: style, width: width, marker: marker), name: name, color: color, x: x, y: y, upper: [])
    }

    /// Adds a line through `(x[i], y[i])` over a shaded band from `y[i] - spread[i]` to
    /// `y[i] + spread[i]`, both in one colour under one legend entry: the usual picture of a
    /// mean over seeds with its standard deviation (or standard error, or any half-width).
    public mutating func line(
        x: [Double], y: [Double], spread: [Double], name: String? = nil, color: Color? = nil,
        style: LineStyle = .solid, width: Double = 1.75, bandOpacity: Double = 0.2
    ) {
        let count = min(y.count, spread.count)
        let lower = (0..<count).map { y[$0] - spread[$0] }
        let upper = (0..<count).map { y[$0] + spread[$0] }
        let color = resolvedColor(color, name: normalized(name))
        area(x: x, lower: lower, upper: upper, name: name, color: color, opacity: bandOpacity)
        line(x: x, y: y, name: name, color: color, style: style, width: width)
    }

    /// Adds a marker at each point `(x[i], y[i])`, unconnected.
    public mutating func scatter(
        x: [Double], y: [Double], name: String? = nil, color: Color? = nil,
        marker: Marker = .circle, size: Double = 6
    ) {
        add(.scatter(marker: marker, size: size), name: name, color: color, x: x, y: y, upper: [])
    }

    /// Adds a translucent band between `lower[i]` and `upper[i]` over `x[i]`, such as the spread
    /// of a quantity over seeds. Bands are drawn beneath lines, markers and error bars. On a log
    /// y axis a lower end of zero or less runs the band to the bottom of the plot.
    public mutating func area(
        x: [Double], lower: [Double], upper: [Double], name: String? = nil, color: Color? = nil, opacity: Double = 0.2
    ) {
        add(.area(opacity: opacity), name: name, color: color, x: x, y: lower, upper: upper)
    }

    /// Adds a vertical error bar from `lower[i]` to `upper[i]` at each `x[i]`, with caps. On a
    /// log y axis a lower end of zero or less runs the bar to the bottom of the plot (no cap).
    public mutating func errorBars(
        x: [Double], lower: [Double], upper: [Double], name: String? = nil, color: Color? = nil, width: Double = 1.25
    ) {
        add(.errorBars(width: width), name: name, color: color, x: x, y: lower, upper: upper)
    }

    private mutating func add(
        _ kind: Mark.Kind, name: String?, color: Color?, x: [Double], y: [Double], upper: [Double]
    ) {
        let name = normalized(name)
        marks.append(Mark(kind: kind, name: name, color: resolvedColor(color, name: name), x: x, y: y, upper: upper))
    }

    /// The colour for a new series: the one asked for, else the one its name already has, else
    /// the next palette colour. The first colour a name gets stays its colour.
    private mutating func resolvedColor(_ requested: Color?, name: String?) -> Color {
        if requested == nil, let name, let known = colorsByName[name] { return known }
        let color = requested ?? nextPaletteColor()
        if let name, colorsByName[name] == nil { colorsByName[name] = color }
        return color
    }

    private mutating func nextPaletteColor() -> Color {
        defer { nextPaletteIndex += 1 }
        return Color.palette[nextPaletteIndex % Color.palette.count]
    }

    private func normalized(_ name: String?) -> String? {
        name?.isEmpty == false ? name : nil
    }

    /// The chart as a standalone SVG 1.1 document.
    public func svg() -> String {
        var writer = SVGWriter()
        writer.beginDocument(width: canvasSize.width, height: canvasSize.height, title: title)
        render(into: &writer)
        writer.endDocument()
        return writer.markup
    }

    /// Writes ``svg()`` to `path` atomically: a reader sees the old file or the complete new one.
    public func write(to path: String) throws(PlotError) {
        do { try AtomicFile.write(svg(), to: path) } catch { throw PlotError(error) }
    }
}

/// One layer of data on a chart.
struct Mark: Sendable {
    enum Kind: Sendable {
        case line(style: LineStyle, width: Double, marker: Marker?)
        case scatter(marker: Marker, size: Double)
        case area(opacity: Double)
        case errorBars(width: Double)
    }

    let kind: Kind
    /// The legend entry this layer belongs to; nil for none.
    let name: String?
    let color: Color
    let x: [Double]
    /// The y values of lines and scatters; the lower ends of areas and error bars.
    let y: [Double]
    /// The upper ends of areas and error bars; empty for lines and scatters.
    let upper: [Double]

    /// Whether the layer has lower and upper ends rather than single y values.
    var isRange: Bool {
        switch kind {
        case .area, .errorBars: true
        case .line, .scatter: false
        }
    }

    /// The marker size of a line with markers, in proportion to the line's width.
    static func lineMarkerSize(width: Double) -> Double {
        2.5 * width + 2
    }

    /// The number of points: the length of the shortest array.
    var count: Int {
        isRange ? min(x.count, y.count, upper.count) : min(x.count, y.count)
    }
}
