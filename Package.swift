// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Tape",
    // `Tape` and `Training` use the Synchronization module (`Mutex`, `Atomic`), which Apple
    // platforms ship from these releases on. Linux has no minimum.
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
    products: [
        .library(name: "Tape", targets: ["Tape"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Plot", targets: ["Plot"]),
        .library(name: "Instruments", targets: ["Instruments"]),
        .library(name: "SafeTensors", targets: ["SafeTensors"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "SeededRandom", targets: ["SeededRandom"]),
        .library(name: "Experiments", targets: ["Experiments"]),
        .executable(name: "lab", targets: ["lab"]),
        .executable(name: "bench", targets: ["bench"]),
    ],
    targets: [
        // Hot loops in C: AVX2+FMA through per-function target attributes and inline asm,
        // chosen at run time, with a portable fallback. No unsafe flags, so the package stays
        // usable as a versioned dependency.
        .target(name: "CKernels"),
        // Two tiny dependency-free targets the others share: the seeded generator (which Datasets
        // needs without the tape; Tape names it too) and atomic file replacement (Plot,
        // SafeTensors and Training write files, and Plot and SafeTensors depend on nothing else).
        .target(name: "SeededRandom"),
        .target(name: "FileSupport"),
        .target(name: "Tape", dependencies: ["CKernels", "SeededRandom"]),
        .target(name: "SafeTensors", dependencies: ["FileSupport"]),
        .target(name: "NN", dependencies: ["Tape", "SafeTensors"]),
        .target(name: "Models", dependencies: ["NN", "Tape"]),
        .target(name: "Training", dependencies: ["Models", "NN", "Tape", "SafeTensors", "Datasets", "Plot", "FileSupport"]),
        .target(name: "Plot", dependencies: ["FileSupport"]),
        .target(name: "Instruments", dependencies: ["Models", "NN", "Tape"]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "Datasets", dependencies: ["SeededRandom", "CZlib"]),
        // The papers' experiments as a library: setup, measure, verdict, report.
        .target(name: "Experiments", dependencies: ["Tape", "NN", "Models", "Training", "Instruments", "Plot", "Datasets"]),
        .executableTarget(name: "lab", dependencies: ["Tape", "NN", "Models", "Training", "SafeTensors", "Datasets", "Instruments", "Plot", "Experiments"]),
        .executableTarget(name: "bench", dependencies: ["Tape", "CKernels", "NN", "Models"], path: "Benchmarks/bench"),
        .testTarget(name: "TapeTests", dependencies: ["Tape", "CKernels"]),
        .testTarget(name: "CKernelsTests", dependencies: ["CKernels"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "NN", "Tape", "SafeTensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "LabTests", dependencies: ["lab", "bench", "Models", "NN", "Tape", "SafeTensors", "Training", "Datasets"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Datasets", "NN", "SafeTensors", "Tape"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Datasets", "Instruments", "Models", "NN", "Tape", "Training"]),
        .testTarget(name: "PlotTests", dependencies: ["Plot", "SeededRandom"]),
        .testTarget(name: "InstrumentsTests", dependencies: ["Instruments", "Models", "NN", "Tape"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tape", "SafeTensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "SeededRandom"]),
        .testTarget(name: "FileSupportTests", dependencies: ["FileSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "SeededRandom"], resources: [.copy("Fixtures")]),
    ]
)
