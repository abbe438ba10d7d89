import Experiments
import Instruments
import Models
import NN
import Plot
import Tape

// Balduzzi et al., "The Shattered Gradients Problem: If resnets are the answer, then what is the
// question?", ICML 2017 (https://arxiv.org/abs/1702.08591): gradients of deep plain networks
// with respect to their input look like white noise (their correlation decays exponentially with
// depth), resnets' decay much more slowly, and Looks-Linear initialisation avoids shattering.

let shatteringExperiment = Experiment(
    name: "shattering",
    claim: "input-gradient correlation decays exponentially with depth without skips, slowly with them; LL init avoids it",
    run: runShattering)

private struct ShatteringSetup {
    let label: String
    let nonlinearity: Nonlinearity
    let normalization: FeatureNormalization
    let residual: Bool
    let initializer: Initializer
}

private let shatteringSetups = [
    ShatteringSetup(label: "plain ReLU", nonlinearity: .relu, normalization: .none, residual: false, initializer: .kaimingNormal()),
    ShatteringSetup(label: "ResNet ReLU", nonlinearity: .relu, normalization: .none, residual: true, initializer: .kaimingNormal()),
    ShatteringSetup(label: "plain ReLU + BN", nonlinearity: .relu, normalization: .batch, residual: false, initializer: .kaimingNormal()),
    ShatteringSetup(label: "ResNet ReLU + BN", nonlinearity: .relu, normalization: .batch, residual: true, initializer: .kaimingNormal()),
    ShatteringSetup(label: "plain CReLU, Looks-Linear", nonlinearity: .crelu, normalization: .none, residual: false, initializer: .looksLinear()),
]

private func runShattering(_ options: ExperimentOptions) throws {
    let width = options.quick ? 32 : 200
    let depths = options.quick ? [1, 4, 10, 20] : [1, 2, 5, 10, 20, 30, 50]
    let biasStd: Float = 0.1
    let grid = gridPoints(from: -2, to: 2, count: options.quick ? 128 : 256)
    var writer = try ExperimentWriter(name: "shattering", directory: options.outputDirectory,
                                      csvHeader: "setup,depth,seed,lag1_correlation,correlation_length")
    var lagMeans: [String: [(Double, Double)]] = [:]
    var deepestGradients: [String: [Double]] = [:]
    for setup in shatteringSetups {
        for depth in depths {
            var lags: [Double] = []
            for seed in options.seeds {
                var configuration = DeepNetworkConfiguration(inputs: 1, outputs: 1, depth: depth, width: width,
                                                             nonlinearity: setup.nonlinearity, normalization: setup.normalization,
                                                             shortcutSpan: setup.residual ? 1 : nil, weightInitializer: setup.initializer,
                                                             biasStandardDeviation: setup.nonlinearity == .crelu ? 0 : biasStd)
                configuration.residualScale = 1
                let network = DeepNetwork(configuration, seed: seed)
                var context = ForwardContext.training(seed: seed)
                let result = shatteredGradients(of: { network($0, &context) }, grid: grid, maxLag: 8)
                let lag1 = result.correlation.lagCorrelation.count > 1 ? result.correlation.lagCorrelation[1] : .nan
                lags.append(lag1)
                writer.row([setup.label, depth, seed, lag1, result.correlation.correlationLength.map { "\($0)" } ?? ""])
                if depth == depths.last && seed == options.seeds[0] { deepestGradients[setup.label] = result.gradients }
            }
            let summary = meanAndSpread(lags)
            lagMeans[setup.label, default: []].append((summary.mean, summary.spread))
        }
    }

    var correlation = Chart(title: "Gradient correlation vs depth", xLabel: "depth", yLabel: "lag-1 correlation of ∂y/∂x",
                            yRange: -0.2...1.05)
    for setup in shatteringSetups {
        let values = lagMeans[setup.label]!
        correlation.line(x: depths.map(Double.init), y: values.map(\.0), spread: values.map(\.1), name: setup.label)
    }
    let correlationFile = try writer.write(Figure(single: correlation), suffix: "correlation")
    var panels = Figure(rows: 1, columns: shatteringSetups.count, title: "∂y/∂x over the input at depth \(depths.last!) (seed 0)",
                        panelWidth: 300, panelHeight: 260)
    for (index, setup) in shatteringSetups.enumerated() {
        panels[0, index].title = setup.label
        panels[0, index].xAxis.label = "x"
        panels[0, index].line(x: grid.map(Double.init), y: deepestGradients[setup.label]!, name: "∂y/∂x")
        panels[0, index].legend = .hidden
    }
    let gradientFile = try writer.write(panels, suffix: "gradients")

    let final = Dictionary(uniqueKeysWithValues: shatteringSetups.map { ($0.label, lagMeans[$0.label]!.last!.0) })
    let plainDecays = final["plain ReLU"]! < final["ResNet ReLU"]! && final["plain ReLU + BN"]! < final["ResNet ReLU + BN"]!
    let looksLinearHolds = final["plain CReLU, Looks-Linear"]! > 0.9
    writer.text("# Shattered gradients")
    writer.text()
    writer.text("**Claim** (Balduzzi et al. 2017): \(shatteringExperiment.claim).")
    writer.text()
    writer.text("**Setup.** Scalar input x on \(grid.count) points in [−2, 2], fully connected nets of width \(width), depths "
                + "\(depths.map(String.init).joined(separator: ", ")); weights Kaiming-normal (Looks-Linear for CReLU: orthogonal W, "
                + "mirrored [W, −W]); biases N(0, \(biasStd)²) (zero for Looks-Linear, so the net is exactly linear at init); "
                + "ResNets y = x + F(x) around every layer; BatchNorm in training mode over the \(grid.count) grid points, with "
                + "gradients through the batch statistics. ∂y/∂x of the scalar output for every grid point; lag-1 correlation "
                + "Σgᵢgᵢ₊₁/√(Σgᵢ²Σgᵢ₊₁²); seeds \(options.seeds.map(String.init).joined(separator: ", ")) (mean ± sample std).")
    writer.text()
    writer.text("| setup | " + depths.map { "depth \($0)" }.joined(separator: " | ") + " |")
    writer.text("|---|" + depths.map { _ in "---" }.joined(separator: "|") + "|")
    for setup in shatteringSetups {
        writer.text("| \(setup.label) | " + lagMeans[setup.label]!.map { "\(formatted($0.0)) ± \(formatted($0.1))" }.joined(separator: " | ") + " |")
    }
    writer.text()
    writer.text("![correlation](\(correlationFile))")
    writer.text()
    writer.text("![gradients](\(gradientFile))")
    writer.text()
    writer.text("**Verdict.** Plain nets lose correlation faster than ResNets at depth \(depths.last!): "
                + "\(plainDecays ? "yes, as claimed" : "no — disagrees with the claim") "
                + "(plain \(formatted(final["plain ReLU"]!)) vs ResNet \(formatted(final["ResNet ReLU"]!)); with BN "
                + "\(formatted(final["plain ReLU + BN"]!)) vs \(formatted(final["ResNet ReLU + BN"]!))). Looks-Linear keeps the "
                + "gradient correlated: \(looksLinearHolds ? "yes" : "no") (\(formatted(final["plain CReLU, Looks-Linear"]!))).")
    try writer.finish()
}
