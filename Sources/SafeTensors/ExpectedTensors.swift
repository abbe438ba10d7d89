extension SafeTensorsFile {
    /// Checks that the file holds exactly the `expected` tensors, with the expected shapes.
    ///
    /// Throws one ``SafeTensorsError/Kind/unexpectedContents`` error listing every difference,
    /// for example `missing: a.weight; unexpected: b.bias; shape mismatch: c.weight expected
    /// [16, 1, 1, 1] found [16, 1, 3, 3]`. Missing and mismatched names are listed in the order
    /// of `expected`, unexpected ones in ``names`` order. Use ``SafeTensorsError/inFile(_:)``
    /// to attribute the error to the file the tensors came from.
    public func validate(expected: [(name: String, shape: [Int])]) throws(SafeTensorsError) {
        var missing: [String] = []
        var mismatched: [String] = []
        for (name, shape) in expected {
            guard let tensor = tensors[name] else {
                missing.append(name)
                continue
            }
            if tensor.shape != shape {
                mismatched.append("\(name) expected \(formatShape(shape)) found \(formatShape(tensor.shape))")
            }
        }
        let expectedNames = Set(expected.map(\.name))
        let unexpected = names.filter { !expectedNames.contains($0) }

        var differences: [String] = []
        if !missing.isEmpty { differences.append("missing: " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty { differences.append("unexpected: " + unexpected.joined(separator: ", ")) }
        if !mismatched.isEmpty { differences.append("shape mismatch: " + mismatched.joined(separator: ", ")) }
        if !differences.isEmpty {
            throw SafeTensorsError(.unexpectedContents, differences.joined(separator: "; "))
        }
    }
}
