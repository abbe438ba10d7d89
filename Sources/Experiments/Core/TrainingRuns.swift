import Training

/// Trains until `trainer` is finished, recording every step's loss. A divergence (NaN or infinite
/// loss) ends the run and is reported, not thrown; Ctrl-C (through `run`) stops it with
/// `ExperimentError.interrupted(experiment:)`.
func trainRecordingLosses(_ trainer: Trainer, experiment: String, run: ExperimentRun?) throws -> (losses: [Double], diverged: Bool) {
    var losses: [Double] = []
    do {
        while !trainer.isFinished {
            try trainer.trainEpoch { step in
                losses.append(Double(step.loss))
                if run?.isInterruptionRequested() == true { throw ExperimentError.interrupted(experiment: experiment) }
            }
        }
    } catch TrainingError.diverged {
        return (losses, true)
    }
    return (losses, false)
}

/// `values` averaged over consecutive groups of `binSize` (the last may be shorter): each group's
/// mean and the count of values up to its end.
func binnedMeans(_ values: [Double], binSize: Int) -> (means: [Double], ends: [Int]) {
    let size = Swift.max(1, binSize)
    var means: [Double] = [], ends: [Int] = []
    for start in stride(from: 0, to: values.count, by: size) {
        let bin = values[start..<Swift.min(start + size, values.count)]
        means.append(bin.reduce(0, +) / Double(bin.count))
        ends.append(start + bin.count)
    }
    return (means, ends)
}

/// The means of `values` over `bins` consecutive, nearly equal slices (fewer bins when there are
/// fewer values): a fixed number of curve points per epoch, whatever the epoch's length.
func binnedMeans(_ values: [Double], bins: Int) -> [Double] {
    let count = Swift.min(bins, values.count)
    guard count > 0 else { return [] }
    return (0..<count).map { bin in
        let slice = values[(bin * values.count / count)..<((bin + 1) * values.count / count)]
        return slice.reduce(0, +) / Double(slice.count)
    }
}
