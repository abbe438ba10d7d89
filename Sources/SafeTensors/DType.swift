/// The element type of a tensor, spelled in headers as its raw value (`"F32"`, `"BF16"`, ...).
///
/// All multi-byte types are stored little-endian. `BOOL` is one byte per element.
public enum DType: String, CaseIterable, Sendable, Hashable {
    /// Boolean, one byte per element (0 or 1).
    case bool = "BOOL"
    /// Unsigned 8-bit integer.
    case uint8 = "U8"
    /// Signed 8-bit integer.
    case int8 = "I8"
    /// Signed 16-bit integer.
    case int16 = "I16"
    /// Unsigned 16-bit integer.
    case uint16 = "U16"
    /// IEEE 754 binary16 ("half") float.
    case float16 = "F16"
    /// bfloat16: the upper 16 bits of an IEEE 754 binary32 float.
    case bfloat16 = "BF16"
    /// Signed 32-bit integer.
    case int32 = "I32"
    /// Unsigned 32-bit integer.
    case uint32 = "U32"
    /// IEEE 754 binary32 float.
    case float32 = "F32"
    /// IEEE 754 binary64 float.
    case float64 = "F64"
    /// Signed 64-bit integer.
    case int64 = "I64"
    /// Unsigned 64-bit integer.
    case uint64 = "U64"

    /// The number of bytes one element occupies.
    public var byteSize: Int {
        switch self {
        case .bool, .uint8, .int8: 1
        case .int16, .uint16, .float16, .bfloat16: 2
        case .int32, .uint32, .float32: 4
        case .float64, .int64, .uint64: 8
        }
    }

    /// Position in the official implementation's `Dtype` enum, whose writer lays tensors out
    /// by this rank, largest first, so that every tensor is aligned to its element size.
    var layoutRank: Int {
        switch self {
        case .bool: 0
        case .uint8: 1
        case .int8: 2
        case .int16: 3
        case .uint16: 4
        case .float16: 5
        case .bfloat16: 6
        case .int32: 7
        case .uint32: 8
        case .float32: 9
        case .float64: 10
        case .int64: 11
        case .uint64: 12
        }
    }
}
