import Testing
@testable import Datasets

@Test func placeholder() { #expect(Bool(true)) }
