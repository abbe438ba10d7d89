import NN
import Tape

/// A model name that the registry does not know.
public struct UnknownModelError: Error, CustomStringConvertible, Sendable {
    /// The name asked for.
    public let name: String
    /// The description lists every known name, so the caller can pick one.
    public var description: String {
        "unknown model '\(name)'; known models: \(ModelRegistry.names.joined(separator: ", "))"
    }
}

/// Every named model: what `lab` builds from a name. One table, one row per name; adding a
/// model is its family's file plus one row in `entries`.
public enum ModelRegistry {
    /// Which image sizes a model takes.
    public enum InputSize: Sendable, Hashable {
        /// Exactly the entry's `inputShape` (a fixed pooling window, or a dense first layer).
        case exact
        /// Any height and width of at least this many pixels (global average pooling).
        case atLeast(Int)
    }

    /// One row of the table.
    public struct Entry: Sendable {
        /// The name `lab` and `TrainingConfiguration` use.
        public let name: String
        /// [C, H, W] of one input image.
        public let inputShape: [Int]
        /// Which image sizes besides `inputShape` fit.
        public let inputSize: InputSize
        /// The number of outputs (logits).
        public let classes: Int
        /// Trainable scalars, as counted from the reference (PyTorch) definition and listed in the
        /// README; the tests build every row and compare.
        public let parameterCount: Int
        /// One line for `lab models`.
        public let summary: String
        /// The paper (or lecture) the model follows, with a link.
        public let citation: String
        let build: @Sendable (_ seed: UInt64) -> Layer

        /// Builds the model deterministically from `seed`.
        public func make(seed: UInt64 = 0) -> Layer { build(seed) }

        /// Why images of shape [C, H, W] do not fit this model, or nil when they do. The MNIST
        /// models (the seed ResNet's 28×28 pool, the dense highway nets) need exactly
        /// `inputShape`; the convolutional nets pool globally and take any size from 8×8.
        public func mismatch(imageShape shape: [Int]) -> String? {
            guard shape.count == 3, shape[0] == inputShape[0] else {
                return "\(name) takes [\(inputShape[0]), H, W] images, not \(shape)"
            }
            switch inputSize {
            case .exact where shape != inputShape:
                return "\(name) takes \(inputShape) images, not \(shape)"
            case .atLeast(let side) where shape[1] < side || shape[2] < side:
                return "\(name) needs images of at least \(side)×\(side), not \(shape)"
            default:
                return nil
            }
        }
    }

    /// Every model, in the order `lab models` lists them.
    public static let entries: [Entry] = [
        mnist("mnist-resnet", parameters: 117_802, summary: "Fleuret's MNIST ResNet: 25 blocks × 16 channels, 3×3") { MNISTResNet(seed: $0) },
        mnist("mnist-plain", parameters: 117_802, summary: "its plain twin (no shortcuts)") { MNISTResNet(residual: false, seed: $0) },
        cifarResNet(20, parameters: 269_722),
        cifarResNet(32, parameters: 464_154),
        cifarResNet(44, parameters: 658_586),
        cifarResNet(56, parameters: 853_018),
        cifarResNet(110, parameters: 1_727_962),
        cifarResNet(1202, parameters: 19_421_274),
        cifarPlain(20, parameters: 269_722),
        cifarPlain(32, parameters: 464_154),
        cifarPlain(44, parameters: 658_586),
        cifarPlain(56, parameters: 853_018),
        imageNetResNet(.d18, parameters: 11_689_512),
        imageNetResNet(.d34, parameters: 21_797_672),
        imageNetResNet(.d50, parameters: 25_557_032),
        imageNetResNet(.d101, parameters: 44_549_160),
        imageNetResNet(.d152, parameters: 60_192_808),
        cifar("preact-resnet110", parameters: 1_730_522, summary: "pre-activation ResNet-110, basic blocks (He et al. 2016)",
              citation: Citation.identityMappings) {
            CIFARResNet(depth: 110, configuration: CIFARConfiguration(shortcut: .projection, placement: .fullPreActivation), seed: $0)
        },
        cifar("preact-resnet164", parameters: 1_703_258, summary: "pre-activation ResNet-164, bottlenecks",
              citation: Citation.identityMappings) { PreActResNet(depth: 164, seed: $0) },
        cifar("preact-resnet1001", parameters: 10_327_706, summary: "pre-activation ResNet-1001, bottlenecks",
              citation: Citation.identityMappings) { PreActResNet(depth: 1001, seed: $0) },
        highwayMNIST(depth: 2, parameters: 49_960), plainMNIST(depth: 2, parameters: 49_895),
        highwayMNIST(depth: 3, parameters: 55_060), plainMNIST(depth: 3, parameters: 55_243),
        highwayMNIST(depth: 10, parameters: 90_760), plainMNIST(depth: 10, parameters: 90_415),
        highwayMNIST(depth: 20, parameters: 141_760), plainMNIST(depth: 20, parameters: 140_920),
        highwayMNIST(depth: 50, parameters: 294_760), plainMNIST(depth: 50, parameters: 296_365),
        highwayMNIST(depth: 100, parameters: 549_760), plainMNIST(depth: 100, parameters: 552_660),
    ]

