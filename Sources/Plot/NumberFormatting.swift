#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A number held exactly as `significand × 10^exponent`, so tick labels carry no binary
/// rounding noise (a tick at 3 × 0.1 reads "0.3", not "0.30000000000000004").
struct DecimalNumber: Hashable, Sendable {
    /// The digits, without trailing zeros (moved into `exponent`); zero is `0 × 10^0`.
    let significand: Int
    let exponent: Int

    init(significand: Int, exponent: Int) {
        var significand = significand, exponent = exponent
        if significand == 0 {
            exponent = 0
        } else {
            while significand % 10 == 0 {
                significand /= 10
                exponent += 1
            }
        }
        self.significand = significand
        self.exponent = exponent
    }

    /// The nearest `Double` (zero when the exponent is far below the smallest subnormal).
    var value: Double {
        let magnitude = Double(significand)
        if exponent >= 0 { return magnitude * pow(10, Double(exponent)) }
        if exponent >= -300 { return magnitude / pow(10, Double(-exponent)) }
        return magnitude * pow(10, Double(exponent))
    }

    /// The power of ten of the leading digit: 0 for 2.5, 4 for 12000, -3 for 0.001. Nil for zero.
    var leadingExponent: Int? {
        significand == 0 ? nil : exponent + Self.digits(of: significand).count - 1
    }

    /// The decimal digits of `|value|`.
    static func digits(of value: Int) -> String {
        String(value.magnitude)
    }
}

/// How the tick labels of one axis are written; one style per axis keeps labels consistent.
enum TickLabelStyle: Equatable {
    /// Positional decimal notation: 0.001, 2.5, 1000.
    case plain
    /// `mantissa e exponent`: 1e-5, 2.5e-7, 3e20.
    case scientific
    /// Thousands with a suffix: 10k, 2.5M, 1G, 3T. The associated value is the power of 1000.
    case thousands(Int)

    private static let suffixes = ["", "k", "M", "G", "T"]

    /// The label of `number` in this style.
    func label(_ number: DecimalNumber) -> String {
        guard number.significand != 0 else { return "0" }
        switch self {
        case .plain:
            return Self.positional(number)
        case .thousands(let power):
            let scaled = DecimalNumber(significand: number.significand, exponent: number.exponent - 3 * power)
            return Self.positional(scaled) + Self.suffixes[power]
        case .scientific:
            if number.significand == 1 && number.exponent == 0 { return "1" }
            let digits = DecimalNumber.digits(of: number.significand)
            let sign = number.significand < 0 ? "-" : ""
            let mantissa = digits.count == 1 ? digits : "\(digits.first!).\(digits.dropFirst())"
            return "\(sign)\(mantissa)e\(number.exponent + digits.count - 1)"
        }
    }

    private static func positional(_ number: DecimalNumber) -> String {
        let sign = number.significand < 0 ? "-" : ""
        let digits = DecimalNumber.digits(of: number.significand)
        if number.exponent >= 0 {
            return sign + digits + String(repeating: "0", count: number.exponent)
        }
        let fractionLength = -number.exponent
        if digits.count > fractionLength {
            let integerPart = digits.dropLast(fractionLength)
            return "\(sign)\(integerPart).\(digits.suffix(fractionLength))"
        }
        return sign + "0." + String(repeating: "0", count: fractionLength - digits.count) + digits
    }

    /// The style for the labels of a linear axis: plain for magnitudes from 0.001 to 9999,
    /// thousands suffixes up to the trillions, scientific beyond either end.
    static func linear(_ numbers: [DecimalNumber]) -> TickLabelStyle {
        let leading = numbers.compactMap(\.leadingExponent)
        guard let largest = leading.max() else { return .plain }
        if largest < -3 || largest >= 15 { return .scientific }
        if largest >= 4 { return .thousands(largest / 3) }
        return .plain
    }
}

/// The labels of a log axis's ticks: plain when every label lies between 0.001 and 9999;
/// plain below 1000 and with thousands suffixes above when every label is at least 1 (1, 100,
/// 10k, 1M); otherwise scientific throughout (1e-6, 1e-4, 0.01 would mix styles).
func logTickLabels(_ numbers: [DecimalNumber]) -> [String] {
    let leading = numbers.compactMap(\.leadingExponent)
    guard let smallest = leading.min(), let largest = leading.max() else {
        return numbers.map(TickLabelStyle.plain.label)
    }
    if smallest >= -3 && largest <= 3 {
        return numbers.map(TickLabelStyle.plain.label)
    }
    if smallest >= 0 && largest < 15 {
        return numbers.map { number in
            let power = (number.leadingExponent ?? 0) / 3
            return power == 0 ? TickLabelStyle.plain.label(number) : TickLabelStyle.thousands(power).label(number)
        }
    }
    return numbers.map(TickLabelStyle.scientific.label)
}

/// A coordinate or length for SVG attributes: rounded to hundredths of a pixel, without
/// trailing zeros (12, 12.5, -0.25). Never "nan" or "inf": non-finite input writes 0, and
/// magnitudes are capped at 10^9 (callers clip geometry long before that).
func svgNumber(_ value: Double) -> String {
    guard value.isFinite else { return "0" }
    let hundredths = Int((min(max(value, -1e9), 1e9) * 100).rounded())
    let sign = hundredths < 0 ? "-" : ""
    let magnitude = hundredths.magnitude
    let whole = magnitude / 100, fraction = magnitude % 100
    if fraction == 0 { return "\(sign)\(whole)" }
    if fraction % 10 == 0 { return "\(sign)\(whole).\(fraction / 10)" }
    return "\(sign)\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
}
