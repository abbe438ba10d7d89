// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Tape",
    products: [
        .library(name: "Tape", targets: ["Tape"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Plot", targets: ["Plot"]),
        .library(name: "Instruments", targets: ["Instruments"]),
        .library(name: "SafeTensors", targets: ["SafeTensors"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .executable(name: "lab", targets: ["lab"]),
        .executable(name: "bench", targets: ["bench"]),
    ],
    targets: [
        // Hot loops in C: AVX2+FMA through per-function target attributes and inline asm,
        // chosen at run time, with a portable fallback. No unsafe flags, so the package stays
        // usable as a versioned dependency.
        .target(name: "CKernels"),
        // Atomic file replacement, shared by the modules that write files (Plot and SafeTensors
        // depend on nothing else, so it is a target of its own with no dependencies).
        .target(name: "FileSupport"),
        .target(name: "Tape", dependencies: ["CKernels"]),
        .target(name: "SafeTensors", dependencies: ["FileSupport"]),
        .target(name: "NN", dependencies: ["Tape", "SafeTensors"]),
        .target(name: "Models", dependencies: ["NN"]),
        .target(name: "Training", dependencies: ["Models", "Datasets", "Plot", "FileSupport"]),
        .target(name: "Plot", dependencies: ["FileSupport"]),
        .target(name: "Instruments", dependencies: ["Models"]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "Datasets", dependencies: ["Tape", "CZlib"]),
        .executableTarget(name: "lab", dependencies: ["Tape", "NN", "Models", "Training", "SafeTensors", "Datasets", "Instruments", "Plot"]),
        .executableTarget(name: "bench", dependencies: ["Tape", "CKernels", "NN", "Models"], path: "Benchmarks/bench"),
        .testTarget(name: "TapeTests", dependencies: ["Tape"]),
        .testTarget(name: "CKernelsTests", dependencies: ["CKernels"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models"], resources: [.copy("Fixtures")]),
        .testTarget(name: "LabTests", dependencies: ["lab", "bench", "Models", "SafeTensors", "Training", "Datasets"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training"]),
        .testTarget(name: "PlotTests", dependencies: ["Plot"]),
        .testTarget(name: "InstrumentsTests", dependencies: ["Instruments"]),
        .testTarget(name: "NNTests", dependencies: ["NN"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"]),
        .testTarget(name: "FileSupportTests", dependencies: ["FileSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets"], resources: [.copy("Fixtures")]),
    ]
)
