/// Widening conversions from the 16-bit float formats to `Float`, done on bit patterns so they
/// behave identically on every platform (Swift's `Float16` is not available everywhere).
/// Both conversions are exact: every 16-bit value is representable as a `Float`.
enum HalfPrecision {
    /// Converts IEEE 754 binary16 bits (1 sign, 5 exponent, 10 mantissa bits) to a `Float`,
    /// including signed zeros, subnormals, infinities and NaNs (whose payload is kept).
    static func float(fromFloat16Bits bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        var mantissa = UInt32(bits) & 0x3FF

        switch exponent {
        case 0 where mantissa == 0:
            return Float(bitPattern: sign)
        case 0:
            // Subnormal: value = mantissa × 2^-24. Shift the leading 1 into the implicit-bit
            // position (bit 10), lowering the exponent once per shift.
            var unbiasedExponent: Int32 = -14
            while mantissa & 0x400 == 0 {
                mantissa <<= 1
                unbiasedExponent -= 1
            }
            mantissa &= 0x3FF
            let floatExponent = UInt32(unbiasedExponent + 127) << 23
            return Float(bitPattern: sign | floatExponent | (mantissa << 13))
        case 0x1F:
            // Infinity (mantissa 0) or NaN (payload widened into the upper mantissa bits).
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        default:
            // Normal: rebias the exponent from 15 to 127.
            return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
    }

    /// Converts bfloat16 bits to a `Float`. bfloat16 is the upper half of a binary32 float,
    /// so subnormals, infinities and NaNs carry over unchanged.
    static func float(fromBFloat16Bits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }
}
