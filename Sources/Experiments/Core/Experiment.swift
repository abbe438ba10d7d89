/// The paper an experiment reproduces.
public struct Paper: Sendable, Equatable {
    /// "Balduzzi et al. 2017".
    public var citation: String
    /// The paper's title.
    public var title: String
    /// Where to read it, e.g. "https://arxiv.org/abs/1702.08591".
    public var link: String

    /// A paper reference.
    public init(_ citation: String, title: String, link: String) {
        (self.citation, self.title, self.link) = (citation, title, link)
    }
}

/// Every number that matters to an experiment: widths, depths, inits, data, schedule, seeds.
/// It is printed into the report verbatim (as JSON), so the report alone says what was run.
public protocol ExperimentSetup: Codable, Sendable, Equatable {
    /// A seconds-to-minutes version: the smoke test, runnable in a debug build.
    static var quick: Self { get }
    /// The version whose results `docs/experiments` shows, sized for the paper's claim.
    static var full: Self { get }
    /// The seeds every configuration is measured with.
    var seeds: [UInt64] { get set }
}

/// A paper's claim reproduced as four separate things: a `Setup`, `measure` (the numbers),
/// `verdict` (a pure function of the numbers, holding the paper's thresholds) and `report`
/// (CSV, SVG plots, markdown).
public protocol Experiment {
    /// Every number that matters.
    associatedtype Setup: ExperimentSetup
    /// What `measure` found: Codable, and deterministic for a given setup.
    associatedtype Results: Codable & Sendable

    /// The name `lab experiment NAME` takes.
    static var name: String { get }
    /// The paper reproduced.
    static var paper: Paper { get }
    /// The claim, as the paper words it.
    static var claim: String { get }

    /// Runs the setup and returns what was measured. Each finished configuration and seed goes
    /// through `run.unit(_:_:)`, so an interrupted run continues where it stopped.
    static func measure(_ setup: Setup, in run: ExperimentRun) throws -> Results

    /// The verdict: a pure function of the results, with the thresholds fixed in code.
    static func verdict(_ results: Results) -> Judgement

    /// Adds the experiment's tables, plots and CSV rows to `report` (the claim, setup and
    /// verdict sections are written by the runner).
    static func report(_ results: Results, setup: Setup, into report: inout Report) throws
}
