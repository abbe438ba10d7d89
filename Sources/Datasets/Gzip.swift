import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// gzip decompression through the system zlib.
public enum Gzip {
    /// Decompressed output larger than this is refused by default (a defence against gzip bombs).
    public static let defaultOutputLimit = 1 << 32

    /// Whether `bytes` starts with the gzip magic number 1f 8b.
    public static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// Decompresses gzip data (zlib-wrapped deflate is accepted too). Concatenated gzip members
    /// decompress to the concatenation of their contents, as with `gunzip`.
    ///
    /// - Parameters:
    ///   - compressed: the whole compressed stream.
    ///   - source: the file the bytes came from, named in errors.
    ///   - outputLimit: the largest decompressed size accepted.
    /// - Throws: `DatasetError.corruptGzip` for bad headers, bad data, checksum failures,
    ///   truncation, trailing garbage, or output beyond `outputLimit`.
    public static func decompress(
        _ compressed: [UInt8], source: String, outputLimit: Int = defaultOutputLimit
    ) throws(DatasetError) -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 32: the largest window, with gzip or zlib header detected automatically.
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corruptGzip(path: source, reason: "zlib could not start (out of memory?)")
        }
        defer { inflateEnd(&stream) }

        var output = zeroedBytes(initialCapacity(compressed, limit: outputLimit), copying: [])
        var produced = 0
        var failure: String?
        compressed.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            var unfedInput = input.count
            func feedInput() {
                let chunk = min(unfedInput, Int(UInt32.max))
                stream.avail_in += UInt32(chunk)
                unfedInput -= chunk
            }
            feedInput()
            while true {
                if produced == output.count {
                    guard output.count < outputLimit else {
                        failure = "decompressed size exceeds the limit of \(outputLimit) bytes"
                        return
                    }
                    output = zeroedBytes(min(max(output.count * 2, 1 << 16), outputLimit), copying: output)
                }
                if stream.avail_in == 0 { feedInput() }
                let room = min(output.count - produced, Int(UInt32.max))
                let status = output.withUnsafeMutableBufferPointer { buffer -> Int32 in
                    stream.next_out = buffer.baseAddress! + produced
                    stream.avail_out = UInt32(room)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                produced += room - Int(stream.avail_out)
                let inputLeft = Int(stream.avail_in) + unfedInput

                switch status {
                case Z_STREAM_END:
                    if inputLeft == 0 { return }
                    // Another gzip member may follow; anything else is garbage.
                    let next = input.count - inputLeft
                    guard inputLeft >= 2, input[next] == 0x1F, input[next + 1] == 0x8B else {
                        failure = "\(inputLeft) bytes of trailing data after the end of the gzip stream"
                        return
                    }
                    inflateReset(&stream)
                case Z_OK, Z_BUF_ERROR:
                    if stream.avail_out == 0 { continue }  // output full: grow and go on
                    if inputLeft == 0 {
                        failure = "the data ends before the gzip stream does (truncated file)"
                        return
                    }
                    if status == Z_BUF_ERROR {
                        failure = "zlib made no progress"
                        return
                    }
                case Z_MEM_ERROR:
                    failure = "out of memory"
                    return
                default:
                    failure = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    return
                }
            }
        }
        if let failure { throw .corruptGzip(path: source, reason: failure) }
        output.removeLast(output.count - produced)
        return output
    }

    /// `count` bytes starting with a copy of `prefix` and zero after it (with memcpy and memset,
    /// which unlike element-wise initialisation stay fast in debug builds).
    private static func zeroedBytes(_ count: Int, copying prefix: [UInt8]) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let target = buffer.baseAddress {
                prefix.withUnsafeBufferPointer { source in
                    if let start = source.baseAddress { memcpy(target, start, source.count) }
                }
                memset(target + prefix.count, 0, count - prefix.count)
            }
            initialized = count
        }
    }

    /// A first output size: the gzip trailer's ISIZE (size modulo 2^32 of the last member),
    /// trusted only as far as deflate's maximum ratio of about 1032:1 and the limit allow. One
    /// spare byte lets zlib reach the end of the stream without a needless doubling of the buffer.
    private static func initialCapacity(_ compressed: [UInt8], limit: Int) -> Int {
        guard compressed.count >= 18 else { return min(1 << 16, limit) }
        let declared = compressed.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        let (ratioBound, overflow) = compressed.count.multipliedReportingOverflow(by: 1032)
        return min(declared + 1, overflow ? Int.max : ratioBound, limit)
    }
}
