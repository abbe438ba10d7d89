import Testing
@testable import Datasets

@Suite struct SklearnDigitsTests {
    /// A CSV row: 64 pixels then the label.
    static func row(_ pixels: [String], label: String) -> String {
        (pixels + [label]).joined(separator: ",")
    }

    static let zeros = [String](repeating: "0", count: 64)

    @Test func readsTheFixture() throws {
        let set = try SklearnDigits.load(from: TestData.fixtures)
        #expect(set.count == 100)
        #expect((set.channels, set.height, set.width, set.classCount) == (1, 8, 8, 10))
        #expect(Array(set.labels.prefix(10)) == Array(0..<10))
        // The first row starts 0,0,5,13,9,1,0,0.
        #expect(Array(set.image(at: 0).prefix(8)) == [0, 0, 5, 13, 9, 1, 0, 0].map { Float($0) / 16 })
        #expect(set.images.allSatisfy { (0...1).contains($0) })
    }

    @Test func acceptsCRLFTrailingNewlinesSpacesAndDecimals() throws {
        var pixels = Self.zeros
        pixels[0] = "16"
        pixels[1] = " 8.0 "
        pixels[63] = "4"
        let text = Self.row(pixels, label: "3") + "\r\n" + Self.row(Self.zeros, label: "9.0") + "\r\n\n\n"
        let set = try SklearnDigits.parse(Array(text.utf8), source: "d.csv")
        #expect(set.labels == [3, 9])
        #expect(set.images[0] == 1 && set.images[1] == 0.5 && set.images[63] == 0.25)
        #expect(set.image(at: 1).allSatisfy { $0 == 0 })
    }

    @Test func readsAnUncompressedCSVFromTheDataDirectory() throws {
        let folder = try TemporaryDirectory()
        try folder.write(Array((Self.row(Self.zeros, label: "5") + "\n").utf8), to: "sklearn-digits/digits.csv")
        let set = try SklearnDigits.load(from: DataDirectory(root: folder.path))
        #expect(set.labels == [5])
        expectFailure("digits.csv", "no published SHA-256") { () throws(DatasetError) in
            try SklearnDigits.load(from: DataDirectory(root: folder.path), verifyChecksum: true)
        }
    }

    @Test func malformedRowsAreErrorsNamingTheRow() {
        let good = Self.row(Self.zeros, label: "1")
        func failure(_ badRow: String) -> String {
            let text = [good, good, badRow, good].joined(separator: "\n")
            return datasetError { () throws(DatasetError) in try SklearnDigits.parse(Array(text.utf8), source: "d.csv") }?
                .description ?? "no error"
        }
        var pixels = Self.zeros
        #expect(failure(Self.row(Array(pixels.dropLast()), label: "1"))
                == "d.csv: row 3: expected 65 columns (64 pixels and the label), found 64")
        #expect(failure(good + ",0").contains("row 3: expected 65 columns"))
        #expect(failure("").contains("row 3: expected 65 columns (64 pixels and the label), found 1"))
        pixels[9] = "x"
        #expect(failure(Self.row(pixels, label: "1")) == "d.csv: row 3: column 10: 'x' is not a number")
        pixels[9] = ""
        #expect(failure(Self.row(pixels, label: "1")).contains("column 10: '' is not a number"))
        pixels[9] = "nan"
        #expect(failure(Self.row(pixels, label: "1")).contains("column 10: 'nan' is not a number"))
        pixels[9] = "17"
        #expect(failure(Self.row(pixels, label: "1")) == "d.csv: row 3: column 10: pixel 17 is outside 0...16")
        pixels[9] = "-1"
        #expect(failure(Self.row(pixels, label: "1")).contains("pixel -1 is outside"))
        #expect(failure(Self.row(Self.zeros, label: "10")) == "d.csv: row 3: label '10' is not an integer in 0..<10")
        #expect(failure(Self.row(Self.zeros, label: "2.5")).contains("label '2.5' is not an integer"))
        #expect(failure(Self.row(Self.zeros, label: "-1")).contains("label '-1' is not an integer"))
        #expect(failure(Self.row(Self.zeros, label: "1e300")).contains("label '1e300' is not an integer"))
        expectFailure("d.csv: no rows") { () throws(DatasetError) in try SklearnDigits.parse(Array("\n\n".utf8), source: "d.csv") }
    }
}
