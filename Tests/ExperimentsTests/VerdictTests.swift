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
