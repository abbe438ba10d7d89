import Testing
@testable import Plot

@Suite struct LinearTickTests {
    private func resolve(_ data: ClosedRange<Double>?, fixed: ClosedRange<Double>? = nil, maxIntervals: Int = 5) -> ResolvedAxis {
        ResolvedAxis.resolve(Axis(range: fixed), dataExtent: data, maxIntervals: maxIntervals)
    }

    @Test func unitIntervalStepsByFifths() {
        let axis = resolve(0...1)
        #expect(labels(axis) == ["0", "0.2", "0.4", "0.6", "0.8", "1"])
        #expect(axis.lower == 0 && axis.upper == 1)
    }

    @Test func integerTicksSkipFractions() {
        let epochs = ResolvedAxis.resolve(Axis(integerTicks: true), dataExtent: 1...3, maxIntervals: 5)
        #expect(labels(epochs) == ["1", "2", "3"])
        #expect(labels(resolve(1...3)) == ["1", "1.5", "2", "2.5", "3"])   // without the option
        // Wide ranges keep their usual steps.
        #expect(labels(ResolvedAxis.resolve(Axis(integerTicks: true), dataExtent: 0...97, maxIntervals: 5)) == ["0", "20", "40", "60", "80", "100"])
    }

    @Test func fittedRangeRoundsOutToTicks() {
        let axis = resolve(0...97)
        #expect(labels(axis) == ["0", "20", "40", "60", "80", "100"])
        #expect(axis.lower == 0 && axis.upper == 100)
        #expect(axis.ticks.map(\.coordinate) == [0, 20, 40, 60, 80, 100])
    }

    @Test func negativeAndFractionalRanges() {
        #expect(labels(resolve(-0.3...2.3, maxIntervals: 6)) == ["-0.5", "0", "0.5", "1", "1.5", "2", "2.5"])
        #expect(labels(resolve(-7...(-2))) == ["-7", "-6", "-5", "-4", "-3", "-2"])
    }

    @Test func stepsAreOneTwoOrFiveTimesAPowerOfTen() {
        let cases: [(span: Double, step: ResolvedAxis.LinearStep)] = [
            (1, .init(multiplier: 2, exponent: -1)),
            (97, .init(multiplier: 2, exponent: 1)),
            (0.003, .init(multiplier: 1, exponent: -3)),
            (12_000, .init(multiplier: 5, exponent: 3)),
            (5, .init(multiplier: 1, exponent: 0)),
            (9.9, .init(multiplier: 2, exponent: 0)),
        ]
        for (span, step) in cases {
            #expect(ResolvedAxis.niceStep(span: span, maxIntervals: 5) == step, "span \(span)")
        }
    }

    @Test func denserAxesGetSmallerSteps() {
        #expect(labels(resolve(0...1, maxIntervals: 10)).count == 11)
        #expect(labels(resolve(0...1, maxIntervals: 2)) == ["0", "0.5", "1"])
    }

    @Test func fixedRangeIsKeptExactly() {
        let axis = resolve(0...97, fixed: 0.05...0.95)
        #expect(axis.lower == 0.05 && axis.upper == 0.95)
        #expect(labels(axis) == ["0.2", "0.4", "0.6", "0.8"])
    }

    @Test func unusableFixedRangeFallsBackToTheData() {
        #expect(labels(resolve(0...1, fixed: 3...3)) == labels(resolve(0...1)))
        #expect(labels(resolve(0...1, fixed: 0...Double.infinity)) == labels(resolve(0...1)))
    }

    @Test func singleValueAndNoDataStillGiveAnAxis() {
        let single = resolve(5...5)
        #expect(single.lower < 5 && single.upper > 5)
        #expect(labels(single).count >= 2)
        #expect(labels(resolve(0...0)) == ["-1", "-0.5", "0", "0.5", "1"])
        #expect(labels(resolve(nil)) == ["0", "0.2", "0.4", "0.6", "0.8", "1"])
    }

