import Datasets

/// The image data sets experiments train on.
public enum ImageDataSet: String, Codable, Sendable, CaseIterable {
    /// LeCun et al.'s handwritten digits.
    case mnist
    /// Xiao et al.'s clothing images, MNIST's format.
    case fashionMNIST = "fashion-mnist"

    /// The per-channel normalisation used with it.
    public var normalization: Normalization {
        switch self {
        case .mnist: return .mnist
        case .fashionMNIST: return .fashionMNIST
        }
    }
}

/// Which images of a data set an experiment uses: the first `train` training and `test` test
/// images, each averaged over `downsampling`×`downsampling` squares (2 gives 14×14 MNIST images
/// for quick versions that run in debug builds).
public struct DataSubset: Codable, Sendable, Equatable {
    /// The data set.
    public var dataSet: ImageDataSet
    /// How many training images, from the first.
    public var train: Int
    /// How many test images, from the first.
    public var test: Int
    /// The side of the squares averaged into one pixel (1: the images as they are).
    public var downsampling: Int

    /// A subset; the whole data set with `train: .max, test: .max`.
    public init(_ dataSet: ImageDataSet, train: Int, test: Int, downsampling: Int = 1) {
        (self.dataSet, self.train, self.test, self.downsampling) = (dataSet, train, test, downsampling)
    }
}

/// A subset's training and test images.
public struct ExperimentImages: Sendable {
    /// The training images.
    public let train: ImageSet
    /// The test images.
    public let test: ImageSet
}

/// Where experiments find their data: `--data DIR`, else `$TAPE_DATA`, else ../shared/data.
public final class ExperimentData {
    /// The explicit data directory (`--data`), if any.
    public let explicitDirectory: String?
    private var cache: [ImageDataSet: (train: ImageSet, test: ImageSet)] = [:]

    /// Data from `explicitDirectory`, else `$TAPE_DATA`, else ../shared/data.
    public init(directory explicitDirectory: String? = nil) {
        self.explicitDirectory = explicitDirectory
    }

    /// The images of `subset`; a data set that cannot be loaded is an `ExperimentError.missingData`
    /// naming the experiment.
    public func images(_ subset: DataSubset, for experiment: String) throws -> ExperimentImages {
        let full: (train: ImageSet, test: ImageSet)
        if let cached = cache[subset.dataSet] {
            full = cached
        } else {
            do {
                let directory = try DataDirectory.resolve(explicit: explicitDirectory)
                switch subset.dataSet {
                case .mnist: full = (try MNIST.load(.train, from: directory), try MNIST.load(.test, from: directory))
                case .fashionMNIST: full = (try FashionMNIST.load(.train, from: directory), try FashionMNIST.load(.test, from: directory))
                }
            } catch {
                throw ExperimentError.missingData(experiment: experiment, detail: "\(subset.dataSet.rawValue): \(error)")
            }
            cache[subset.dataSet] = full
        }
        return ExperimentImages(train: averagePooled(full.train.prefix(subset.train), by: subset.downsampling),
                                test: averagePooled(full.test.prefix(subset.test), by: subset.downsampling))
    }
}

/// Each image averaged over non-overlapping `factor`×`factor` squares (a trailing partial row or
/// column is dropped).
func averagePooled(_ set: ImageSet, by factor: Int) -> ImageSet {
    guard factor > 1 else { return set }
    let (height, width) = (set.height / factor, set.width / factor)
    var pixels = [Float](repeating: 0, count: set.count * set.channels * height * width)
    let scale = 1 / Float(factor * factor)
    for plane in 0..<(set.count * set.channels) {
        let source = plane * set.height * set.width, target = plane * height * width
        for y in 0..<height {
            for x in 0..<width {
                var sum: Float = 0
                for dy in 0..<factor {
                    for dx in 0..<factor { sum += set.images[source + (y * factor + dy) * set.width + x * factor + dx] }
                }
                pixels[target + y * width + x] = sum * scale
            }
        }
    }
    return ImageSet(name: set.name + " (\(height)×\(width))", images: pixels, labels: set.labels, channels: set.channels,
                    height: height, width: width, classCount: set.classCount)
}
