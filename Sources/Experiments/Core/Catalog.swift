/// Every experiment `lab experiment NAME` knows, in the order of the papers' argument.
public enum ExperimentCatalog {
    /// The experiments.
    public static var all: [ExperimentEntry] {[
        ExperimentEntry(ShatteredGradients.self),
        ExperimentEntry(ExplodingGradients.self),
        ExperimentEntry(Ensembles.self),
        ExperimentEntry(DemystifyingResNet.self),
        ExperimentEntry(IdentityMappings.self),
        ExperimentEntry(HighwayNetworks.self),
        ExperimentEntry(StochasticDepth.self),
        ExperimentEntry(LooksLinear.self),
    ]}

    /// The experiment called `name`, or nil.
    public static func entry(named name: String) -> ExperimentEntry? {
        all.first { $0.name == name }
    }
}
