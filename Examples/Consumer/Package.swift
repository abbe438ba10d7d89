// swift-tools-version: 6.0
// A package that depends on Tape the way any other package would, built by `.ci/run`: it
// checks that the public API is enough for the README's examples and that tensors cross task
// boundaries under Swift 6's data-race checking.
import PackageDescription

let package = Package(
    name: "Consumer",
    platforms: [.macOS(.v15), .iOS(.v18)],
    dependencies: [
        // In another package: .package(url: "https://github.com/<owner>/Tape.git", from: "<version>")
        .package(name: "Tape", path: "../.."),
    ],
    targets: [
        .executableTarget(name: "Consumer", dependencies: [
            .product(name: "Tape", package: "Tape"),
            .product(name: "NN", package: "Tape"),
            .product(name: "Models", package: "Tape"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
