/// Spacing of the chart furniture, in pixels.
enum Spacing {
    /// Around the whole chart.
    static let padding = 10.0
    static let majorTick = 5.0
    static let minorTick = 3.0
    /// Between a tick mark and its label.
    static let tickLabelGap = 3.0
    /// Between the title and the plot, and between an axis label and the tick labels.
    static let labelGap = 8.0
    /// The smallest clear space between neighbouring tick labels.
    static let tickLabelSeparation = 10.0
    /// Pixels per tick interval at most: the densest ticks allowed.
    static let pixelsPerXInterval = 60.0
    static let pixelsPerYInterval = 42.0
    /// The smallest plot area side, however small the chart.
    static let minimumPlotSide = 30.0
    /// Between the plot frame and a legend inside it, or between the plot and a legend outside.
    static let legendOffset = 8.0
    static let legendOutsideOffset = 14.0
}

/// The data extents of a chart: for each axis, the smallest and largest values it can draw.
struct DataExtents {
    var x: ClosedRange<Double>?
    var y: ClosedRange<Double>?

    init(marks: [Mark], xScale: AxisScale, yScale: AxisScale) {
        func drawable(_ value: Double, _ scale: AxisScale) -> Bool {
            value.isFinite && (scale == .linear || value > 0)
        }
        var xs: [Double] = [], ys: [Double] = []
        for mark in marks {
            for index in 0..<mark.count where drawable(mark.x[index], xScale) {
                if mark.isRange {
                    let lower = mark.y[index], upper = mark.upper[index]
                    let lowerRunsOffScale = yScale == .log10 && lower <= 0
                    guard drawable(upper, yScale), drawable(lower, yScale) || lowerRunsOffScale else { continue }
                    xs.append(mark.x[index])
                    ys.append(upper)
                    if !lowerRunsOffScale { ys.append(lower) }
                } else if drawable(mark.y[index], yScale) {
                    xs.append(mark.x[index])
                    ys.append(mark.y[index])
                }
            }
        }
        x = Self.extent(xs)
        y = Self.extent(ys)
    }

    private static func extent(_ values: [Double]) -> ClosedRange<Double>? {
        guard let lower = values.min(), let upper = values.max() else { return nil }
        return lower...upper
    }
}

/// One legend line: a series name and the look of every layer bearing it.
struct LegendEntry {
    let name: String
    let kinds: [(kind: Mark.Kind, color: Color)]
}

/// The legend's entries and where its box goes.
struct LegendBox {
    static let swatchWidth = 26.0
    static let swatchGap = 6.0
    static let inset = 7.0
    static let columnGap = 12.0

    let entries: [LegendEntry]
    let fontSize: Double
    /// Entries fill a column top to bottom before starting the next one.
    let rowsPerColumn: Int
    /// The width of one column: swatch, gap and the longest name.
    let columnWidth: Double
    var frame: Rect

    var rowHeight: Double { fontSize * 1.55 }

    /// The entries of `marks`, one per distinct name in order of first appearance; nil if no
    /// mark has a name. Text is `fontSize` pixels, shrunk (down to ``Typography/smallest``) so
    /// the box fits `maximumHeight`; when even that is too tall, the entries wrap into columns.
    init?(marks: [Mark], fontSize: Double, maximumHeight: Double) {
        var names: [String] = [], kindsByName: [String: [(kind: Mark.Kind, color: Color)]] = [:]
        for mark in marks {
            guard let name = mark.name else { continue }
            if kindsByName[name] == nil { names.append(name) }
            kindsByName[name, default: []].append((mark.kind, mark.color))
        }
        guard !names.isEmpty else { return nil }
        entries = names.map { LegendEntry(name: $0, kinds: kindsByName[$0] ?? []) }
        // `rows` rows of text `size` high: a row pitch of 1.55 × size, the last row 1.2 × size.
        let height = { (rows: Int, size: Double) in 2 * Self.inset + Double(rows - 1) * size * 1.55 + size * 1.2 }
        let fittedSize = height(names.count, fontSize) <= maximumHeight
            ? fontSize
            : max(Typography.smallest, fontSize * (maximumHeight - 2 * Self.inset) / (height(names.count, fontSize) - 2 * Self.inset))
        var rows = names.count
        while rows > 1 && height(rows, fittedSize) > maximumHeight { rows -= 1 }
        let columns = (names.count + rows - 1) / rows
        let textWidth = names.map { estimatedTextWidth($0, fontSize: fittedSize) }.max() ?? 0
        self.fontSize = fittedSize
        rowsPerColumn = rows
        columnWidth = Self.swatchWidth + Self.swatchGap + textWidth
        frame = Rect(
            minX: 0, minY: 0,
            width: 2 * Self.inset + Double(columns) * columnWidth + Double(columns - 1) * Self.columnGap,
            height: height(rows, fittedSize))
    }

