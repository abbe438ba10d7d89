/// The file layout shared by MNIST and Fashion-MNIST: four IDX files, optionally gzipped, in one
/// folder of the data directory.
struct IDXDatasetLayout: Sendable {
    let name: String
    let folder: String
    let classCount: Int
    /// Published SHA-256 of each gzipped file, by file name.
    let sha256: [String: String]

    static func imagesFile(_ split: Split) -> String {
        split == .train ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte"
    }

    static func labelsFile(_ split: Split) -> String {
        split == .train ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte"
    }

    func load(_ split: Split, from data: DataDirectory, verifyChecksums: Bool) throws(DatasetError) -> ImageSet {
        let imagesPath = try data.gzippedOrPlainFile(folder + "/" + Self.imagesFile(split))
        let labelsPath = try data.gzippedOrPlainFile(folder + "/" + Self.labelsFile(split))
        var imagesSHA256: String?
        var labelsSHA256: String?
        if verifyChecksums {
            imagesSHA256 = try publishedChecksum(imagesPath)
            labelsSHA256 = try publishedChecksum(labelsPath)
        }
        return try IDX.loadImageSet(
            name: "\(name) \(split.rawValue)", imagesPath: imagesPath, labelsPath: labelsPath,
            classCount: classCount, imagesSHA256: imagesSHA256, labelsSHA256: labelsSHA256)
    }

    private func publishedChecksum(_ path: String) throws(DatasetError) -> String {
        let fileName = String(path.split(separator: "/").last ?? "")
        guard let checksum = sha256[fileName] else { throw .checksumUnknown(path: path) }
        return checksum
    }
}

/// MNIST handwritten digits: 28×28 grayscale, 10 classes, 60000 train and 10000 test images,
/// read from the `mnist/` folder of the data directory.
public enum MNIST {
    static let layout = IDXDatasetLayout(
        name: "MNIST", folder: "mnist", classCount: 10,
        sha256: [
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ])

    /// Loads one split from `mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`.
    ///
    /// - Parameter verifyChecksums: check the gzipped files against their published SHA-256
    ///   (throws `DatasetError.checksumUnknown` for uncompressed copies, which have none).
    public static func load(_ split: Split, from data: DataDirectory, verifyChecksums: Bool = false) throws(DatasetError) -> ImageSet {
        try layout.load(split, from: data, verifyChecksums: verifyChecksums)
    }
}

/// Fashion-MNIST (Zalando): 28×28 grayscale clothing, 10 classes, 60000 train and 10000 test
/// images, read from the `fashion-mnist/` folder of the data directory.
public enum FashionMNIST {
    /// The class names, by label.
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    static let layout = IDXDatasetLayout(
        name: "Fashion-MNIST", folder: "fashion-mnist", classCount: 10,
        sha256: [
            "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        ])

    /// Loads one split from `fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`.
    ///
    /// - Parameter verifyChecksums: as for `MNIST.load`.
    public static func load(_ split: Split, from data: DataDirectory, verifyChecksums: Bool = false) throws(DatasetError) -> ImageSet {
        try layout.load(split, from: data, verifyChecksums: verifyChecksums)
    }
}
