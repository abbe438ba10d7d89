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
        #expect(report.contains("**Claim**") && report.contains("**Setup.**") && report.contains("**Verdict.**"))
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
