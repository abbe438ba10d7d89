import Plot

/// Writes a run's loss and accuracy curves (train and test, per epoch) as one two-panel SVG.
public func writeCurves(_ metrics: MetricsLog, to path: String, title: String) throws {
    let epochs = metrics.column("epoch")
    var figure = Figure(rows: 1, columns: 2, title: title)
    figure[0, 0] = Chart(title: "loss", xLabel: "epoch", yLabel: "cross-entropy", yScale: .log10)
    figure[0, 0].xAxis.integerTicks = true
    figure[0, 0].line(x: epochs, y: metrics.column("train_loss"), name: "train", marker: .circle)
    figure[0, 0].line(x: epochs, y: metrics.column("test_loss"), name: "test", style: .dashed, marker: .square)
    figure[0, 1] = Chart(title: "accuracy", xLabel: "epoch", yLabel: "accuracy (%)")
    figure[0, 1].xAxis.integerTicks = true
    figure[0, 1].line(x: epochs, y: metrics.column("train_accuracy").map { $0 * 100 }, name: "train", marker: .circle)
    figure[0, 1].line(x: epochs, y: metrics.column("test_accuracy").map { $0 * 100 }, name: "test", style: .dashed, marker: .square)
    do { try figure.write(to: path) } catch { throw TrainingError("\(error)") }
}
