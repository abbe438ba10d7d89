import Foundation
import SeededRandom
import Testing
@testable import Plot

/// The plot frame and legend box of a rendered chart, read back from its SVG.
private struct Boxes {
    let frame: Rect
    let legend: Rect?

    init(_ parsed: ParsedSVG) {
        func rect(_ element: ParsedElement) -> Rect {
            let value = { (name: String) in Double(element.attributes[name] ?? "") ?? .nan }
            return Rect(minX: value("x"), minY: value("y"), width: value("width"), height: value("height"))
        }
        let rects = parsed.all("rect")
        frame = rect(rects.first { $0.attributes["stroke"] == Palette.frame }!)
        legend = rects.first { $0.attributes["stroke"] == Palette.legendBorder }.map(rect)
    }
}

@Suite struct RenderingTests {
    private let xs = (0..<100).map(Double.init)

    @Test func documentIsWellFormedSVG11() throws {
        var chart = Chart(title: "t", xLabel: "x", yLabel: "y")
        chart.line(x: xs, y: xs.map { $0 * $0 }, name: "square")
        chart.scatter(x: xs, y: xs, name: "identity", marker: .diamond)
        chart.area(x: xs, lower: xs.map { $0 - 5 }, upper: xs.map { $0 + 5 }, name: "band")
        chart.errorBars(x: [10, 20], lower: [0, 5], upper: [30, 40], name: "bars")
        let svg = chart.svg()
        #expect(svg.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\""))
        let root = try #require(try ParsedSVG(svg).elements.first)
        #expect(root.name == "svg")
        #expect(root.attributes["version"] == "1.1")
        #expect(root.attributes["xmlns"] == "http://www.w3.org/2000/svg")
        #expect(root.attributes["width"] == "640" && root.attributes["height"] == "400")
    }

    @Test func polylineHasOnePointPerDatum() throws {
        var chart = Chart()
        chart.line(x: xs, y: xs.map { sin($0 / 10) })
        let parsed = try ParsedSVG(chart.svg())
        let lines = parsed.polylines()
        #expect(lines.map(\.count) == [100])
        let frame = Boxes(parsed).frame.expanded(by: 0.01)
        #expect(lines[0].allSatisfy { frame.contains(Point(x: $0.0, y: $0.1)) })
        // x increases left to right; the largest y value is highest on the page.
        #expect(lines[0].map(\.0) == lines[0].map(\.0).sorted())
        #expect(lines[0].min { $0.1 < $1.1 }!.0 == lines[0][16].0)
    }

    @Test func nonFiniteValuesBreakTheLine() throws {
        var ys = xs.map { $0 / 10 }
        ys[40] = .nan
        ys[70] = .infinity
        var chart = Chart()
        chart.line(x: xs, y: ys)
        let svg = chart.svg()
        #expect(try ParsedSVG(svg).polylines().map(\.count) == [40, 29, 29])
        #expect(!svg.lowercased().contains("nan"))
        #expect(!svg.lowercased().contains("inf"))
    }

    @Test func nonFiniteXValuesAndNegativeInfinityAreSkippedToo() throws {
        var chart = Chart()
        chart.line(x: [0, .nan, 2, 3, -.infinity, 5, 6], y: [0, 1, 2, 3, 4, 5, -.infinity])
        #expect(try ParsedSVG(chart.svg()).polylines().map(\.count) == [2])
    }

    @Test func anIsolatedPointIsDrawnAsADot() throws {
        var chart = Chart()
        chart.line(x: [0, 1, 2, 3, 4], y: [0, .nan, 2, .nan, 4])
        let parsed = try ParsedSVG(chart.svg())
        #expect(parsed.polylines().isEmpty)
        #expect(parsed.all("circle").count == 3)
    }

    @Test func chartsWithoutDrawableDataStillRender() throws {
        var chart = Chart(title: "nothing to see", xScale: .log10, yScale: .log10)
        chart.line(x: [Double.nan, 1, -1], y: [1, 0, 5], name: "undrawable")
        chart.scatter(x: [Double](), y: [Double]())
        let parsed = try ParsedSVG(chart.svg())
        #expect(parsed.polylines().count == 1)  // the legend swatch only
        #expect(try ParsedSVG(Chart().svg()).texts.contains("1"))
    }

