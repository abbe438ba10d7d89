extension SVGWriter {
    /// The XML declaration, the root element sized `width` × `height`, an optional `<title>`
    /// and a white background.
    mutating func beginDocument(width: Double, height: Double, title: String) {
        raw("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n")
        open("svg", [
            ("xmlns", "http://www.w3.org/2000/svg"), ("version", "1.1"),
            ("width", svgNumber(width)), ("height", svgNumber(height)),
            ("viewBox", "0 0 \(svgNumber(width)) \(svgNumber(height))"),
            ("font-family", Typography.family),
        ])
        if !title.isEmpty { element("title", [], text: title) }
        element("rect", [("x", "0"), ("y", "0"), ("width", svgNumber(width)), ("height", svgNumber(height)), ("fill", "#ffffff")])
    }

    mutating func endDocument() {
        close("svg")
    }
}

extension Chart {
    /// The chart's elements (no document wrapper), with its top-left corner at the origin.
    func render(into writer: inout SVGWriter) {
        ChartScene(chart: self).draw(into: &writer)
    }

    /// The size the chart is drawn at: ``width`` and ``height``, made finite and kept between
    /// 120 and 20 000 pixels.
    var canvasSize: (width: Double, height: Double) {
        func drawable(_ length: Double, fallback: Double) -> Double {
            length.isFinite ? min(max(length, 120), 20_000) : fallback
        }
        return (drawable(width, fallback: 640), drawable(height, fallback: 400))
    }
}

extension ChartScene {
    func draw(into writer: inout SVGWriter) {
        drawGrid(into: &writer)
        for shape in shapes { draw(shape, into: &writer) }
        writer.element("rect", [
            ("x", svgNumber(plot.minX)), ("y", svgNumber(plot.minY)),
            ("width", svgNumber(plot.width)), ("height", svgNumber(plot.height)),
            ("fill", "none"), ("stroke", Palette.frame), ("stroke-width", "1"),
        ])
        drawTicks(into: &writer)
        drawLabels(into: &writer)
        if let legend { draw(legend, into: &writer) }
    }

    private func pixelX(ofCoordinate coordinate: Double) -> Double {
        plot.minX + x.fraction(ofCoordinate: coordinate) * plot.width
    }

    private func pixelY(ofCoordinate coordinate: Double) -> Double {
        plot.maxY - y.fraction(ofCoordinate: coordinate) * plot.height
    }

    /// Faint lines at minor ticks, then light ones at major ticks, across the whole plot.
    private func drawGrid(into writer: inout SVGWriter) {
        for isMajor in [false, true] {
            var path = ""
            for tick in x.ticks where tick.isMajor == isMajor {
                path += "M\(svgNumber(pixelX(ofCoordinate: tick.coordinate))) \(svgNumber(plot.minY))V\(svgNumber(plot.maxY))"
            }
            for tick in y.ticks where tick.isMajor == isMajor {
                path += "M\(svgNumber(plot.minX)) \(svgNumber(pixelY(ofCoordinate: tick.coordinate)))H\(svgNumber(plot.maxX))"
            }
            guard !path.isEmpty else { continue }
            writer.element("path", [
                ("d", path), ("fill", "none"), ("stroke", isMajor ? Palette.majorGrid : Palette.minorGrid),
                ("stroke-width", "0.8"), ("shape-rendering", "crispEdges"),
            ])
        }
    }

    /// Tick marks pointing out of the plot, below the x axis and left of the y axis.
    private func drawTicks(into writer: inout SVGWriter) {
        var path = ""
        for tick in x.ticks {
            let length = tick.isMajor ? Spacing.majorTick : Spacing.minorTick
            path += "M\(svgNumber(pixelX(ofCoordinate: tick.coordinate))) \(svgNumber(plot.maxY))v\(svgNumber(length))"
        }
        for tick in y.ticks {
            let length = tick.isMajor ? Spacing.majorTick : Spacing.minorTick
            path += "M\(svgNumber(plot.minX)) \(svgNumber(pixelY(ofCoordinate: tick.coordinate)))h\(svgNumber(-length))"
        }
        guard !path.isEmpty else { return }
        writer.element("path", [("d", path), ("fill", "none"), ("stroke", Palette.frame), ("stroke-width", "1")])
    }

