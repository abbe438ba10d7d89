#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tick mark on a resolved axis.
struct Tick: Equatable, Sendable {
    /// The position in the axis's coordinate space: the value on a linear axis, its log10 on a
    /// log axis.
    var coordinate: Double
    /// The text under (or beside) the tick; nil for an unlabelled minor tick.
    var label: String?
    /// Major ticks get a full gridline; minor ticks (between decades of a log axis) a faint one.
    var isMajor: Bool
}

/// An axis whose range and ticks are settled: everything needed to map values to positions.
struct ResolvedAxis: Sendable {
    let scale: AxisScale
    /// The ends of the axis in its coordinate space (log10 of the values on a log axis).
    let lower: Double
    let upper: Double
    let ticks: [Tick]

    /// The coordinate of `value`, or nil when the axis cannot show it (non-finite, or not
    /// positive on a log axis). Values outside the range map outside `lower...upper`.
    func coordinate(of value: Double) -> Double? {
        guard value.isFinite else { return nil }
        switch scale {
        case .linear: return value
        case .log10: return value > 0 ? log10(value) : nil
        }
    }

    /// Where `value` falls between the ends of the axis: 0 at `lower`, 1 at `upper`.
    func fraction(of value: Double) -> Double? {
        coordinate(of: value).map(fraction(ofCoordinate:))
    }

    func fraction(ofCoordinate coordinate: Double) -> Double {
        (coordinate - lower) / (upper - lower)
    }

    /// Settles an axis: its fixed range if it has a usable one, otherwise `dataExtent` (the
    /// smallest and largest values the axis can show) rounded out to ticks. At most
    /// `maxIntervals` intervals between major ticks (at least 1).
    static func resolve(_ axis: Axis, dataExtent: ClosedRange<Double>?, maxIntervals: Int) -> ResolvedAxis {
        let maxIntervals = max(1, maxIntervals)
        switch axis.scale {
        case .linear:
            return resolveLinear(fixed: axis.range, dataExtent: dataExtent, maxIntervals: maxIntervals, integerTicks: axis.integerTicks)
        case .log10: return resolveLog(fixed: axis.range, dataExtent: dataExtent, maxIntervals: maxIntervals)
        }
    }

    // MARK: Linear

    /// A tick spacing of 1, 2 or 5 times a power of ten.
    struct LinearStep: Equatable {
        let multiplier: Int
        let exponent: Int
        var value: Double { DecimalNumber(significand: multiplier, exponent: exponent).value }

        /// The tick at `index` steps from zero, exactly.
        func tick(_ index: Int) -> DecimalNumber {
            DecimalNumber(significand: index * multiplier, exponent: exponent)
        }
    }

    /// The smallest 1-2-5 step that splits `span` (positive, finite) into at most `maxIntervals`.
    static func niceStep(span: Double, maxIntervals: Int) -> LinearStep {
        let raw = span / Double(maxIntervals)
        var exponent = Int(floor(log10(raw)))
        let residual = raw / DecimalNumber(significand: 1, exponent: exponent).value
        let tolerance = 1e-9
        for multiplier in [1, 2, 5] where Double(multiplier) >= residual * (1 - tolerance) {
            return LinearStep(multiplier: multiplier, exponent: exponent)
        }
        exponent += 1
        return LinearStep(multiplier: 1, exponent: exponent)
    }

    /// The lower and upper ends, kept within ±10^300 (so spans stay finite) and widened when
    /// they (nearly) coincide so ticks have room. Magnitudes below 10^-250 count as zero, whose
    /// axis runs from -1 to 1: steps that small would underflow.
    private static func widened(_ lower: Double, _ upper: Double) -> (Double, Double) {
        let lower = max(lower, -1e300), upper = min(upper, 1e300)
        let scale = max(lower.magnitude, upper.magnitude)
        if scale < 1e-250 { return (-1, 1) }
        guard upper - lower <= 1e-9 * scale else { return (lower, upper) }
        let center = lower / 2 + upper / 2
        return (center - 0.1 * center.magnitude, center + 0.1 * center.magnitude)
    }