    /// The box placed in `corner` of `plot`, or nil if it does not fit there.
    func frame(in corner: LegendPlacement, of plot: Rect) -> Rect? {
        let offset = Spacing.legendOffset
        guard frame.width <= plot.width - 2 * offset, frame.height <= plot.height - 2 * offset else { return nil }
        let left = plot.minX + offset, right = plot.maxX - offset - frame.width
        let top = plot.minY + offset, bottom = plot.maxY - offset - frame.height
        let origin: (Double, Double)
        switch corner {
        case .topRight: origin = (right, top)
        case .topLeft: origin = (left, top)
        case .bottomLeft: origin = (left, bottom)
        case .bottomRight: origin = (right, bottom)
        case .automatic, .outsideRight, .hidden: return nil
        }
        return Rect(minX: origin.0, minY: origin.1, width: frame.width, height: frame.height)
    }

    /// The box to the right of `plot`, level with its top.
    func frame(rightOf plot: Rect) -> Rect {
        Rect(minX: plot.maxX + Spacing.legendOutsideOffset, minY: plot.minY, width: frame.width, height: frame.height)
    }
}

/// A chart laid out in pixels: the plot area, settled axes, the data as clipped shapes, and the
/// legend. Everything ``Chart/svg()`` draws, decided before drawing.
struct ChartScene {
    let canvas: Rect
    let title: FittedText
    let xLabel: FittedText
    let yLabel: FittedText
    let plot: Rect
    let x: ResolvedAxis
    let y: ResolvedAxis
    let shapes: [Shape]
    let legend: LegendBox?

    /// The plot area, axes and data shapes for one choice of right margin.
    private struct Arrangement {
        let plot: Rect
        let x: ResolvedAxis
        let y: ResolvedAxis
        let shapes: [Shape]
    }

    init(chart: Chart) {
        let padding = Spacing.padding
        let canvas = Rect(minX: 0, minY: 0, width: chart.canvasSize.width, height: chart.canvasSize.height)
        let title = FittedText(wrapping: chart.title, size: Typography.title, minimumSize: 11, bold: true, width: canvas.width - 2 * padding)
        let xLabel = FittedText(chart.xAxis.label, size: Typography.axisLabel, minimumSize: 9, width: canvas.width - 2 * padding)
        let yLabel = FittedText(chart.yAxis.label, size: Typography.axisLabel, minimumSize: 9, width: canvas.height - 2 * padding)
        let top = padding + (title.lines.isEmpty ? Typography.tickLabel * 0.6 : title.height + Spacing.labelGap)
        let extents = DataExtents(marks: chart.marks, xScale: chart.xAxis.scale, yScale: chart.yAxis.scale)
        func arrangement(legendReserve: Double) -> Arrangement {
            let (plot, x, y) = Self.frame(
                chart: chart, canvas: canvas, top: top, xLabel: xLabel, yLabel: yLabel, extents: extents, legendReserve: legendReserve)
            return Arrangement(plot: plot, x: x, y: y, shapes: PixelMapping(plot: plot, x: x, y: y).shapes(for: chart.marks))
        }

        var chosen: Arrangement
        var legend = chart.legend == .hidden
            ? nil : LegendBox(marks: chart.marks, fontSize: Typography.legend, maximumHeight: canvas.height - top - padding)
        if var box = legend {
            let outsideReserve = box.frame.width + Spacing.legendOutsideOffset
            let inside = arrangement(legendReserve: 0)
            let corners: [LegendPlacement] = switch chart.legend {
            case .automatic: [.topRight, .topLeft, .bottomLeft, .bottomRight]
            case .outsideRight, .hidden: []
            case let corner: [corner]
            }
            // Each corner where the box fits, with how much ink it would cover.
            let candidates = corners.compactMap { corner in
                box.frame(in: corner, of: inside.plot).map { frame in
                    (frame: frame, covered: inside.shapes.map { $0.inkCount(in: frame.expanded(by: 3)) }.reduce(0, +))
                }
            }
            if let placed = candidates.first(where: { $0.covered == 0 || chart.legend != .automatic }) {
                chosen = inside
                box.frame = placed.frame
            } else {
                // Outside, unless that squeezes the plot so much that covering some data is the
                // lesser evil.
                let outside = arrangement(legendReserve: outsideReserve)
                let leastCovered = candidates.min { $0.covered < $1.covered }
                if let leastCovered, outside.plot.width < 0.6 * inside.plot.width {
                    chosen = inside
                    box.frame = leastCovered.frame
                } else {
                    chosen = outside
                    box.frame = box.frame(rightOf: outside.plot)
                }
            }
            legend = box
        } else {
            chosen = arrangement(legendReserve: 0)
        }
        self.canvas = canvas
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        plot = chosen.plot
        x = chosen.x
        y = chosen.y
        shapes = chosen.shapes
        self.legend = legend
    }

