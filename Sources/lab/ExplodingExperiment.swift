import Instruments
import Models
import NN
import Plot
import Tape

// Philipp, Song & Carbonell, "The exploding gradient problem demystified" (2018,
// https://arxiv.org/abs/1712.05577): in plain MLPs the gradient scale coefficient GSC(k, 0)
// grows exponentially with k — with or without BatchNorm, for ReLU, tanh and SELU alike — while
// residual networks keep it far smaller.

let explodingExperiment = Experiment(
    name: "exploding",
    claim: "GSC from each layer to the input grows exponentially in plain nets with or without BN; residual nets much smaller",
    run: runExploding)

private func runExploding(_ options: ExperimentOptions) throws {
    let depth = options.quick ? 16 : 50, width = options.quick ? 24 : 100, batch = options.quick ? 16 : 64
    let estimator = JacobianEstimator.randomProjections(count: options.quick ? 2 : 8, seed: 7)
    var writer = try ExperimentWriter(name: "exploding", directory: options.outputDirectory, csvHeader: "setup,seed,layer,gsc_to_input")
    var chart = Chart(title: "GSC(k, 0) at initialisation, width \(width)", xLabel: "layer k", yLabel: "gradient scale coefficient",
                      yScale: .log10)
    var finals: [(label: String, mean: Double, spread: Double, residual: Bool)] = []
    for nonlinearity in [Nonlinearity.relu, .tanh, .selu] {
        for normalization in [FeatureNormalization.none, .batch] {
            for residual in [false, true] {
                let label = "\(nonlinearity.rawValue)\(normalization == .batch ? " + BN" : "") \(residual ? "residual" : "plain")"
                var profiles: [[Double]] = []
                for seed in options.seeds {
                    let initializer: Initializer = nonlinearity == .relu ? .kaimingNormal() : .kaimingNormal(gain: 1)
                    let network = DeepNetwork(DeepNetworkConfiguration(inputs: width, outputs: 10, depth: depth, width: width,
                                                                       nonlinearity: nonlinearity, normalization: normalization,
                                                                       shortcutSpan: residual ? 1 : nil, weightInitializer: initializer),
                                              seed: seed)
                    var random = SplitMix64(seed: seed ^ 0xDA7A)
                    let input = Tensor.randomNormal([batch, width], using: &random)
                    let profile = gradientScaleProfile(of: network, input: input, context: .training(seed: seed), estimator: estimator)
                    profiles.append(profile.lowestToEach)
                    for (layer, value) in profile.lowestToEach.enumerated() { writer.row([label, seed, layer, value]) }
                }
                let layers = profiles[0].indices
                let summaries = layers.map { k in meanAndSpread(profiles.map { $0[k] }) }
                chart.line(x: layers.map(Double.init), y: summaries.map(\.mean), name: label, style: residual ? .dashed : .solid)
                finals.append((label, summaries.last!.mean, summaries.last!.spread, residual))
            }
        }
    }
    let plotFile = try writer.write(Figure(single: chart), suffix: "gsc")
    let pairs = stride(from: 0, to: finals.count, by: 2).map { (finals[$0], finals[$0 + 1]) }
    let agreeing = pairs.filter { plain, residual in plain.mean > 10 * residual.mean }.count
    writer.text("# Exploding gradients")
    writer.text()
    writer.text("**Claim** (Philipp et al. 2018): \(explodingExperiment.claim).")
    writer.text()
    writer.text("**Setup.** MLPs of depth \(depth) and width \(width) at initialisation (Kaiming-normal weights with gain √2 for "
                + "ReLU and 1 for tanh/SELU, zero biases), residual nets with a shortcut around every layer (y = x + F(x)); "
                + "BatchNorm in training mode on a batch of \(batch) Gaussian inputs, gradients through the batch statistics. "
                + "GSC(k, 0) = ‖∂f_k/∂f_0‖_qm·‖f_0‖/‖f_k‖ (f_0 the first hidden layer), Jacobian norms from random projections "
                + "(\(options.quick ? 2 : 8) per example), averaged over the batch; seeds \(options.seeds.map(String.init).joined(separator: ", ")).")
    writer.text()
    writer.text("| setup | GSC(top, 0): logits to the first hidden layer, mean ± std |")
    writer.text("|---|---|")
    for final in finals { writer.text("| \(final.label) | \(scientific(final.mean)) ± \(scientific(final.spread)) |") }
    writer.text()
    writer.text("![gsc](\(plotFile))")
    writer.text()
    writer.text("**Verdict.** The plain net's GSC exceeds its residual twin's by more than 10× in \(agreeing) of \(pairs.count) "
                + "nonlinearity/normalisation pairs\(agreeing == pairs.count ? ", as claimed" : "; where it does not, the measurement disagrees with the claim").")
    try writer.finish()
}
