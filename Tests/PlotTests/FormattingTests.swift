import Testing
@testable import Plot

@Suite struct FormattingTests {
    private func number(_ significand: Int, _ exponent: Int) -> DecimalNumber {
        DecimalNumber(significand: significand, exponent: exponent)
    }

    @Test func plainLabels() {
        let style = TickLabelStyle.plain
        #expect(style.label(number(1, -3)) == "0.001")
        #expect(style.label(number(25, -1)) == "2.5")
        #expect(style.label(number(-5, -1)) == "-0.5")
        #expect(style.label(number(1000, 0)) == "1000")
        #expect(style.label(number(12345, -2)) == "123.45")
        #expect(style.label(number(0, 7)) == "0")
    }

    @Test func scientificLabels() {
        let style = TickLabelStyle.scientific
        #expect(style.label(number(1, -5)) == "1e-5")
        #expect(style.label(number(25, -8)) == "2.5e-7")
        #expect(style.label(number(-3, 20)) == "-3e20")
        #expect(style.label(number(1, 0)) == "1")
        #expect(style.label(number(0, 0)) == "0")
    }

    @Test func thousandsLabels() {
        #expect(TickLabelStyle.thousands(1).label(number(10, 3)) == "10k")
        #expect(TickLabelStyle.thousands(1).label(number(25, 2)) == "2.5k")
        #expect(TickLabelStyle.thousands(2).label(number(15, 5)) == "1.5M")
        #expect(TickLabelStyle.thousands(3).label(number(2, 9)) == "2G")
    }

    @Test func decimalNumbersAreNormalized() {
        #expect(number(2000, -1) == number(2, 2))
        #expect(number(0, -4) == number(0, 0))
        #expect(number(3, -1).value == 0.3)
        #expect(number(12, 2).leadingExponent == 3)
        #expect(number(0, 0).leadingExponent == nil)
    }

    @Test func svgNumbersAreShortAndFinite() {
        #expect(svgNumber(12) == "12")
        #expect(svgNumber(12.5) == "12.5")
        #expect(svgNumber(-0.25) == "-0.25")
        #expect(svgNumber(0.05) == "0.05")
        #expect(svgNumber(3.14159) == "3.14")
        #expect(svgNumber(-0.001) == "0")
        #expect(svgNumber(.nan) == "0")
        #expect(svgNumber(.infinity) == "0")
        #expect(svgNumber(1e300) == "1000000000")
    }

    @Test func colorsAreLowerCaseHex() {
        #expect(Color.blue.hex == "#0072b2")
        #expect(Color(red: 255, green: 0, blue: 10).hex == "#ff000a")
        #expect(Set(Color.palette).count == Color.palette.count)
    }
}
