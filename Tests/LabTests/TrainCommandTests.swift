import Foundation
import SafeTensors
import Testing

/// The data directory CI has beside the repository.
let sharedData = FileManager.default.currentDirectoryPath + "/../shared/data"

@Suite("lab train", .serialized, .enabled(if: FileManager.default.fileExists(atPath: sharedData + "/mnist"), "needs ../shared/data"))
struct TrainCommandTests {
    @Test func interruptWritesACheckpointAndResumeContinues() throws {
        let directory = temporaryPath("interrupted-run")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = Process()
        process.executableURL = builtExecutable("lab")
        process.arguments = ["train", "--model", "highway-mnist-2", "--dataset", "mnist", "--epochs", "1000", "--limit", "512",
                             "--test-limit", "64", "--batch-size", "16", "--lr", "0.05", "--out", directory, "--data", sharedData]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Wait until training runs (the first epoch's checkpoint exists), then press Ctrl-C.
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: directory + "/metrics.csv") && Date() < deadline { usleep(50_000) }
        process.interrupt()
        // A child that ignores Ctrl-C must fail the test, not hang it.
        let exitDeadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < exitDeadline { usleep(50_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let log = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 130, "\(log)")
        #expect(log.contains("interrupted: checkpoint written"))
        let checkpoint = try SafeTensorsFile(contentsOf: directory + "/checkpoint.safetensors")
        let epoch = Int(checkpoint.metadata["epoch"] ?? "") ?? -1
        #expect(epoch >= 1 && checkpoint.metadata["config.model"] == "highway-mnist-2")
        #expect(try !FileManager.default.contentsOfDirectory(atPath: directory).contains { $0.contains(".tmp-") })

        // Resuming with missing data names the directory; starting over an existing run points to --resume.
        let resumed = try runLab(["train", "--resume", directory, "--data", sharedData + "/nonexistent"])
        #expect(resumed.status == 1 && resumed.standardError.contains("nonexistent"))
        let again = try runLab(["train", "--model", "highway-mnist-2", "--dataset", "mnist", "--out", directory, "--data", sharedData])
        #expect(again.status == 1 && again.standardError.contains("--resume"))
        let threads = try runLab(["train", "--resume", directory, "--threads", "0"])
        #expect(threads.status == 1 && threads.standardError.contains("--threads must be a positive integer, got '0'"))
    }

    /// Warm-up at 0.01 for the first epoch (4 steps; the window is full and the error below 100%
    /// after its last step), then a learning rate of 10³⁰: epoch 2 diverges. The run stops with
    /// status 1 naming the step, and the checkpoint is still epoch 1's.
    @Test func aDivergedRunFailsAndKeepsTheLastGoodCheckpoint() throws {
        let directory = temporaryPath("diverged-run")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try runLab(["train", "--model", "highway-mnist-2", "--dataset", "mnist", "--epochs", "3", "--limit", "64",
                                 "--test-limit", "16", "--batch-size", "16", "--lr", "1e30", "--warmup", "0.01:1:4", "--out", directory,
                                 "--data", sharedData])
        #expect(result.status == 1, "\(result.standardOutput)\n\(result.standardError)")
        #expect(result.standardError.contains("lab: error: training diverged at epoch 2, step "), "\(result.standardError)")
        #expect(result.standardError.contains("the last good checkpoint, \(directory)/checkpoint.safetensors, is kept (from the end of epoch 1)"))
        let checkpoint = try SafeTensorsFile(contentsOf: directory + "/checkpoint.safetensors")
        #expect(checkpoint.metadata["epoch"] == "1" && checkpoint.metadata["global_step"] == "4" && checkpoint.metadata["warmup_done"] == "true")
        for name in checkpoint.names where name.hasPrefix("model.") && checkpoint[name]!.dtype == .float32 {
            #expect(checkpoint[name]!.floats().allSatisfy { $0.isFinite }, "\(name)")
        }
        let metrics = try String(contentsOfFile: directory + "/metrics.csv", encoding: .utf8)
        #expect(metrics.split(separator: "\n").count == 2, "\(metrics)")
    }

    /// A run stopped right after the last step of epoch 1 and resumed writes epoch 1's row with
    /// the whole epoch's training loss and accuracy (kept in the checkpoint), as a straight run does.
    @Test func stoppedAtTheLastStepOfAnEpochTheResumedRowMatchesTheStraightRun() throws {
        let straight = temporaryPath("straight-run"), sliced = temporaryPath("sliced-run")
        defer { for path in [straight, sliced] { try? FileManager.default.removeItem(atPath: path) } }
        let common = ["train", "--model", "highway-mnist-2", "--dataset", "mnist", "--epochs", "2", "--limit", "64", "--test-limit", "16",
                      "--batch-size", "16", "--lr", "0.05", "--data", sharedData]
        let whole = try runLab(common + ["--out", straight])
        #expect(whole.status == 0, "\(whole.standardError)")
        let stopped = try runLab(common + ["--out", sliced, "--stop-at-step", "4"])
        #expect(stopped.status == 0 && stopped.standardOutput.contains("stopped: checkpoint written to \(sliced)/checkpoint.safetensors at epoch 1, step 4"),
                "\(stopped.standardOutput)\n\(stopped.standardError)")
        #expect(!FileManager.default.fileExists(atPath: sliced + "/metrics.csv"))
        let resumed = try runLab(["train", "--resume", sliced])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        let expected = try metricsRows(straight), actual = try metricsRows(sliced)
        #expect(actual.count == 2 && actual.map(\.deterministic) == expected.map(\.deterministic), "\(actual) vs \(expected)")
        #expect(actual.first.map { $0.deterministic[2] != "0.0" && Double($0.imagesPerSecond)! > 0 } == true, "\(actual)")
    }