    /// Tick labels, axis labels and the title.
    private func drawLabels(into writer: inout SVGWriter) {
        let size = Typography.tickLabel
        let xBaseline = plot.maxY + Spacing.majorTick + Spacing.tickLabelGap + size * 0.8
        for tick in x.ticks {
            guard let label = tick.label else { continue }
            writer.text(label, at: Point(x: pixelX(ofCoordinate: tick.coordinate), y: xBaseline), fontSize: size, anchor: .middle)
        }
        let yLabelsRight = plot.minX - Spacing.majorTick - Spacing.tickLabelGap
        for tick in y.ticks {
            guard let label = tick.label else { continue }
            writer.text(label, at: Point(x: yLabelsRight, y: pixelY(ofCoordinate: tick.coordinate) + size * 0.36), fontSize: size, anchor: .end)
        }

        let padding = Spacing.padding
        if let line = xLabel.lines.first {
            let center = centered(line, fontSize: xLabel.fontSize, around: plot.center.x, within: canvas.minX...canvas.maxX)
            writer.text(line, at: Point(x: center, y: canvas.maxY - padding - xLabel.fontSize * 0.22), fontSize: xLabel.fontSize, anchor: .middle)
        }
        if let line = yLabel.lines.first {
            let center = centered(line, fontSize: yLabel.fontSize, around: plot.center.y, within: canvas.minY...canvas.maxY)
            writer.text(line, at: Point(x: padding + yLabel.fontSize * 0.8, y: center), fontSize: yLabel.fontSize, anchor: .middle, rotation: -90)
        }
        for (index, line) in title.lines.enumerated() {
            let center = centered(line, fontSize: title.fontSize, bold: true, around: plot.center.x, within: canvas.minX...canvas.maxX)
            let baseline = padding + title.fontSize * (0.9 + 1.2 * Double(index))
            writer.text(line, at: Point(x: center, y: baseline), fontSize: title.fontSize, anchor: .middle, bold: true)
        }
    }

    /// Where to centre `text` so it sits as close to `preferred` as possible without leaving
    /// `span` (less the padding).
    private func centered(
        _ text: String, fontSize: Double, bold: Bool = false, around preferred: Double, within span: ClosedRange<Double>
    ) -> Double {
        let half = estimatedTextWidth(text, fontSize: fontSize, bold: bold) / 2
        let low = span.lowerBound + Spacing.padding + half, high = span.upperBound - Spacing.padding - half
        guard low <= high else { return (span.lowerBound + span.upperBound) / 2 }
        return min(max(preferred, low), high)
    }

    private func draw(_ shape: Shape, into writer: inout SVGWriter) {
        switch shape {
        case .band(let vertices, let color, let opacity):
            writer.element("polygon", [
                ("points", pointList(vertices)), ("fill", color.hex), ("fill-opacity", svgNumber(opacity)), ("stroke", "none"),
            ])
        case .errorBars(let bars, let color, let width):
            guard !bars.isEmpty else { return }
            writer.element("path", [("d", errorBarPath(bars)), ("fill", "none"), ("stroke", color.hex), ("stroke-width", svgNumber(width))])
        case .polyline(let points, let color, let width, let style):
            writer.element("polyline", [("points", pointList(points))] + strokeAttributes(color: color, width: width, style: style))
        case .dot(let center, let radius, let color):
            writer.element("circle", [("cx", svgNumber(center.x)), ("cy", svgNumber(center.y)), ("r", svgNumber(radius)), ("fill", color.hex)])
        case .markers(let centers, let marker, let size, let color):
            guard !centers.isEmpty else { return }
            let path = centers.map { markerPath(marker, at: $0, size: size) }.joined()
            writer.element("path", [("d", path), ("fill", color.hex), ("stroke", "#ffffff"), ("stroke-width", "0.6")])
        }
    }

    private func pointList(_ points: [Point]) -> String {
        points.map { "\(svgNumber($0.x)),\(svgNumber($0.y))" }.joined(separator: " ")
    }

    private func strokeAttributes(color: Color, width: Double, style: LineStyle) -> [SVGWriter.Attribute] {
        var attributes: [SVGWriter.Attribute] = [
            ("fill", "none"), ("stroke", color.hex), ("stroke-width", svgNumber(width)),
            ("stroke-linejoin", "round"), ("stroke-linecap", "round"),
        ]
        if let dashes = style.dashArray(width: width) {
            attributes.append(("stroke-dasharray", dashes.map(svgNumber).joined(separator: " ")))
        }
        return attributes
    }

    private func errorBarPath(_ bars: [ErrorBar]) -> String {
        let cap = svgNumber(2 * ErrorBar.capHalfWidth)
        return bars.map { bar in
            var path = "M\(svgNumber(bar.x)) \(svgNumber(bar.top))V\(svgNumber(bar.bottom))"
            let capStart = svgNumber(bar.x - ErrorBar.capHalfWidth)
            if bar.hasTopCap { path += "M\(capStart) \(svgNumber(bar.top))h\(cap)" }
            if bar.hasBottomCap { path += "M\(capStart) \(svgNumber(bar.bottom))h\(cap)" }
            return path
        }.joined()
    }

