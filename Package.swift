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
        .library(name: "Experiments", targets: ["Experiments"]),
        .executable(name: "lab", targets: ["lab"]),
        .executable(name: "bench", targets: ["bench"]),
    ],
    targets: [
        // Hot loops in C: AVX2+FMA through per-function target attributes and inline asm,
        // chosen at run time, with a portable fallback. No unsafe flags, so the package stays
        // usable as a versioned dependency.
        .target(name: "CKernels"),
        .target(name: "Tape", dependencies: ["CKernels"]),
        .target(name: "SafeTensors"),
        .target(name: "NN", dependencies: ["Tape", "SafeTensors"]),
        .target(name: "Models", dependencies: ["Tape", "NN"]),
        .target(name: "Training", dependencies: ["Tape", "NN", "Models", "SafeTensors", "Datasets", "Plot"]),
        .target(name: "Plot"),
        .target(name: "Instruments", dependencies: ["Tape", "NN", "Models"]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "Datasets", dependencies: ["Tape", "CZlib"]),
        // The papers' experiments as a library: setup, measure, verdict, report.
        .target(name: "Experiments", dependencies: ["Tape", "NN", "Models", "Training", "Instruments", "Plot", "Datasets"]),
        .executableTarget(name: "lab", dependencies: ["Tape", "NN", "Models", "Training", "SafeTensors", "Datasets", "Instruments", "Plot", "Experiments"]),
        .executableTarget(name: "bench", dependencies: ["Tape", "CKernels", "NN", "Models"], path: "Benchmarks/bench"),
        .testTarget(name: "TapeTests", dependencies: ["Tape", "CKernels"]),
        .testTarget(name: "CKernelsTests", dependencies: ["CKernels"]),
        .testTarget(name: "ModelsTests", dependencies: ["Tape", "NN", "Models", "SafeTensors"], resources: [.copy("Fixtures")]),
        // lab and bench are dependencies so that they are built: the tests run them.
        .testTarget(name: "LabTests", dependencies: ["lab", "bench", "Tape", "NN", "Models", "SafeTensors", "Training", "Datasets"]),
        .testTarget(name: "TrainingTests", dependencies: ["Tape", "SafeTensors", "Datasets", "Training"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Models"]),
        .testTarget(name: "PlotTests", dependencies: ["Plot"]),
        .testTarget(name: "InstrumentsTests", dependencies: ["Tape", "NN", "Models", "Instruments"]),
        .testTarget(name: "NNTests", dependencies: ["Tape", "SafeTensors", "NN"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Tape", "Datasets"], resources: [.copy("Fixtures")]),
    ]
)