    /// The plot area and axes below `top`, leaving `legendReserve` pixels on the right for a
    /// legend.
    private static func frame(
        chart: Chart, canvas: Rect, top: Double, xLabel: FittedText, yLabel: FittedText, extents: DataExtents,
        legendReserve: Double
    ) -> (plot: Rect, x: ResolvedAxis, y: ResolvedAxis) {
        let padding = Spacing.padding
        let bottom = Spacing.majorTick + Spacing.tickLabelGap + Typography.tickLabel * 1.05
            + (xLabel.lines.isEmpty ? 0 : Spacing.labelGap + xLabel.fontSize * 1.05) + padding
        let plotHeight = max(Spacing.minimumPlotSide, canvas.height - top - bottom)

        let y = thinned(ResolvedAxis.resolve(
            chart.yAxis, dataExtent: extents.y, maxIntervals: Int(plotHeight / Spacing.pixelsPerYInterval)),
            length: plotHeight, labelExtent: { _ in Typography.tickLabel * 1.1 })
        let yLabelsWidth = y.ticks.compactMap(\.label).map { estimatedTextWidth($0, fontSize: Typography.tickLabel) }.max() ?? 0
        var left = padding + yLabelsWidth + Spacing.tickLabelGap + Spacing.majorTick
        if !yLabel.lines.isEmpty { left += yLabel.fontSize * 1.05 + Spacing.labelGap }

        // The x ticks depend on the plot width, and the right margin on the last x label, which
        // hangs half its width past the plot: settle the margin, then fit the ticks again.
        var right = padding + legendReserve
        var x = fittedXAxis(chart.xAxis, extents: extents, length: max(Spacing.minimumPlotSide, canvas.width - left - right))
        for _ in 0..<2 {
            let overhang = x.ticks.last(where: { $0.label != nil && x.fraction(ofCoordinate: $0.coordinate) > 0.999 })
                .map { estimatedTextWidth($0.label ?? "", fontSize: Typography.tickLabel) / 2 + 2 } ?? 0
            let firstOverhang = x.ticks.first(where: { $0.label != nil && x.fraction(ofCoordinate: $0.coordinate) < 0.001 })
                .map { estimatedTextWidth($0.label ?? "", fontSize: Typography.tickLabel) / 2 + 2 } ?? 0
            let newLeft = max(left, padding + firstOverhang)
            let newRight = max(padding, overhang) + legendReserve
            if newLeft == left && newRight == right { break }
            left = newLeft
            right = newRight
            x = fittedXAxis(chart.xAxis, extents: extents, length: max(Spacing.minimumPlotSide, canvas.width - left - right))
        }
        let plot = Rect(minX: left, minY: top, width: max(Spacing.minimumPlotSide, canvas.width - left - right), height: plotHeight)
        return (plot, x, y)
    }

    /// The densest x ticks (at most one interval per ``Spacing/pixelsPerXInterval``) whose labels
    /// do not touch, then thinned in case minor labels on a log axis still do.
    private static func fittedXAxis(_ axis: Axis, extents: DataExtents, length: Double) -> ResolvedAxis {
        let labelWidth = { (label: String) in estimatedTextWidth(label, fontSize: Typography.tickLabel) }
        var maxIntervals = max(1, Int(length / Spacing.pixelsPerXInterval))
        while true {
            let resolved = ResolvedAxis.resolve(axis, dataExtent: extents.x, maxIntervals: maxIntervals)
            let thinnedAxis = thinned(resolved, length: length, labelExtent: labelWidth)
            let droppedMajorLabel = zip(resolved.ticks, thinnedAxis.ticks).contains { $0.isMajor && $0.label != $1.label }
            if !droppedMajorLabel || maxIntervals == 1 { return thinnedAxis }
            maxIntervals -= 1
        }
    }

    /// The axis with labels removed, first to last, wherever one would come within
    /// ``Spacing/tickLabelSeparation`` of the previous label kept. `labelExtent` is a label's
    /// size along the axis.
    static func thinned(_ axis: ResolvedAxis, length: Double, labelExtent: (String) -> Double) -> ResolvedAxis {
        var previousEnd = -Double.infinity
        let ticks = axis.ticks.map { tick -> Tick in
            guard let label = tick.label else { return tick }
            let center = axis.fraction(ofCoordinate: tick.coordinate) * length, half = labelExtent(label) / 2
            guard center - half >= previousEnd + Spacing.tickLabelSeparation else {
                return Tick(coordinate: tick.coordinate, label: nil, isMajor: tick.isMajor)
            }
            previousEnd = center + half
            return tick
        }
        return ResolvedAxis(scale: axis.scale, lower: axis.lower, upper: axis.upper, ticks: ticks)
    }
}
