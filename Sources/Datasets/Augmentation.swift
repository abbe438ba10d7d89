import SeededRandom

/// Random training-time changes to each image of a batch, drawn from the loader's seeded
/// generator. They apply to the [0, 1] pixels, before normalisation.
public struct Augmentation: Sendable, Equatable {
    /// Pad each side with this many zero (black) pixels, then crop a random window of the
    /// original size back out; 0 disables the crop.
    public var cropPadding: Int
    /// Mirror each image left to right with probability 1/2.
    public var horizontalFlip: Bool

    /// - Precondition: `cropPadding >= 0`.
    public init(cropPadding: Int = 0, horizontalFlip: Bool = false) {
        precondition(cropPadding >= 0, "crop padding cannot be negative")
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
    }

    /// No augmentation.
    public static let none = Augmentation()
    /// The usual CIFAR recipe: pad by 4, random 32×32 crop, random horizontal flip.
    public static let padCropFlip = Augmentation(cropPadding: 4, horizontalFlip: true)

    /// Whether this changes anything at all.
    public var isIdentity: Bool { cropPadding == 0 && !horizontalFlip }

    /// Writes an augmented copy of one C×H×W `image` to `output`, drawing the crop offset and
    /// the flip from `generator` (three draws per image, whatever is enabled).
    func apply(
        to image: UnsafeBufferPointer<Float>, channels: Int, height: Int, width: Int,
        output: UnsafeMutableBufferPointer<Float>, using generator: inout SplitMix64
    ) {
        let span = UInt64(2 * cropPadding + 1)
        let shiftY = Int(generator.next() % span) - cropPadding
        let shiftX = Int(generator.next() % span) - cropPadding
        let flip = generator.next() >> 63 == 1 && horizontalFlip
        for channel in 0..<channels {
            let plane = channel * height * width
            for y in 0..<height {
                let sourceY = y + shiftY
                for x in 0..<width {
                    let croppedX = flip ? width - 1 - x : x
                    let sourceX = croppedX + shiftX
                    let inside = sourceY >= 0 && sourceY < height && sourceX >= 0 && sourceX < width
                    output[plane + y * width + x] = inside ? image[plane + sourceY * width + sourceX] : 0
                }
            }
        }
    }
}
