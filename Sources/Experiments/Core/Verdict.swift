/// How a measurement stands against a paper's claim.
public enum Verdict: String, Codable, Sendable, CaseIterable {
    /// Every part of the claim holds in the measurement.
    case agree
    /// The central part holds, some other part does not.
    case partly
    /// A central part of the claim does not hold.
    case disagree
}

/// One part of a paper's claim, checked against a measurement by a fixed threshold.
public struct Finding: Codable, Sendable, Equatable {
    /// The part of the claim, in the paper's words where possible.
    public var claim: String
    /// Whether the measurement shows it.
    public var holds: Bool
    /// The measured numbers and the threshold they were held to.
    public var evidence: String
    /// A central finding that fails makes the whole verdict `disagree`; a side finding that
    /// fails makes it at most `partly`.
    public var isCentral: Bool

    /// A finding; central unless said otherwise.
    public init(_ claim: String, holds: Bool, evidence: String, isCentral: Bool = true) {
        (self.claim, self.holds, self.evidence, self.isCentral) = (claim, holds, evidence, isCentral)
    }
}

/// The verdict on an experiment's results and the findings it follows from.
///
/// The rule is fixed before any run: `agree` when every finding holds; `disagree` when a central
/// finding fails (or no finding holds); `partly` otherwise.
public struct Judgement: Codable, Sendable, Equatable {
    /// Each part of the claim with its evidence.
    public var findings: [Finding]

    /// The findings, in the order the report lists them.
    public init(_ findings: [Finding]) {
        precondition(!findings.isEmpty, "a judgement needs at least one finding")
        self.findings = findings
    }

    /// `agree`, `partly` or `disagree` by the rule above.
    public var verdict: Verdict {
        if findings.allSatisfy(\.holds) { return .agree }
        if findings.contains(where: { $0.isCentral && !$0.holds }) || !findings.contains(where: \.holds) { return .disagree }
        return .partly
    }
}