    @Test func logAxesSkipZeroAndNegativeValues() throws {
        var chart = Chart(xScale: .log10, yScale: .log10)
        chart.line(x: [1, 2, 3, 4, 5, 6, 0, 8, 9], y: [1, 0, 10, -1, 100, 1000, 5, 50, 500])
        let svg = chart.svg()
        let parsed = try ParsedSVG(svg)
        // Drawable runs: [1], [3], [5, 6], [8, 9].
        #expect(parsed.polylines().map(\.count) == [2, 2])
        #expect(parsed.all("circle").count == 2)
        #expect(!svg.lowercased().contains("nan"))
        #expect(!parsed.texts.contains("0"))
        #expect(parsed.texts.contains("1000"))
    }

    @Test func bandOnALogAxisRunsToTheBottomWhenItsLowerEndIsNotPositive() throws {
        var chart = Chart(yScale: .log10)
        chart.area(x: [0, 1, 2], lower: [0.5, -1, 0], upper: [2, 3, 4])
        let parsed = try ParsedSVG(chart.svg())
        let frame = Boxes(parsed).frame
        let polygon = try #require(parsed.all("polygon").first)
        let ys = (polygon.attributes["points"] ?? "").split(separator: " ").map { Double($0.split(separator: ",")[1])! }
        #expect(abs(ys.max()! - frame.maxY) < 0.02)
        #expect(parsed.texts.contains("0.1") && parsed.texts.contains("10"))
    }

    @Test func fixedRangesClipTheData() throws {
        var chart = Chart(xRange: 0...5, yRange: 0...5)
        chart.line(x: [0, 10], y: [0, 10])
        chart.scatter(x: [1, 7], y: [1, 7])
        chart.area(x: [0, 10], lower: [-5, -5], upper: [20, 20])
        let parsed = try ParsedSVG(chart.svg())
        let frame = Boxes(parsed).frame
        let line = try #require(parsed.polylines().first)
        #expect(line.count == 2)
        #expect(abs(line[1].0 - frame.maxX) < 0.02 && abs(line[1].1 - frame.minY) < 0.02)
        let polygonPoints = (parsed.all("polygon").first?.attributes["points"] ?? "").split(separator: " ")
        #expect(polygonPoints.count == 4)
        #expect(parsed.all("path").filter { $0.attributes["stroke"] == "#ffffff" }.count == 1)
        #expect(parsed.texts.contains("5") && !parsed.texts.contains("10"))
    }

    @Test func mismatchedLengthsUseTheShortestArray() throws {
        var chart = Chart()
        chart.line(x: xs, y: [1, 2, 3])
        #expect(try ParsedSVG(chart.svg()).polylines().map(\.count) == [3])
    }

    @Test func seriesSharingANameShareAColourAndALegendEntry() throws {
        var chart = Chart()
        chart.line(x: xs, y: xs, spread: xs.map { _ in 3 }, name: "ResNet-20")
        chart.line(x: xs, y: xs.map { $0 / 2 }, name: "plain-20", style: .dashed)
        chart.scatter(x: [50], y: [10], name: "ResNet-20")
        let parsed = try ParsedSVG(chart.svg())
        let band = try #require(parsed.all("polygon").first)
        let lines = parsed.all("polyline")
        #expect(band.attributes["fill"] == Color.palette[0].hex)
        #expect(lines[0].attributes["stroke"] == Color.palette[0].hex)
        #expect(lines[1].attributes["stroke"] == Color.palette[1].hex)
        #expect(lines[1].attributes["stroke-dasharray"] != nil)
        #expect(parsed.texts.filter { $0 == "ResNet-20" }.count == 1)
        #expect(parsed.texts.filter { $0 == "plain-20" }.count == 1)
    }

    @Test func unnamedSeriesTakeSuccessivePaletteColours() throws {
        var chart = Chart()
        for offset in 0..<3 { chart.line(x: xs, y: xs.map { $0 + Double(offset) }) }
        chart.line(x: xs, y: xs, color: .gray)
        let strokes = try ParsedSVG(chart.svg()).all("polyline").map { $0.attributes["stroke"] }
        #expect(strokes == Color.palette.prefix(3).map(\.hex) + [Color.gray.hex])
    }

    @Test func legendAvoidsTheData() throws {
        // A falling curve leaves the top right free; a rising one the top left.
        var falling = Chart()
        falling.line(x: xs, y: xs.map { 100 - $0 }, name: "loss")
        let fallingBoxes = Boxes(try ParsedSVG(falling.svg()))
        let fallingLegend = try #require(fallingBoxes.legend)
        #expect(fallingLegend.minX > fallingBoxes.frame.center.x && fallingLegend.maxY < fallingBoxes.frame.center.y)

        var rising = Chart()
        rising.line(x: xs, y: xs, name: "accuracy")
        let risingBoxes = Boxes(try ParsedSVG(rising.svg()))
        let risingLegend = try #require(risingBoxes.legend)
        #expect(risingLegend.maxX < risingBoxes.frame.center.x && risingLegend.maxY < risingBoxes.frame.center.y)
    }

