import Experiments
import Testing

@Suite("Judgement rule")
struct JudgementTests {
    @Test func rule() {
        let holds = Finding("a", holds: true, evidence: "")
        let fails = Finding("b", holds: false, evidence: "")
        let sideFails = Finding("c", holds: false, evidence: "", isCentral: false)
        #expect(Judgement([holds, holds]).verdict == .agree)
        #expect(Judgement([holds, sideFails]).verdict == .partly)
        #expect(Judgement([holds, fails]).verdict == .disagree)
        #expect(Judgement([sideFails]).verdict == .disagree)
    }
}

@Suite("Summaries")
struct SummaryTests {
    @Test func scientificNotation() {
        #expect(scientific(2.5e4) == "2.50e+4")
        #expect(scientific(1e-12) == "1.00e-12")
        #expect(scientific(9.996) == "1.00e+1")
        #expect(scientific(0.12345) == "1.23e-1")
    }

    @Test func meanAndSpreadAreTheSampleMoments() {
        // 1, 2, 3, 4: mean 2.5, Σ(v − m)² = 5, s = √(5/3).
        let summary = meanAndSpread([1, 2, 3, 4])
        #expect(summary.mean == 2.5 && abs(summary.spread - (5.0 / 3).squareRoot()) < 1e-12)
    }
}
