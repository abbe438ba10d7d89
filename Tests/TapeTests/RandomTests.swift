import Testing
@testable import Tape

@Test func splitMixIsSeeded() {
    var a = SplitMix64(seed: 1), b = SplitMix64(seed: 1)
    #expect(a.next() == b.next())
}
