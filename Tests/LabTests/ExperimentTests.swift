import Foundation
import Testing

@Suite("lab experiment (quick smoke tests)", .serialized)
struct ExperimentTests {
    /// Runs a quick experiment and returns its CSV rows (header dropped) after checking every file exists.
    func run(_ name: String, plots: [String]) throws -> [[String]] {
        let directory = temporaryPath("experiment-\(name)")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try runLab(["experiment", name, "--quick", "--out", directory, "--seeds", "2"])
        #expect(result.status == 0, "\(result.standardError)")
        for file in ["\(name).csv", "\(name).md"] + plots.map({ "\(name)-\($0).svg" }) {
            #expect(FileManager.default.fileExists(atPath: directory + "/" + file), "missing \(file)")
        }
        let report = try String(contentsOfFile: directory + "/\(name).md", encoding: .utf8)
        #expect(report.contains("**Claim**") && report.contains("**Setup.**") && report.contains("**Verdict"))
        let csv = try String(contentsOfFile: directory + "/\(name).csv", encoding: .utf8)
        return csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    @Test func shattering() throws {
        let rows = try run("shattering", plots: ["correlation", "gradients"])
        #expect(rows.count == 5 * 4 * 2)
        for row in rows {
            let correlation = Double(row[3])!
            #expect(correlation.isFinite && correlation >= -1.0001 && correlation <= 1.0001, "\(row)")
        }
    }

    @Test func exploding() throws {
        let rows = try run("exploding", plots: ["gsc"])
        #expect(rows.count == 12 * 2 * 18)   // f₀ … f₁₆ and the logits, for 12 setups and 2 seeds
        for row in rows {
            let gsc = Double(row[3])!
            #expect(gsc.isFinite && gsc > 0, "\(row)")
        }
    }

    @Test func listAndUnknown() throws {
        let list = try runLab(["experiment", "list"])
        #expect(list.status == 0 && list.standardOutput.contains("shattering") && list.standardOutput.contains("exploding"))
        let unknown = try runLab(["experiment", "shatering"])
        #expect(unknown.status == 1 && unknown.standardError.contains("unknown experiment 'shatering'"))
    }
}

/// The quick smoke tests of `hessian`, `highway` and `looks-linear` (the last two train on MNIST).
extension ExperimentTests {
    @Test func hessian() throws {
        let rows = try run("hessian", plots: ["condition", "spectrum"])
        #expect(rows.count == 3 * 3 * 2 * 2)   // linear, tanh and ReLU nets × spans 1–3 × depths 6, 12 × 2 seeds
        for row in rows {
            let (setup, span, depth) = (row[0], Int(row[1])!, Int(row[2])!)
            let parameters = Int(row[4])!, radius = Double(row[5])!
            #expect(parameters == depth * 4, "\(row)")   // width 2: the hidden weights only
            #expect(radius.isFinite && radius >= 0, "\(row)")
            #expect(Int(row[7])! + Int(row[8])! + Int(row[9])! == parameters, "\(row)")
            if let condition = Double(row[6]) { #expect(condition.isFinite && condition >= 1, "\(row)") }
            if setup != "ReLU near zero" && span == 3 { #expect(radius == 0, "\(row)") }   // a high-order stationary point
            if setup != "ReLU near zero" && span == 2 { #expect(radius > 0 && row[7] == row[8], "\(row)") }   // a strict saddle, ±σ
        }
        // Span 2 at the zero point: the same condition number at every depth, seed by seed.
        for seed in ["0", "1"] {
            let conditions = rows.filter { $0[0] == "linear at zero" && $0[1] == "2" && $0[3] == seed }.map { Double($0[6])! }
            #expect(conditions.count == 2 && abs(conditions[0] / conditions[1] - 1) < 1e-3, "\(conditions)")
        }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: sharedData + "/mnist"), "needs ../shared/data"))
    func highway() throws {
        let rows = try run("highway", plots: ["loss", "gates"])
        // Plain nets and highway nets with two gate biases, 2 and 4 layers, 2 seeds: 4 loss bins, final loss and
        // accuracy each, and for highway nets the mean and std of every gate layer at init and after training.
        #expect(rows.count == 3 * 2 * 2 * 6 + 2 * 2 * (1 + 3) * 4)
        for row in rows {
            let value = Double(row[6])!
            switch row[4] {
            case "train_loss", "final_train_loss": #expect(value.isFinite && value > 0 && value < 10, "\(row)")
            case "final_train_accuracy", "gate_mean_init", "gate_mean_trained": #expect(value >= 0 && value <= 1, "\(row)")
            case "gate_std_init", "gate_std_trained": #expect(value >= 0 && value <= 0.5, "\(row)")
            default: Issue.record("unexpected quantity \(row)")
            }
            if row[4].hasPrefix("gate") { #expect(row[0].hasPrefix("highway"), "\(row)") }
        }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: sharedData + "/mnist"), "needs ../shared/data"))
    func looksLinear() throws {
        let rows = try run("looks-linear", plots: ["depth"])
        #expect(rows.count == 3 * 2 * 2)   // 3 setups × depths 2, 6 × 2 seeds
        for row in rows {
            let loss = Double(row[4])!, accuracy = Double(row[5])!
            #expect(loss.isFinite && loss > 0 && loss < 10, "\(row)")
            #expect(accuracy >= 0 && accuracy <= 1, "\(row)")
        }
    }