    @Test func labelsCarryNoBinaryRoundingNoise() {
        let axis = resolve(0...0.7, maxIntervals: 7)
        #expect(labels(axis) == ["0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7"])
    }

    @Test func largeAndTinyRangesUseCompactLabels() {
        #expect(labels(resolve(0...10_000)) == ["0", "2k", "4k", "6k", "8k", "10k"])
        #expect(labels(resolve(0...2.5e6)) == ["0", "0.5M", "1M", "1.5M", "2M", "2.5M"])
        #expect(labels(resolve(0...1e-4)) == ["0", "2e-5", "4e-5", "6e-5", "8e-5", "1e-4"])
    }

    @Test func nearlyEqualEndsAreWidened() {
        let axis = resolve(1...(1 + 1e-13))
        #expect(axis.upper - axis.lower > 0.1)
        #expect(!labels(axis).isEmpty)
    }

    @Test func hugeMagnitudesDoNotOverflow() {
        let axis = resolve(-1e308...1e308)
        #expect(axis.lower.isFinite && axis.upper.isFinite)
        #expect(!labels(axis).isEmpty)
    }
}

@Suite struct LogTickTests {
    private func resolve(_ data: ClosedRange<Double>?, fixed: ClosedRange<Double>? = nil, maxIntervals: Int = 8) -> ResolvedAxis {
        ResolvedAxis.resolve(Axis(scale: .log10, range: fixed), dataExtent: data, maxIntervals: maxIntervals)
    }

    @Test func decadesWithMinorTicksBetween() {
        let axis = resolve(1e-3...1e2)
        #expect(axis.lower == -3 && axis.upper == 2)
        let majors = axis.ticks.filter(\.isMajor)
        #expect(majors.map(\.coordinate) == [-3, -2, -1, 0, 1, 2])
        #expect(labels(axis) == ["0.001", "0.01", "0.1", "1", "10", "100"])
        // 2...9 in each of the five decades.
        #expect(axis.ticks.filter { !$0.isMajor }.count == 5 * 8)
        #expect(axis.ticks.filter { !$0.isMajor }.allSatisfy { $0.label == nil })
    }

    @Test func fittedRangeRoundsOutToDecades() {
        let axis = resolve(0.03...450)
        #expect(axis.lower == -2 && axis.upper == 3)
    }

    @Test func wideRangesLabelEveryFewDecades() {
        let axis = resolve(1e-40...1, maxIntervals: 6)
        #expect(labels(axis) == ["1e-40", "1e-30", "1e-20", "1e-10", "1"])
        // Unlabelled decades in between, but no 2...9 ticks.
        #expect(axis.ticks.count == 41)
    }

    @Test func smallRangesAlsoLabelTwoAndFive() {
        let axis = resolve(1...10)
        #expect(labels(axis) == ["1", "2", "5", "10"])
    }

    @Test func rangeWithoutADecadeLabelsEveryMinorTick() {
        let axis = resolve(nil, fixed: 3...7)
        #expect(labels(axis) == ["3", "4", "5", "6", "7"])
    }

    @Test func largeValuesUseSuffixesAndTinyOnesScientific() {
        #expect(labels(resolve(1...1e6)) == ["1", "10", "100", "1k", "10k", "100k", "1M"])
        #expect(labels(resolve(1e-6...1e-2)) == ["1e-6", "1e-5", "1e-4", "1e-3", "1e-2"])
    }

    @Test func unusableFixedRangeFallsBackToTheData() {
        #expect(labels(resolve(1...100, fixed: 0...10)) == ["1", "10", "100"])
        #expect(labels(resolve(1...100, fixed: -1...10)) == ["1", "10", "100"])
    }

    @Test func mapsValuesThroughLog10() {
        let axis = resolve(1...100)
        #expect(axis.fraction(of: 10) == 0.5)
        #expect(axis.fraction(of: 0) == nil)
        #expect(axis.fraction(of: -5) == nil)
        #expect(axis.fraction(of: .nan) == nil)
        #expect(axis.fraction(of: .infinity) == nil)
    }
}