    static func resolveLinear(fixed: ClosedRange<Double>?, dataExtent: ClosedRange<Double>?, maxIntervals: Int,
                              integerTicks: Bool = false) -> ResolvedAxis {
        var lower: Double, upper: Double
        let fitsData: Bool
        if let fixed, fixed.lowerBound.isFinite, fixed.upperBound.isFinite, fixed.lowerBound < fixed.upperBound {
            (lower, upper) = widened(fixed.lowerBound, fixed.upperBound)
            fitsData = false
        } else {
            (lower, upper) = widened(dataExtent?.lowerBound ?? 0, dataExtent?.upperBound ?? 1)
            fitsData = true
        }
        var step = niceStep(span: upper - lower, maxIntervals: maxIntervals)
        if integerTicks && step.exponent < 0 { step = LinearStep(multiplier: 1, exponent: 0) }
        let tolerance = 1e-9
        if fitsData {
            lower = step.tick(Int(floor(lower / step.value + tolerance))).value
            upper = step.tick(Int(ceil(upper / step.value - tolerance))).value
        }
        let first = Int(ceil(lower / step.value - tolerance)), last = Int(floor(upper / step.value + tolerance))
        let numbers = first <= last ? (first...last).map(step.tick) : []
        let style = TickLabelStyle.linear(numbers)
        let ticks = numbers.map { Tick(coordinate: $0.value, label: style.label($0), isMajor: true) }
        return ResolvedAxis(scale: .linear, lower: lower, upper: upper, ticks: ticks)
    }

    // MARK: Logarithmic

    static func resolveLog(fixed: ClosedRange<Double>?, dataExtent: ClosedRange<Double>?, maxIntervals: Int) -> ResolvedAxis {
        let tolerance = 1e-9
        var lower: Double, upper: Double
        if let fixed, fixed.lowerBound > 0, fixed.upperBound.isFinite, fixed.lowerBound < fixed.upperBound,
            log10(fixed.upperBound) - log10(fixed.lowerBound) > tolerance
        {
            lower = log10(fixed.lowerBound)
            upper = log10(fixed.upperBound)
        } else {
            lower = floor(log10(dataExtent?.lowerBound ?? 1) + tolerance)
            upper = ceil(log10(dataExtent?.upperBound ?? 10) - tolerance)
            if lower == upper {
                lower -= 1
                upper += 1
            }
        }

        // Every `decadeStep`-th decade gets a major tick: 1, 2, 5, 10, 20, 50, ... decades.
        var decadeStep = 1
        for candidate in [1, 2, 5, 10, 20, 50, 100, 200, 500] {
            decadeStep = candidate
            if (upper - lower) / Double(candidate) <= Double(maxIntervals) + tolerance { break }
        }
        let firstDecade = Int(floor(lower)), lastDecade = Int(ceil(upper))
        let visible = (lower - tolerance)...(upper + tolerance)

        var majors: [DecimalNumber] = [], minors: [DecimalNumber] = []
        for decade in firstDecade...lastDecade where visible.contains(Double(decade)) {
            if decade.isMultiple(of: decadeStep) {
                majors.append(DecimalNumber(significand: 1, exponent: decade))
            } else if lastDecade - firstDecade <= 60 {
                minors.append(DecimalNumber(significand: 1, exponent: decade))
            }
        }
        if decadeStep == 1 {
            for decade in firstDecade...lastDecade {
                for multiplier in 2...9 where visible.contains(Double(decade) + log10(Double(multiplier))) {
                    minors.append(DecimalNumber(significand: multiplier, exponent: decade))
                }
            }
        }

        // Short ranges get labels between the decades too: 2 and 5, or every minor tick when
        // even that leaves fewer than two labels.
        var labelled = Set(majors)
        if majors.count < 3 {
            labelled.formUnion(minors.filter { $0.significand == 2 || $0.significand == 5 })
        }
        if labelled.count < 2 {
            labelled.formUnion(minors)
        }
        let coordinate = { (number: DecimalNumber) in Double(number.exponent) + log10(Double(number.significand)) }
        let ordered = (majors + minors).sorted { coordinate($0) < coordinate($1) }
        let labelledInOrder = ordered.filter(labelled.contains)
        let labels = Dictionary(uniqueKeysWithValues: zip(labelledInOrder, logTickLabels(labelledInOrder)))
        let ticks = ordered.map { number in
            Tick(coordinate: coordinate(number), label: labels[number], isMajor: majors.contains(number))
        }
        return ResolvedAxis(scale: .log10, lower: lower, upper: upper, ticks: ticks)
    }
}
