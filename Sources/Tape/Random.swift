import SeededRandom

/// The package's seeded generator, `SeededRandom.SplitMix64`: defined in the dependency-free
/// `SeededRandom` target (so `Datasets` can shuffle without the tape) and named here, so code
/// that imports `Tape` uses it as before.
public typealias SplitMix64 = SeededRandom.SplitMix64