    /// A closed subpath of `marker` centred on `center`, all shapes of about equal visual weight.
    private func markerPath(_ marker: Marker, at center: Point, size: Double) -> String {
        let x = center.x, y = center.y
        switch marker {
        case .circle:
            let r = size / 2
            return "M\(svgNumber(x - r)) \(svgNumber(y))a\(svgNumber(r)) \(svgNumber(r)) 0 1 0 \(svgNumber(2 * r)) 0"
                + "a\(svgNumber(r)) \(svgNumber(r)) 0 1 0 \(svgNumber(-2 * r)) 0Z"
        case .square:
            let side = size * 0.88
            return "M\(svgNumber(x - side / 2)) \(svgNumber(y - side / 2))h\(svgNumber(side))v\(svgNumber(side))h\(svgNumber(-side))Z"
        case .triangle:
            let r = size * 0.72
            return "M\(svgNumber(x)) \(svgNumber(y - r))L\(svgNumber(x + r * 0.866)) \(svgNumber(y + r / 2))"
                + "L\(svgNumber(x - r * 0.866)) \(svgNumber(y + r / 2))Z"
        case .diamond:
            let r = size * 0.62
            return "M\(svgNumber(x)) \(svgNumber(y - r))L\(svgNumber(x + r)) \(svgNumber(y))"
                + "L\(svgNumber(x)) \(svgNumber(y + r))L\(svgNumber(x - r)) \(svgNumber(y))Z"
        }
    }

    /// The legend box: a swatch per entry showing each of its layers, then the name; entries run
    /// down each column in turn.
    private func draw(_ legend: LegendBox, into writer: inout SVGWriter) {
        let frame = legend.frame
        writer.element("rect", [
            ("x", svgNumber(frame.minX)), ("y", svgNumber(frame.minY)),
            ("width", svgNumber(frame.width)), ("height", svgNumber(frame.height)), ("rx", "3"),
            ("fill", "#ffffff"), ("fill-opacity", "0.92"), ("stroke", Palette.legendBorder), ("stroke-width", "0.8"),
        ])
        for (index, entry) in legend.entries.enumerated() {
            let row = index % legend.rowsPerColumn, column = index / legend.rowsPerColumn
            let centerY = frame.minY + LegendBox.inset + legend.fontSize * 0.6 + Double(row) * legend.rowHeight
            let swatchLeft = frame.minX + LegendBox.inset + Double(column) * (legend.columnWidth + LegendBox.columnGap)
            let swatchCenter = Point(x: swatchLeft + LegendBox.swatchWidth / 2, y: centerY)
            let ordered = entry.kinds.enumerated().sorted { (legendLayer($0.element.kind), $0.offset) < (legendLayer($1.element.kind), $1.offset) }
            for (kind, color) in ordered.map(\.element) {
                switch kind {
                case .area(let opacity):
                    writer.element("rect", [
                        ("x", svgNumber(swatchLeft)), ("y", svgNumber(centerY - 6)),
                        ("width", svgNumber(LegendBox.swatchWidth)), ("height", "12"),
                        ("fill", color.hex), ("fill-opacity", svgNumber(opacity)),
                    ])
                case .errorBars(let width):
                    let bar = ErrorBar(x: swatchCenter.x, top: centerY - 6, bottom: centerY + 6, hasTopCap: true, hasBottomCap: true)
                    writer.element("path", [("d", errorBarPath([bar])), ("fill", "none"), ("stroke", color.hex), ("stroke-width", svgNumber(width))])
                case .line(let style, let width, let marker):
                    let points = [Point(x: swatchLeft, y: centerY), Point(x: swatchLeft + LegendBox.swatchWidth, y: centerY)]
                    writer.element("polyline", [("points", pointList(points))] + strokeAttributes(color: color, width: width, style: style))
                    if let marker {
                        writer.element("path", [
                            ("d", markerPath(marker, at: swatchCenter, size: Mark.lineMarkerSize(width: width))), ("fill", color.hex),
                            ("stroke", "#ffffff"), ("stroke-width", "0.6"),
                        ])
                    }
                case .scatter(let marker, let size):
                    writer.element("path", [
                        ("d", markerPath(marker, at: swatchCenter, size: size)), ("fill", color.hex),
                        ("stroke", "#ffffff"), ("stroke-width", "0.6"),
                    ])
                }
            }
            writer.text(
                entry.name, at: Point(x: swatchLeft + LegendBox.swatchWidth + LegendBox.swatchGap, y: centerY + legend.fontSize * 0.36),
                fontSize: legend.fontSize, anchor: .start)
        }
    }

    /// Swatches stack like the plot: bands under bars under lines under markers.
    private func legendLayer(_ kind: Mark.Kind) -> Int {
        switch kind {
        case .area: 0
        case .errorBars: 1
        case .line: 2
        case .scatter: 3
        }
    }
}
