import Foundation
import Testing

@Suite("bench --quick (smoke test)")
struct BenchSmokeTests {
    /// Every measure of the issue appears at each thread count, as a JSON object with finite
    /// timings and, where FLOPs are counted, a share of the same-run peak.
    @Test func quickRunReportsEveryMeasure() throws {
        let result = try runBuiltExecutable("bench", ["--quick", "--json"])
        #expect(result.status == 0, "\(result.standardError)")
        var found: [String: Set<Int>] = [:]
        var kernelSets: Set<String> = []
        for line in result.standardOutput.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            let name = try #require(object["name"] as? String), threads = try #require(object["threads"] as? Int)
            found[name, default: []].insert(threads)
            kernelSets.insert(try #require(object["kernels"] as? String, "\(line)"))
            if let bytes = object["peak_rss_bytes"] as? Int {
                #expect(bytes > 10 << 20, "\(name): \(bytes) bytes")
                continue
            }
            let median = try #require(object["median_s"] as? Double), minimum = try #require(object["min_s"] as? Double)
            #expect(median > 0 && minimum > 0 && minimum <= median, "\(line)")
            if let fraction = object["peak_fraction"] as? Double {
                // Loose above: other tests may share the cores while the peak is measured; a FLOP
                // count off by 10× still shows.
                #expect(fraction > 0 && fraction < 3, "\(line)")
                #expect((object["gflops"] as? Double ?? 0) > 0, "\(line)")
            }
        }
        // One kernel set for the whole run, named as ck_kernel_set names it.
        #expect(kernelSets.count == 1 && kernelSets.isSubset(of: ["avx2-fma", "neon", "portable"]), "\(kernelSets)")
        let everywhere = ["fma-peak", "sgemm-256", "sgemm-512", "conv-fwd-seed-8x16x28x28", "conv-bwd-data-seed", "conv-bwd-weight-seed",
                          "conv-fwd-r20-s1-8x16x32x32", "conv-bwd-weight-r20-s3", "batchnorm-fwd-bwd-8x16x28x28",
                          "train-step-mnist-resnet-b8", "train-step-mnist-resnet-b8-checkpointed", "train-step-resnet20-b8",
                          "inference-mnist-resnet-b8"]
        for name in everywhere { #expect(found[name] == [1, 2], "\(name): \(found[name] ?? [])") }
        for name in ["tape-chain-1000-ops-fwd-bwd", "peak-rss-mnist-resnet-train-b32", "peak-rss-mnist-resnet-train-b32-checkpointed"] {
            #expect(found[name] != nil, "\(name) missing")
        }
    }

    @Test func badOptionsFailWithUsage() throws {
        let result = try runBuiltExecutable("bench", ["--threads", "0"])
        #expect(result.status == 2 && result.standardError.contains("--threads needs a number"))
    }
}
