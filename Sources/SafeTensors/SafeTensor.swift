/// One tensor of a safetensors file: its element type, shape and raw little-endian bytes.
///
/// A `SafeTensor` is always consistent: `bytes.count` equals the product of `shape` times
/// `dtype.byteSize`, no dimension is negative, and the element count fits in an `Int`.
public struct SafeTensor: Equatable, Sendable {
    /// The element type.
    public let dtype: DType
    /// The dimensions, outermost first; `[]` is a scalar (one element).
    public let shape: [Int]
    /// The elements in row-major order, each stored little-endian.
    public let bytes: [UInt8]

    /// The number of elements: the product of `shape` (1 for a scalar, 0 if any dimension is 0).
    public var elementCount: Int {
        bytes.count / dtype.byteSize
    }

    /// Creates a tensor from raw little-endian bytes, checking that they match `shape` and `dtype`.
    public init(dtype: DType, shape: [Int], bytes: [UInt8]) throws(SafeTensorsError) {
        let expectedByteCount = try SafeTensor.byteCount(shape: shape, dtype: dtype)
        guard bytes.count == expectedByteCount else {
            throw SafeTensorsError(.invalidTensor,
                "shape \(formatShape(shape)) of \(dtype.rawValue) needs \(expectedByteCount) bytes but \(bytes.count) were given")
        }
        self.init(validatedDType: dtype, shape: shape, bytes: bytes)
    }

    /// Creates an `F32` tensor. `floats.count` must equal the product of `shape`.
    public init(floats: [Float], shape: [Int]) throws(SafeTensorsError) {
        try self.init(dtype: .float32, shape: shape, bytes: littleEndianBytes(floats.map(\.bitPattern)))
    }

    /// Creates an `I64` tensor. `int64s.count` must equal the product of `shape`.
    public init(int64s: [Int64], shape: [Int]) throws(SafeTensorsError) {
        try self.init(dtype: .int64, shape: shape, bytes: littleEndianBytes(int64s))
    }

    /// Creates a tensor whose parts the caller has already checked for consistency.
    init(validatedDType dtype: DType, shape: [Int], bytes: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// The elements converted to `Float`.
    ///
    /// `F32` is returned as is; `F16` and `BF16` widen exactly; `F64` and integers larger than
    /// 2^24 round to the nearest `Float`; `BOOL` gives 0 or 1. Every dtype converts.
    public func floats() -> [Float] {
        switch dtype {
        case .float32: elements(UInt32.self).map(Float.init(bitPattern:))
        case .float64: elements(UInt64.self).map { Float(Double(bitPattern: $0)) }
        case .float16: elements(UInt16.self).map(HalfPrecision.float(fromFloat16Bits:))
        case .bfloat16: elements(UInt16.self).map(HalfPrecision.float(fromBFloat16Bits:))
        case .bool: bytes.map { $0 == 0 ? 0 : 1 }
        case .uint8: bytes.map { Float($0) }
        case .int8: bytes.map { Float(Int8(bitPattern: $0)) }
        case .int16: elements(Int16.self).map { Float($0) }
        case .uint16: elements(UInt16.self).map { Float($0) }
        case .int32: elements(Int32.self).map { Float($0) }
        case .uint32: elements(UInt32.self).map { Float($0) }
        case .int64: elements(Int64.self).map { Float($0) }
        case .uint64: elements(UInt64.self).map { Float($0) }
        }
    }

    /// The elements of an integer or `BOOL` tensor converted to `Int64`.
    ///
    /// Throws ``SafeTensorsError/Kind/unsupportedConversion`` for floating-point dtypes (use
    /// ``floats()``) and for `U64` elements above `Int64.max`.
    public func int64s() throws(SafeTensorsError) -> [Int64] {
        switch dtype {
        case .float16, .bfloat16, .float32, .float64:
            throw SafeTensorsError(.unsupportedConversion,
                "\(dtype.rawValue) elements cannot be read as Int64; use floats()")
        case .bool: return bytes.map { $0 == 0 ? 0 : 1 }
        case .uint8: return bytes.map { Int64($0) }
        case .int8: return bytes.map { Int64(Int8(bitPattern: $0)) }
        case .int16: return elements(Int16.self).map { Int64($0) }
        case .uint16: return elements(UInt16.self).map { Int64($0) }
        case .int32: return elements(Int32.self).map { Int64($0) }
        case .uint32: return elements(UInt32.self).map { Int64($0) }
        case .int64: return elements(Int64.self)
        case .uint64:
            let values = elements(UInt64.self)
            if let index = values.firstIndex(where: { $0 > UInt64(Int64.max) }) {
                throw SafeTensorsError(.unsupportedConversion,
                    "U64 element \(index) = \(values[index]) does not fit in Int64")
            }
            return values.map { Int64($0) }
        }
    }

    /// Decodes the bytes as little-endian values of `type`, whose size must be `dtype.byteSize`.
    private func elements<Element: FixedWidthInteger>(_ type: Element.Type) -> [Element] {
        let stride = MemoryLayout<Element>.size
        return bytes.withUnsafeBytes { raw in
            (0..<raw.count / stride).map { index in
                Element(littleEndian: raw.loadUnaligned(fromByteOffset: index * stride, as: Element.self))
            }
        }
    }

    /// The number of bytes a tensor of `shape` and `dtype` occupies.
    ///
    /// Throws if a dimension is negative, or if the product of the non-zero dimensions or the
    /// byte count overflows `Int` (a zero dimension does not excuse huge others: code that
    /// computes strides from the shape would overflow on them).
    static func byteCount(shape: [Int], dtype: DType) throws(SafeTensorsError) -> Int {
        var nonZeroProduct = 1
        for dimension in shape {
            guard dimension >= 0 else {
                throw SafeTensorsError(.invalidTensor, "shape \(formatShape(shape)) has a negative dimension")
            }
            if dimension == 0 { continue }
            let (product, overflow) = nonZeroProduct.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw SafeTensorsError(.invalidTensor, "shape \(formatShape(shape)) has too many elements")
            }
            nonZeroProduct = product
        }
        let (byteCount, overflow) = nonZeroProduct.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else {
            throw SafeTensorsError(.invalidTensor,
                "shape \(formatShape(shape)) of \(dtype.rawValue) has too many bytes")
        }
        return shape.contains(0) ? 0 : byteCount
    }
}

/// `[2, 3]`: a shape as error messages show it.
func formatShape(_ shape: [Int]) -> String {
    "[" + shape.map { String($0) }.joined(separator: ", ") + "]"
}

/// The little-endian bytes of `values`, one after another.
private func littleEndianBytes<Element: FixedWidthInteger>(_ values: [Element]) -> [UInt8] {
    let stride = MemoryLayout<Element>.size
    var bytes = [UInt8](repeating: 0, count: values.count * stride)
    bytes.withUnsafeMutableBytes { raw in
        for (index, value) in values.enumerated() {
            raw.storeBytes(of: value.littleEndian, toByteOffset: index * stride, as: Element.self)
        }
    }
    return bytes
}