    @Test func trainingExperimentsNameMissingData() throws {
        for name in ["highway", "looks-linear"] {
            let directory = temporaryPath("experiment-\(name)-nodata")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let result = try runLab(["experiment", name, "--quick", "--out", directory, "--data", directory + "/nonexistent"])
            #expect(result.status == 1 && result.standardError.contains(name) && result.standardError.contains("nonexistent"),
                    "\(result.standardError)")
        }
    }
}

/// The quick smoke tests of `identity-mappings` and `stochastic-depth` (both train on MNIST).
extension ExperimentTests {
    @Test(.enabled(if: FileManager.default.fileExists(atPath: sharedData + "/mnist"), "needs ../shared/data"))
    func identityMappings() throws {
        let rows = try run("identity-mappings", plots: ["training"])
        #expect(rows.count == 13 * 2)   // 9 shortcut variants and 4 more placements, 2 seeds
        #expect(Set(rows.map { $0[1] }) == ["shortcut", "placement"])
        for row in rows {
            let loss = Double(row[3])!, error = Double(row[4])!
            #expect((loss.isFinite && loss > 0) || row[5] == "true", "\(row)")
            #expect(error >= 0 && error <= 1, "\(row)")
        }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: sharedData + "/mnist"), "needs ../shared/data"))
    func stochasticDepth() throws {
        let rows = try run("stochastic-depth", plots: ["training"])
        #expect(rows.count == 2 * 2)   // constant and stochastic depth, 2 seeds
        for row in rows {
            let expected = Double(row[2])!, blocks = Double(row[3])!, seconds = Double(row[4])!
            let loss = Double(row[6])!, error = Double(row[7])!
            // 6 blocks; linear decay to 0.5: Σ 1 − (l/6)/2 = 4.25.
            #expect(expected == (row[0] == "constant depth" ? 6 : 4.25), "\(row)")
            #expect(row[0] == "constant depth" ? blocks == 6 : blocks > 1 && blocks < 6, "\(row)")
            #expect(seconds.isFinite && seconds > 0, "\(row)")
            #expect(loss.isFinite && loss > 0 && loss < 10, "\(row)")
            #expect(error >= 0 && error <= 1, "\(row)")
        }
    }

    @Test func shortTrainingExperimentsNameMissingData() throws {
        for name in ["identity-mappings", "stochastic-depth"] {
            let directory = temporaryPath("experiment-\(name)-nodata")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let result = try runLab(["experiment", name, "--quick", "--out", directory, "--data", directory + "/nonexistent"])
            #expect(result.status == 1 && result.standardError.contains(name) && result.standardError.contains("nonexistent"),
                    "\(result.standardError)")
        }
    }
}
