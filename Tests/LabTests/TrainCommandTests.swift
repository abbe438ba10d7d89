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
}