    /// Every name, in table order.
    public static var names: [String] { entries.map(\.name) }

    /// The entry for a name.
    public static func entry(named name: String) throws(UnknownModelError) -> Entry {
        guard let entry = entries.first(where: { $0.name == name }) else { throw UnknownModelError(name: name) }
        return entry
    }

    /// Builds a model by name, deterministically from `seed`.
    public static func make(_ name: String, seed: UInt64 = 0) throws(UnknownModelError) -> Layer {
        try entry(named: name).make(seed: seed)
    }
}

// The rows' builders: one per family, so each row states only what differs.
extension ModelRegistry {
    private enum Citation {
        static let lecture = "F. Fleuret, Deep Learning course, lecture 6.5 \"Residual networks\", https://fleuret.org/dlc/"
        static let deepResidual = "He et al., Deep Residual Learning for Image Recognition, CVPR 2016, https://arxiv.org/abs/1512.03385"
        static let identityMappings = "He et al., Identity Mappings in Deep Residual Networks, ECCV 2016, https://arxiv.org/abs/1603.05027"
        static let highway = "Srivastava, Greff & Schmidhuber, Training Very Deep Networks, NIPS 2015, https://arxiv.org/abs/1507.06228"
    }

    private static func mnist(_ name: String, parameters: Int, summary: String, citation: String = Citation.lecture,
                              build: @escaping @Sendable (UInt64) -> Layer) -> Entry {
        Entry(name: name, inputShape: [1, 28, 28], inputSize: .exact, classes: 10, parameterCount: parameters,
              summary: summary, citation: citation, build: build)
    }

    private static func cifar(_ name: String, parameters: Int, summary: String, citation: String,
                              build: @escaping @Sendable (UInt64) -> Layer) -> Entry {
        Entry(name: name, inputShape: [3, 32, 32], inputSize: .atLeast(8), classes: 10, parameterCount: parameters,
              summary: summary, citation: citation, build: build)
    }

    private static func cifarResNet(_ depth: Int, parameters: Int) -> Entry {
        cifar("resnet\(depth)", parameters: parameters, summary: "CIFAR ResNet-\(depth), option A (He et al. 2015)",
              citation: Citation.deepResidual) { CIFARResNet(depth: depth, seed: $0) }
    }

    private static func cifarPlain(_ depth: Int, parameters: Int) -> Entry {
        cifar("plain\(depth)", parameters: parameters, summary: "CIFAR plain-\(depth)", citation: Citation.deepResidual) {
            CIFARResNet(depth: depth, configuration: CIFARConfiguration(residual: false), seed: $0)
        }
    }

    private static func imageNetResNet(_ depth: ImageNetResNet.Depth, parameters: Int) -> Entry {
        Entry(name: "resnet\(depth.rawValue)", inputShape: [3, 224, 224], inputSize: .atLeast(8), classes: 1000,
              parameterCount: parameters, summary: "torchvision ResNet-\(depth.rawValue)", citation: Citation.deepResidual) {
            ImageNetResNet(depth: depth, seed: $0)
        }
    }

    private static func highwayMNIST(depth: Int, parameters: Int) -> Entry {
        mnist("highway-mnist-\(depth)", parameters: parameters, summary: "dense highway net, \(depth) layers of 50 (Srivastava et al. 2015)",
              citation: Citation.highway) { HighwayNetwork(depth: depth, seed: $0) }
    }

    private static func plainMNIST(depth: Int, parameters: Int) -> Entry {
        mnist("plain-mnist-\(depth)", parameters: parameters, summary: "plain twin of highway-mnist-\(depth), as many parameters",
              citation: Citation.highway) { HighwayNetwork(depth: depth, highway: false, seed: $0) }
    }
}