    @Test func legendMovesOutsideWhenEveryCornerHasData() throws {
        var chart = Chart()
        chart.line(x: xs, y: xs.map { sin($0) }, name: "wiggle")
        let boxes = Boxes(try ParsedSVG(chart.svg()))
        let legend = try #require(boxes.legend)
        #expect(legend.minX > boxes.frame.maxX)
        #expect(legend.maxX <= 640)
    }

    @Test func legendPlacementCanBeChosenOrHidden() throws {
        var chart = Chart()
        chart.line(x: xs, y: xs, name: "accuracy")
        chart.legend = .bottomRight
        let boxes = Boxes(try ParsedSVG(chart.svg()))
        let legend = try #require(boxes.legend)
        #expect(legend.minX > boxes.frame.center.x && legend.minY > boxes.frame.center.y)
        chart.legend = .hidden
        let hidden = try ParsedSVG(chart.svg())
        #expect(Boxes(hidden).legend == nil)
        #expect(!hidden.texts.contains("accuracy"))
    }

    @Test func legendStaysInsideRatherThanSqueezingASmallPlot() throws {
        var chart = Chart(width: 260, height: 200)
        chart.line(x: xs, y: xs.map { sin($0) }, name: "a rather long series name")
        let boxes = Boxes(try ParsedSVG(chart.svg()))
        let legend = try #require(boxes.legend)
        #expect(legend.minX > boxes.frame.minX && legend.maxX < boxes.frame.maxX)
    }

    @Test func tallLegendsShrinkToFitTheChart() throws {
        var chart = Chart(width: 300, height: 200)
        for series in 0..<20 { chart.line(x: [0, 1], y: [0, Double(series)], name: "series \(series)") }
        let boxes = Boxes(try ParsedSVG(chart.svg()))
        let legend = try #require(boxes.legend)
        #expect(legend.maxY <= 200)
    }

    @Test func longTitlesWrapAndOverlongLabelsAreCut() throws {
        var chart = Chart(
            title: "gradient norm at the input against depth for plain and residual networks",
            xLabel: String(repeating: "very long label ", count: 20), width: 320, height: 240)
        chart.line(x: [0, 1], y: [0, 1])
        let parsed = try ParsedSVG(chart.svg())
        let titleLines = parsed.all("text").filter { $0.attributes["font-weight"] == "bold" }.map(\.text)
        #expect(titleLines.count == 2)
        #expect(titleLines.joined(separator: " ") == chart.title)
        let cut = try #require(parsed.texts.first { $0.hasPrefix("very long label") })
        #expect(cut.hasSuffix("…") && cut.count < 200)
    }

    @Test func errorBarsHaveCaps() throws {
        var chart = Chart()
        chart.errorBars(x: [1, 2], lower: [1, 2], upper: [3, 4])
        let bars = try ParsedSVG(chart.svg()).all("path").first { $0.attributes["stroke"] == Color.palette[0].hex }
        let path = try #require(bars?.attributes["d"])
        #expect(path.components(separatedBy: "M").count - 1 == 6)
    }

    @Test func tickLabelsDoNotOverlap() throws {
        for width in [160.0, 240, 400, 640, 1200] {
            var chart = Chart(width: width, height: 300)
            chart.line(x: [0.000_123, 0.000_987], y: [1_234_567, 9_876_543])
            let parsed = try ParsedSVG(chart.svg())
            let frame = Boxes(parsed).frame
            let xLabels = parsed.all("text").filter { Double($0.attributes["y"]!)! > frame.maxY && $0.attributes["text-anchor"] == "middle" }
            let spans = xLabels.map { label -> ClosedRange<Double> in
                let center = Double(label.attributes["x"]!)!, half = estimatedTextWidth(label.text, fontSize: Typography.tickLabel) / 2
                return (center - half)...(center + half)
            }
            #expect(spans.count >= 2, "width \(width)")
            for (left, right) in zip(spans, spans.dropFirst()) {
                #expect(left.upperBound < right.lowerBound, "width \(width)")
            }
        }
    }
}

