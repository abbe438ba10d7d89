#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small, fast, seeded pseudo-random generator (Steele, Lea & Flood, "Fast splittable
/// pseudorandom number generators", OOPSLA 2014). Every source of randomness in the package takes
/// one of these explicitly, so the same seed gives the same numbers on every run and platform.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    /// The whole state: saving and restoring it resumes the stream exactly.
    public var state: UInt64

    /// A generator whose stream is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform `Float` in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A uniform `Double` in [0, 1) with 53 random bits.
    public mutating func nextUniformDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal sample (Box–Muller in Double, one value per call).
    public mutating func nextNormal() -> Float {
        let u1 = 1.0 - nextUniformDouble()  // in (0, 1]: log stays finite
        let u2 = nextUniformDouble()
        return Float((-2.0 * log(u1)).squareRoot() * cos(2.0 * Double.pi * u2))
    }

    /// A generator for an independent stream, derived from this one (which advances by one step).
    public mutating func split() -> SplitMix64 {
        SplitMix64(seed: next() ^ 0x6A09_E667_F3BC_C909)
    }
}
