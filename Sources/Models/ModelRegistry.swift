import NN
import Tape

/// A model name that the registry does not know.
public struct UnknownModelError: Error, CustomStringConvertible, Sendable {
    public let name: String
    public var description: String {
        "unknown model '\(name)'; known models: \(ModelRegistry.names.joined(separator: ", ")) (highway-mnist-D and plain-mnist-D take any depth D ≥ 1)"
    }
}

/// Every named model: what `lab` builds from a name.
public enum ModelRegistry {
    public struct Entry: Sendable {
        public let name: String
        /// [C, H, W] of one input image.
        public let inputShape: [Int]
        public let classes: Int
        public let summary: String

        /// Why images of shape [C, H, W] do not fit this model, or nil when they do. The MNIST
        /// models (the seed ResNet's 28×28 pool, the dense highway nets) need exactly
        /// `inputShape`; the convolutional nets pool globally and take any size from 8×8.
        public func mismatch(imageShape shape: [Int]) -> String? {
            guard shape.count == 3, shape[0] == inputShape[0] else {
                return "\(name) takes [\(inputShape[0]), H, W] images, not \(shape)"
            }
            let exactSize = name.hasPrefix("mnist") || name.contains("-mnist-")
            if exactSize && shape != inputShape { return "\(name) takes \(inputShape) images, not \(shape)" }
            if !exactSize && (shape[1] < 8 || shape[2] < 8) { return "\(name) needs images of at least 8×8, not \(shape)" }
            return nil
        }
    }

    public static let cifarDepths = [20, 32, 44, 56, 110, 1202]
    public static let plainDepths = [20, 32, 44, 56]

    public static var entries: [Entry] {
        [Entry(name: "mnist-resnet", inputShape: [1, 28, 28], classes: 10, summary: "Fleuret's MNIST ResNet: 25 blocks × 16 channels, 3×3"),
         Entry(name: "mnist-plain", inputShape: [1, 28, 28], classes: 10, summary: "its plain twin (no shortcuts)")]
            + cifarDepths.map { Entry(name: "resnet\($0)", inputShape: [3, 32, 32], classes: 10, summary: "CIFAR ResNet-\($0), option A (He et al. 2015)") }
            + plainDepths.map { Entry(name: "plain\($0)", inputShape: [3, 32, 32], classes: 10, summary: "CIFAR plain-\($0)") }
            + ImageNetResNet.Depth.allCases.map { Entry(name: "resnet\($0.rawValue)", inputShape: [3, 224, 224], classes: 1000, summary: "torchvision ResNet-\($0.rawValue)") }
            + [Entry(name: "preact-resnet110", inputShape: [3, 32, 32], classes: 10, summary: "pre-activation ResNet-110, basic blocks (He et al. 2016)"),
               Entry(name: "preact-resnet164", inputShape: [3, 32, 32], classes: 10, summary: "pre-activation ResNet-164, bottlenecks"),
               Entry(name: "preact-resnet1001", inputShape: [3, 32, 32], classes: 10, summary: "pre-activation ResNet-1001, bottlenecks")]
            + [10, 20, 50, 100].flatMap { depth in
                [Entry(name: "highway-mnist-\(depth)", inputShape: [1, 28, 28], classes: 10, summary: "dense highway net, \(depth) layers of 50 (Srivastava et al. 2015)"),
                 Entry(name: "plain-mnist-\(depth)", inputShape: [1, 28, 28], classes: 10, summary: "plain twin, \(depth) layers of 71")]
            }
    }

    public static var names: [String] { entries.map(\.name) }

    /// The entry for a name (including highway/plain MNIST nets of any depth).
    public static func entry(named name: String) throws(UnknownModelError) -> Entry {
        if let entry = entries.first(where: { $0.name == name }) { return entry }
        if let depth = mnistDenseDepth(name) {
            return Entry(name: name, inputShape: [1, 28, 28], classes: 10, summary: "dense \(name.hasPrefix("highway") ? "highway" : "plain") net, \(depth) layers")
        }
        throw UnknownModelError(name: name)
    }

    /// Builds a model by name, deterministically from `seed`.
    public static func make(_ name: String, seed: UInt64 = 0) throws(UnknownModelError) -> Layer {
        _ = try entry(named: name)
        switch name {
        case "mnist-resnet": return MNISTResNet(seed: seed)
        case "mnist-plain": return MNISTResNet(residual: false, seed: seed)
        case "preact-resnet110":
            return CIFARResNet(depth: 110, configuration: CIFARConfiguration(shortcut: .projection, placement: .fullPreActivation), seed: seed)
        case "preact-resnet164": return PreActResNet(depth: 164, seed: seed)
        case "preact-resnet1001": return PreActResNet(depth: 1001, seed: seed)
        default: break
        }
        if let depth = mnistDenseDepth(name) { return HighwayNetwork(depth: depth, highway: name.hasPrefix("highway"), seed: seed) }
        if name.hasPrefix("plain"), let depth = Int(name.dropFirst(5)) {
            return CIFARResNet(depth: depth, configuration: CIFARConfiguration(residual: false), seed: seed)
        }
        let depth = Int(name.dropFirst(6))!
        if let imageNet = ImageNetResNet.Depth(rawValue: depth) { return ImageNetResNet(depth: imageNet, seed: seed) }
        return CIFARResNet(depth: depth, seed: seed)
    }

    private static func mnistDenseDepth(_ name: String) -> Int? {
        for prefix in ["highway-mnist-", "plain-mnist-"] where name.hasPrefix(prefix) {
            if let depth = Int(name.dropFirst(prefix.count)), depth >= 1, depth <= 10_000 { return depth }
        }
        return nil
    }
}