@Suite struct HostileDataTests {
    /// Values that stress every path: special values, extremes, zeros and negatives.
    private static let awkward: [Double] = [
        .nan, .infinity, -.infinity, 0, -0.0, 1, -1, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
        .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e-12, 42, 1e6,
    ]

    @Test func randomChartsRenderAsCleanXML() throws {
        var random = SplitMix64(seed: 7)
        for _ in 0..<300 {
            func value() -> Double {
                Bool.random(using: &random) ? Self.awkward.randomElement(using: &random)! : Double.random(in: -1000...1000, using: &random)
            }
            func values() -> [Double] { (0..<Int.random(in: 0...12, using: &random)).map { _ in value() } }
            func range() -> ClosedRange<Double>? {
                guard Bool.random(using: &random) else { return nil }
                let a = value(), b = value()
                return a.isNaN || b.isNaN ? nil : min(a, b)...max(a, b)
            }
            let scales: [AxisScale] = [.linear, .log10]
            var chart = Chart(
                title: "t", xLabel: "x", yLabel: "y",
                xScale: scales.randomElement(using: &random)!, yScale: scales.randomElement(using: &random)!,
                xRange: range(), yRange: range(),
                width: [100, 300, 640].randomElement(using: &random)!, height: [100, 250, 400].randomElement(using: &random)!)
            chart.line(x: values(), y: values(), name: "line", marker: .circle)
            chart.scatter(x: values(), y: values(), name: "scatter", marker: .triangle)
            chart.area(x: values(), lower: values(), upper: values(), name: "area")
            chart.errorBars(x: values(), lower: values(), upper: values())
            let svg = chart.svg()
            #expect(!svg.lowercased().contains("nan") && !svg.lowercased().contains("inf"))
            _ = try ParsedSVG(svg)
        }
    }
}

@Suite struct FigureTests {
    @Test func panelsAreLaidOutInAGrid() throws {
        var figure = Figure(rows: 2, columns: 3, title: "depths", panelWidth: 300, panelHeight: 200)
        for row in 0..<2 {
            for column in 0..<3 {
                figure[row, column].title = "panel \(row) \(column)"
                figure[row, column].line(x: [0, 1, 2], y: [0, Double(row), Double(column)], name: "net")
            }
        }
        let parsed = try ParsedSVG(figure.svg())
        let root = try #require(parsed.elements.first)
        #expect(root.attributes["width"] == "900")
        #expect(Double(root.attributes["height"]!)! > 400)
        let groups = parsed.all("g").compactMap { $0.attributes["transform"] }
        #expect(groups.count == 6)
        #expect(groups[0].hasPrefix("translate(0 ") && groups[4].hasPrefix("translate(300 "))
        #expect(parsed.texts.contains("depths"))
        #expect(parsed.texts.contains("panel 1 2"))
        #expect(parsed.polylines().filter { $0.count == 3 }.count == 6)
    }

    @Test func panelsCanBeResized() throws {
        var figure = Figure(rows: 1, columns: 2)
        figure[0, 1].width = 500
        let root = try #require(try ParsedSVG(figure.svg()).elements.first)
        #expect(root.attributes["width"] == "920")
        #expect(root.attributes["height"] == "320")
    }
}

@Suite struct WriteTests {
    @Test func writesTheDocument() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("chart.svg")
        var chart = Chart(title: "written")
        chart.line(x: [0, 1], y: [1, 0])
        try chart.write(to: path)
        try chart.write(to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == chart.svg())
        #expect(try directory.contents() == ["chart.svg"])

        let figurePath = directory.file("figure.svg")
        try Figure(rows: 1, columns: 2).write(to: figurePath)
        #expect(try String(contentsOfFile: figurePath, encoding: .utf8) == Figure(rows: 1, columns: 2).svg())
    }

    @Test func missingDirectoryThrowsAnErrorNamingThePath() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("absent/chart.svg")
        let error = #expect(throws: PlotError.self) { try Chart().write(to: path) }
        #expect(error?.path == path)
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("No such file or directory") == true)
        #expect(try directory.contents() == [])
    }

    @Test func failedRenameLeavesNoTemporaryFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("chart.svg")
        try FileManager.default.createDirectory(atPath: path + "/occupied", withIntermediateDirectories: true)
        let error = #expect(throws: PlotError.self) { try Chart().write(to: path) }
        #expect(error?.reason.contains("cannot rename") == true)
        #expect(try directory.contents() == ["chart.svg"])
    }
}