    /// `--profile` prints the time per op of the run and writes it to RUN_DIR/profile.txt.
    @Test func profileListsTheOpsOfTheRun() throws {
        let directory = temporaryPath("profiled-run")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try runLab(["train", "--model", "highway-mnist-2", "--dataset", "mnist", "--epochs", "1", "--limit", "64",
                                 "--test-limit", "16", "--batch-size", "16", "--out", directory, "--data", sharedData, "--profile"])
        #expect(result.status == 0, "\(result.standardError)")
        let table = try String(contentsOfFile: directory + "/profile.txt", encoding: .utf8)
        // highway-mnist-2's layers are dense: matmul forward and backward, gates through sigmoid.
        for expected in ["matmul", "sigmoid", "forward", "backward", "total (wall)"] {
            #expect(table.contains(expected) && result.standardOutput.contains(expected), "\(expected) missing:\n\(table)")
        }
    }

    /// `--resume` without `--data` uses the directory the run was started with; when it is gone
    /// the error says which `--data` to pass; `--data` overrides it.
    @Test func resumeRemembersTheDataDirectory() throws {
        let data = temporaryPath("data-copy"), run = temporaryPath("remembered-data-run")
        defer { for path in [data, run] { try? FileManager.default.removeItem(atPath: path) } }
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: data + "/mnist", withDestinationPath: sharedData + "/mnist")
        let dataPath = URL(fileURLWithPath: data).resolvingSymlinksInPath().path
        let started = try runLab(["train", "--model", "highway-mnist-2", "--dataset", "mnist", "--epochs", "2", "--limit", "32",
                                  "--test-limit", "16", "--batch-size", "16", "--out", run, "--data", data, "--stop-at-step", "1"])
        #expect(started.status == 0, "\(started.standardError)")
        let remembered = try runLab(["train", "--resume", run, "--stop-at-step", "2"])
        #expect(remembered.status == 0 && remembered.standardOutput.contains("(data from \(dataPath))"),
                "\(remembered.standardOutput)\n\(remembered.standardError)")
        try FileManager.default.removeItem(atPath: data)
        let gone = try runLab(["train", "--resume", run])
        #expect(gone.status == 1 && gone.standardError.contains(
            "this run's data directory \(dataPath) (remembered in its checkpoint) no longer exists; "
                + "resume with lab train --resume \(run) --data DIR, where DIR is the directory holding mnist/"), "\(gone.standardError)")
        let overridden = try runLab(["train", "--resume", run, "--data", sharedData])
        #expect(overridden.status == 0 && overridden.standardOutput.contains("(data from \(sharedData))"), "\(overridden.standardError)")
        let checkpoint = try SafeTensorsFile(contentsOf: run + "/checkpoint.safetensors")
        #expect(checkpoint.metadata["lab.data"] == URL(fileURLWithPath: sharedData).resolvingSymlinksInPath().path)
    }
}

/// A metrics.csv row: the columns that a resume must reproduce exactly, and images per second.
struct MetricsRow: CustomStringConvertible {
    var deterministic: [String]
    var imagesPerSecond: String
    var description: String { deterministic.joined(separator: ",") + " (\(imagesPerSecond) img/s)" }
}

/// The rows of a run's metrics.csv: epoch, step, train loss and accuracy, test loss and accuracy,
/// learning rate (not the timings).
func metricsRows(_ runDirectory: String) throws -> [MetricsRow] {
    let text = try String(contentsOfFile: runDirectory + "/metrics.csv", encoding: .utf8)
    return text.split(separator: "\n").dropFirst().map { line in
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return MetricsRow(deterministic: Array(fields.prefix(7)), imagesPerSecond: fields.count > 8 ? fields[8] : "")
    }
}
