import Testing
@testable import SafeTensors

@Suite struct HalfPrecisionTests {
    @Test(arguments: [
        (UInt16(0x3C00), Float(1)),
        (0xC000, -2),
        (0x3555, 0.333251953125),
        (0x7BFF, 65504),                       // largest finite
        (0x0400, 0x1p-14),                     // smallest normal
        (0x03FF, 0x1.FF8p-15),                 // largest subnormal
        (0x0001, 0x1p-24),                     // smallest subnormal
        (0x8001, -0x1p-24),
        (0x0000, 0),
        (0x7C00, .infinity),
        (0xFC00, -.infinity),
    ])
    func float16KnownValues(bits: UInt16, expected: Float) {
        #expect(HalfPrecision.float(fromFloat16Bits: bits) == expected)
    }

    @Test func float16SignedZeroAndNaN() {
        let negativeZero = HalfPrecision.float(fromFloat16Bits: 0x8000)
        #expect(negativeZero == 0 && negativeZero.sign == .minus)
        let quietNaN = HalfPrecision.float(fromFloat16Bits: 0x7E00)
        #expect(quietNaN.isNaN && !quietNaN.isSignalingNaN)
        let signalingNaN = HalfPrecision.float(fromFloat16Bits: 0x7C01)
        #expect(signalingNaN.isSignalingNaN)
        #expect(HalfPrecision.float(fromFloat16Bits: 0xFE00).sign == .minus)
    }

    /// Every one of the 65536 bit patterns agrees with Swift's own `Float16` widening.
    @Test func float16MatchesSwiftFloat16Exhaustively() {
        for bits in UInt16.min...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let converted = HalfPrecision.float(fromFloat16Bits: bits)
            if expected.isNaN {
                #expect(converted.isNaN && converted.sign == expected.sign, "bits 0x\(String(bits, radix: 16))")
            } else {
                #expect(converted.bitPattern == expected.bitPattern, "bits 0x\(String(bits, radix: 16))")
            }
        }
    }

    @Test(arguments: [
        (UInt16(0x3F80), Float(1)),
        (0xC049, -3.140625),
        (0x4780, 65536),
        (0x0080, 0x1p-126),                    // smallest normal
        (0x0001, 0x1p-133),                    // smallest subnormal
        (0x7F7F, 0x1.FEp127),                  // largest finite
        (0x7F80, .infinity),
        (0xFF80, -.infinity),
    ])
    func bfloat16KnownValues(bits: UInt16, expected: Float) {
        #expect(HalfPrecision.float(fromBFloat16Bits: bits) == expected)
    }

    @Test func bfloat16SignedZeroAndNaN() {
        let negativeZero = HalfPrecision.float(fromBFloat16Bits: 0x8000)
        #expect(negativeZero == 0 && negativeZero.sign == .minus)
        #expect(HalfPrecision.float(fromBFloat16Bits: 0x7FC0).isNaN)
        #expect(HalfPrecision.float(fromBFloat16Bits: 0x7F81).isSignalingNaN)
    }
}
