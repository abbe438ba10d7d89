import Testing
@testable import CKernels

@Test func placeholder() { #expect(Bool(true)) }
