import Foundation
import Testing

/// `lab experiment` is a thin shell over the Experiments library (whose experiments are tested
/// in process in ExperimentsTests): these check the shell — names, options, files, messages.
@Suite("lab experiment", .serialized)
struct ExperimentTests {
    @Test func listAndUnknown() throws {
        let list = try runLab(["experiment", "list"])
        for name in ["shattering", "exploding", "ensembles", "hessian", "identity-mappings", "highway", "stochastic-depth", "looks-linear"] {
            #expect(list.status == 0 && list.standardOutput.contains(name), "\(name) missing from \(list.standardOutput)")
        }
        let unknown = try runLab(["experiment", "shatering"])
        #expect(unknown.status == 1 && unknown.standardError.contains("unknown experiment 'shatering'"))
        let seeds = try runLab(["experiment", "exploding", "--seeds", "0"])
        #expect(seeds.status == 1 && seeds.standardError.contains("--seeds must be at least 1"))
    }

    /// A quick run writes the report, CSV, results and plot and prints the verdict; running it
    /// again reads every unit back (no unit is measured twice) and gives the same results.
    @Test func quickRunWritesItsFilesAndResumes() throws {
        let directory = temporaryPath("experiment-exploding")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try runLab(["experiment", "exploding", "--quick", "--seeds", "1", "--out", directory])
        #expect(first.status == 0, "\(first.standardError)")
        for file in ["exploding.md", "exploding.csv", "exploding.json", "exploding-gsc.svg", "exploding.units/setup.json"] {
            #expect(FileManager.default.fileExists(atPath: directory + "/" + file), "missing \(file)")
        }
        #expect(first.standardOutput.contains("units,") && first.standardOutput.contains("exploding: "))
        let report = try String(contentsOfFile: directory + "/exploding.md", encoding: .utf8)
        #expect(report.contains("**Claim**") && report.contains("**Setup.**") && report.contains("**Verdict: "))
        let results = try String(contentsOfFile: directory + "/exploding.json", encoding: .utf8)
        let again = try runLab(["experiment", "exploding", "--quick", "--seeds", "1", "--out", directory])
        #expect(again.status == 0 && !again.standardOutput.contains("units,"), "\(again.standardOutput)")
        #expect(try String(contentsOfFile: directory + "/exploding.json", encoding: .utf8) == results)
        // Another setup in the same directory is refused rather than mixed in.
        let other = try runLab(["experiment", "exploding", "--quick", "--seeds", "2", "--out", directory])
        #expect(other.status == 1 && other.standardError.contains("different setup"), "\(other.standardError)")
    }

    @Test func trainingExperimentsNameMissingData() throws {
        for name in ["ensembles", "identity-mappings", "highway", "stochastic-depth", "looks-linear"] {
            let directory = temporaryPath("experiment-\(name)-nodata")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let result = try runLab(["experiment", name, "--quick", "--out", directory, "--data", directory + "/nonexistent"])
            #expect(result.status == 1 && result.standardError.contains(name) && result.standardError.contains("nonexistent"),
                    "\(result.standardError)")
        }
    }
}
