/// A piece of data already mapped to pixels and clipped to the plot area.
enum Shape {
    /// A filled polygon: one connected piece of an area.
    case band([Point], color: Color, opacity: Double)
    /// The vertical bars of one error-bar series.
    case errorBars([ErrorBar], color: Color, width: Double)
    /// One unbroken piece of a line.
    case polyline([Point], color: Color, width: Double, style: LineStyle)
    /// A line's point with no drawable neighbour, which would otherwise be invisible.
    case dot(Point, radius: Double, color: Color)
    /// The markers of a scatter series or of a line with markers.
    case markers([Point], marker: Marker, size: Double, color: Color)

    /// The drawing order: bands at the bottom, then error bars, lines, and markers on top.
    var layer: Int {
        switch self {
        case .band: 0
        case .errorBars: 1
        case .polyline, .dot: 2
        case .markers: 3
        }
    }

    /// How many pieces of the shape (segments, markers, bars, band edges) have ink inside
    /// `rect`, a band counting extra when it covers the rectangle's centre. Zero when the shape
    /// stays clear of `rect`; used to keep the legend off the data.
    func inkCount(in rect: Rect) -> Int {
        func segmentsCrossing(_ points: [Point], in rect: Rect) -> Int {
            zip(points, points.dropFirst()).count { clip(from: $0, to: $1, in: rect) != nil }
        }
        switch self {
        case .band(let vertices, _, _):
            guard let last = vertices.last else { return 0 }
            return segmentsCrossing([last] + vertices, in: rect) + (polygon(vertices, contains: rect.center) ? 10 : 0)
        case .errorBars(let bars, _, _):
            let grown = rect.expanded(by: ErrorBar.capHalfWidth)
            return bars.count { bar in
                clip(from: Point(x: bar.x, y: bar.top), to: Point(x: bar.x, y: bar.bottom), in: grown) != nil
            }
        case .polyline(let points, _, let width, _):
            return segmentsCrossing(points, in: rect.expanded(by: width / 2))
        case .dot(let center, let radius, _):
            return rect.intersectsDisc(center: center, radius: radius) ? 1 : 0
        case .markers(let centers, _, let size, _):
            return centers.count { rect.intersectsDisc(center: $0, radius: size / 2) }
        }
    }
}

/// One vertical error bar in pixels, already clipped; an end cut off by the plot edge has no cap.
struct ErrorBar {
    static let capHalfWidth = 3.5

    var x: Double
    var top: Double
    var bottom: Double
    var hasTopCap: Bool
    var hasBottomCap: Bool
}

/// Maps data values to pixels inside one plot area.
struct PixelMapping {
    let plot: Rect
    let x: ResolvedAxis
    let y: ResolvedAxis

    /// Lines and bands are clipped to the plot area grown by a hair, so that points exactly on
    /// the edge (an axis end fitted to the data) survive rounding unclipped.
    var clipRect: Rect { plot.expanded(by: 0.01) }

    func pixelX(_ value: Double) -> Double? {
        x.fraction(of: value).map { plot.minX + $0 * plot.width }.flatMap(finite)
    }

    func pixelY(_ value: Double) -> Double? {
        y.fraction(of: value).map { plot.maxY - $0 * plot.height }.flatMap(finite)
    }

    /// The pixel of the lower end of a band or error bar: on a log axis, an end at zero or
    /// below lies below the plot, whatever the range.
    func pixelYOfLowerEnd(_ value: Double) -> Double? {
        if y.scale == .log10 && value <= 0 { return plot.maxY + 1 }
        return pixelY(value)
    }

    func point(_ xValue: Double, _ yValue: Double) -> Point? {
        guard let px = pixelX(xValue), let py = pixelY(yValue) else { return nil }
        return Point(x: px, y: py)
    }

    private func finite(_ value: Double) -> Double? {
        value.isFinite ? value : nil
    }

    /// The shapes of `marks`, in drawing order.
    func shapes(for marks: [Mark]) -> [Shape] {
        var shapes: [Shape] = []
        for mark in marks {
            switch mark.kind {
            case .line(let style, let width, let marker):
                shapes += lineShapes(mark, style: style, width: width, hasMarkers: marker != nil)
                if let marker { shapes.append(markerShape(mark, marker: marker, size: Mark.lineMarkerSize(width: width))) }
            case .scatter(let marker, let size):
                shapes.append(markerShape(mark, marker: marker, size: size))
            case .area(let opacity):
                shapes += bandShapes(mark, opacity: opacity)
            case .errorBars(let width):
                shapes.append(errorBarShape(mark, width: width))
            }
        }
        return shapes.enumerated().sorted { ($0.element.layer, $0.offset) < ($1.element.layer, $1.offset) }.map(\.element)
    }

    /// The runs of consecutive drawable points, each clipped into visible pieces.
    private func lineShapes(_ mark: Mark, style: LineStyle, width: Double, hasMarkers: Bool) -> [Shape] {
        var runs: [[Point]] = [], run: [Point] = []
        for index in 0..<mark.count {
            if let point = point(mark.x[index], mark.y[index]) {
                run.append(point)
            } else if !run.isEmpty {
                runs.append(run)
                run = []
            }
        }
        if !run.isEmpty { runs.append(run) }
        return runs.flatMap { clip(polyline: $0, in: clipRect) }.compactMap { piece in
            if piece.count > 1 { return .polyline(piece, color: mark.color, width: width, style: style) }
            return hasMarkers ? nil : .dot(piece[0], radius: max(width, 1.5), color: mark.color)
        }
    }

    private func markerShape(_ mark: Mark, marker: Marker, size: Double) -> Shape {
        let centers = (0..<mark.count).compactMap { point(mark.x[$0], mark.y[$0]) }.filter(clipRect.contains)
        return .markers(centers, marker: marker, size: size, color: mark.color)
    }

    /// One polygon per run of drawable points (upper ends forwards, lower ends back), clipped.
    private func bandShapes(_ mark: Mark, opacity: Double) -> [Shape] {
        var runs: [(upper: [Point], lower: [Point])] = [], upper: [Point] = [], lower: [Point] = []
        func finishRun() {
            if upper.count > 1 { runs.append((upper, lower)) }
            upper = []
            lower = []
        }
        for index in 0..<mark.count {
            if let px = pixelX(mark.x[index]), let top = pixelY(mark.upper[index]), let bottom = pixelYOfLowerEnd(mark.y[index]) {
                upper.append(Point(x: px, y: top))
                lower.append(Point(x: px, y: bottom))
            } else {
                finishRun()
            }
        }
        finishRun()
        return runs.compactMap { run in
            let clipped = clip(polygon: run.upper + run.lower.reversed(), in: clipRect)
            return clipped.count > 2 ? .band(clipped, color: mark.color, opacity: opacity) : nil
        }
    }

    private func errorBarShape(_ mark: Mark, width: Double) -> Shape {
        let bars = (0..<mark.count).compactMap { index -> ErrorBar? in
            guard let px = pixelX(mark.x[index]), px >= clipRect.minX, px <= clipRect.maxX,
                let upper = pixelY(mark.upper[index]), let lower = pixelYOfLowerEnd(mark.y[index])
            else { return nil }
            let top = min(upper, lower), bottom = max(upper, lower)
            guard top <= clipRect.maxY, bottom >= clipRect.minY else { return nil }
            return ErrorBar(
                x: px, top: max(top, plot.minY), bottom: min(bottom, plot.maxY),
                hasTopCap: top >= clipRect.minY, hasBottomCap: bottom <= clipRect.maxY)
        }
        return .errorBars(bars, color: mark.color, width: width)
    }
}
