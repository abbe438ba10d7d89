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

    @Test func listAndUnknown() throws {
        let list = try runLab(["experiment", "list"])
        #expect(list.status == 0 && list.standardOutput.contains("shattering") && list.standardOutput.contains("exploding"))
        let unknown = try runLab(["experiment", "shatering"])
        #expect(unknown.status == 1 && unknown.standardError.contains("unknown experiment 'shatering'"))
    }
}

/// The quick smoke tests of `ensembles`, `identity-mappings` and `stochastic-depth` (all train on MNIST).
extension ExperimentTests {
    @Test(.enabled(if: FileManager.default.fileExists(atPath: sharedData + "/mnist"), "needs ../shared/data"))
    func ensembles() throws {
        let rows = try run("ensembles", plots: ["lesion", "paths"])
        // Per seed: for the ResNet and plain twin (6 blocks) final loss, test error, 6 single and 3 random-count
        // (k = 2, 3, 4) deletions, for the shallow plain twin (3 blocks) 2 + 3 + 1 (k = 2); for the ResNet also
        // 3 path rows for each length 0 … 6.
        #expect(rows.count == 2 * (2 * (2 + 6 + 3) + (2 + 3 + 1) + 3 * 7))
        #expect(Set(rows.map { $0[1] }) == ["ResNet", "plain", "shallow plain"])
        for row in rows {
            let value = Double(row[4])!
            switch row[0] {
            case "final_train_loss": #expect(value.isFinite && value > 0 && value < 10, "\(row)")
            case "test_error", "delete_one_error", "delete_random_error", "path_length_fraction", "path_contribution":
                #expect(value >= 0 && value <= 1, "\(row)")
            case "path_gradient_norm": #expect(value.isFinite && value >= 0, "\(row)")
            default: Issue.record("unexpected measure \(row)")
            }
            if row[0].hasPrefix("path") { #expect(row[1] == "ResNet", "\(row)") }
        }
        for seed in ["0", "1"] {
            for measure in ["path_length_fraction", "path_contribution"] {
                let total = rows.filter { $0[0] == measure && $0[2] == seed }.reduce(0) { $0 + Double($1[4])! }
                #expect(abs(total - 1) < 1e-6, "\(measure) of seed \(seed) sums to \(total)")
            }
        }
    }

    @Test func shortTrainingExperimentsNameMissingData() throws {
        for name in ["ensembles"] {
            let directory = temporaryPath("experiment-\(name)-nodata")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let result = try runLab(["experiment", name, "--quick", "--out", directory, "--data", directory + "/nonexistent"])
            #expect(result.status == 1 && result.standardError.contains(name) && result.standardError.contains("nonexistent"),
                    "\(result.standardError)")
        }
    }
}
