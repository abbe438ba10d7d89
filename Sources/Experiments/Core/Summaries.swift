import Instruments
import Training

/// Mean and sample standard deviation (divided by n − 1; 0 for one value, NaN for none): the
/// experiments' name for Instruments' `meanAndSampleStandardDeviation(_:)`.
public func meanAndSpread(_ values: [Double]) -> (mean: Double, spread: Double) {
    let summary = meanAndSampleStandardDeviation(values)
    return (summary.mean, summary.standardDeviation)
}

/// A fixed number of decimals ("nan", "inf" for non-finite values).
public func formatted(_ value: Double, _ decimals: Int = 3) -> String {
    value.isFinite ? format(Float(value), decimals) : "\(value)"
}

/// Scientific notation for wide-ranging values: "2.50e+4".
public func scientific(_ value: Double) -> String {
    guard value.isFinite, value > 0 else { return "\(value)" }
    var exponent = 0, mantissa = value
    while mantissa >= 10 { mantissa /= 10; exponent += 1 }
    while mantissa < 1 { mantissa *= 10; exponent -= 1 }
    // 9.996 would print as "10.00": carry into the exponent.
    if (mantissa * 100).rounded() >= 1000 { mantissa /= 10; exponent += 1 }
    return format(Float(mantissa), 2) + "e" + (exponent >= 0 ? "+" : "") + "\(exponent)"
}

/// "mean ± spread" with `decimals` decimals.
public func meanAndSpreadText(_ values: [Double], _ decimals: Int = 3) -> String {
    let summary = meanAndSpread(values)
    return "\(formatted(summary.mean, decimals)) ± \(formatted(summary.spread, decimals))"
}

/// A training loss that is NaN, infinite or above 100 nats (chance on 10 classes is ln 10 ≈ 2.3)
/// means the run diverged.
public func isDivergedLoss(_ loss: Double) -> Bool { !loss.isFinite || loss > 100 }

/// Final losses over seeds: mean and spread of the runs that did not diverge, and how many did.
public struct SeedLossSummary: Sendable, Equatable {
    /// Mean over the runs that did not diverge (NaN when all did).
    public var mean: Double
    /// Sample standard deviation over the same runs.
    public var spread: Double
    /// How many runs diverged.
    public var diverged: Int
    /// How many runs there were.
    public var count: Int

    /// The summary of `values`, one final loss per seed.
    public init(_ values: [Double]) {
        let finite = values.filter { !isDivergedLoss($0) }
        (mean, spread) = finite.isEmpty ? (.nan, .nan) : meanAndSpread(finite)
        (diverged, count) = (values.count - finite.count, values.count)
    }

    /// Fewer diverged runs first, then the lower mean: how a learning rate is picked.
    public func isBetter(than other: SeedLossSummary) -> Bool {
        diverged != other.diverged ? diverged < other.diverged : mean < other.mean
    }

    /// "0.1234 ± 0.0056", "…; 1/3 diverged" or "diverged (3/3)".
    public func text(_ decimals: Int = 4) -> String {
        if diverged == count { return "diverged (\(count)/\(count))" }
        return "\(formatted(mean, decimals)) ± \(formatted(spread, decimals))" + (diverged > 0 ? "; \(diverged)/\(count) diverged" : "")
    }
}
