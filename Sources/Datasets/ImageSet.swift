/// A labelled set of images held in memory.
///
/// Pixels are `Float`s in [0, 1] (stored byte / 255, or / 16 for the 8×8 digits), laid out
/// N×C×H×W row-major: image after image, each channel plane after plane, each plane row by row.
public struct ImageSet: Sendable, Equatable {
    /// A human-readable name, such as "MNIST train".
    public let name: String
    /// All pixels, `count × channels × height × width` of them.
    public let images: [Float]
    /// One class index per image, each in `0..<classCount`.
    public let labels: [Int]
    /// Colour channels per image (1 for grayscale, 3 for RGB).
    public let channels: Int
    /// Image height in pixels.
    public let height: Int
    /// Image width in pixels.
    public let width: Int
    /// The number of classes; labels lie in `0..<classCount`.
    public let classCount: Int

    /// Makes an image set from pixels already laid out N×C×H×W.
    ///
    /// - Precondition: `images.count == labels.count * channels * height * width`, the dimensions
    ///   are positive and every label lies in `0..<classCount`. The file readers check all of this
    ///   (and throw) before they get here.
    public init(name: String, images: [Float], labels: [Int], channels: Int, height: Int, width: Int, classCount: Int) {
        precondition(channels > 0 && height > 0 && width > 0, "image dimensions must be positive")
        precondition(images.count == labels.count * channels * height * width, "pixel count does not match labels × C×H×W")
        precondition(labels.allSatisfy { (0..<classCount).contains($0) }, "label outside 0..<classCount")
        self.name = name
        self.images = images
        self.labels = labels
        self.channels = channels
        self.height = height
        self.width = width
        self.classCount = classCount
    }

    /// The number of images.
    public var count: Int { labels.count }

    /// Pixels per image: `channels × height × width`.
    public var pixelsPerImage: Int { channels * height * width }

    /// The pixels of image `index`, C×H×W.
    public func image(at index: Int) -> ArraySlice<Float> {
        images[index * pixelsPerImage..<(index + 1) * pixelsPerImage]
    }

    /// The images in `range`, as a new set (for quick runs and hold-out splits).
    public func subset(_ range: Range<Int>) -> ImageSet {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "subset \(range) outside 0..<\(count)")
        return ImageSet(
            name: "\(name) [\(range.lowerBound)..<\(range.upperBound)]",
            images: Array(images[range.lowerBound * pixelsPerImage..<range.upperBound * pixelsPerImage]),
            labels: Array(labels[range]),
            channels: channels, height: height, width: width, classCount: classCount)
    }

    /// The first `maxCount` images (all of them when there are fewer).
    public func prefix(_ maxCount: Int) -> ImageSet {
        subset(0..<min(max(maxCount, 0), count))
    }
}

/// The two conventional parts of a data set.
public enum Split: String, Sendable, CaseIterable {
    /// The training images.
    case train
    /// The held-out test images.
    case test
}

/// Writes `source[i] / divisor` to `target[i]` for every byte of `source` (the hot loop of every
/// reader, over raw pointers so that it stays quick in debug builds too).
func scalePixels(_ source: UnsafeBufferPointer<UInt8>, dividedBy divisor: Float, into target: UnsafeMutableBufferPointer<Float>) {
    precondition(target.count >= source.count, "pixel buffer too small")
    guard var input = source.baseAddress, var output = target.baseAddress else { return }
    for _ in 0..<source.count {
        output.pointee = Float(input.pointee) / divisor
        input += 1
        output += 1
    }
}
