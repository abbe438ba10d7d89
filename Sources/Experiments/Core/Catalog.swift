/// Every experiment `lab experiment NAME` knows, in the order of the papers' argument.
public enum ExperimentCatalog {
    /// The experiments.
    public static var all: [ExperimentEntry] {[
        ExperimentEntry(ExplodingGradients.self),
        ExperimentEntry(Ensembles.self),
    ]}

    /// The experiment called `name`, or nil.
    public static func entry(named name: String) -> ExperimentEntry? {
        all.first { $0.name == name }
    }
}
