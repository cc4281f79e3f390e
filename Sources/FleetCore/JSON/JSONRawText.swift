#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension JSONValue {
    /// The value's JSON text exactly as written (the bytes ``withRawBytes(_:)`` passes), found without decoding
    /// anything: a string's quotes are included, and the end of a string without escapes is found with `memchr`.
    ///
    /// The bytes belong to ``document``: they are valid only while it is alive (keep it alive with
    /// `withExtendedLifetime` while reading them).
    public var rawTextBytes: UnsafeBufferPointer<UInt8> {
        let input = UnsafePointer(document.bytes.start)
        let start = offset
        let end: Int
        switch tag {
        case Tape.object, Tape.array:
            end = document.base + Int(document.tape[index + 2])
        case Tape.string:
            // No escapes: the first quote after the opening one closes the string.
            let content = tokenStart
            let limit = document.bytes.count - (content - input)
            let quote = memchr(content, Int32(UInt8(ascii: "\"")), limit)
            guard let quote else {
                end = document.bytes.count
                break
            }
            end = UnsafePointer(quote.assumingMemoryBound(to: UInt8.self)) - input + 1
        case Tape.escapedString:
            end = start + rawStringBytes.count + 2
        case Tape.number:
            var q = tokenStart
            while (q.pointee &- UInt8(ascii: "0")) < 10 || q.pointee == UInt8(ascii: "-")
                || q.pointee == UInt8(ascii: "+") || q.pointee == UInt8(ascii: ".")
                || q.pointee | 0x20 == UInt8(ascii: "e")
            {
                q += 1
            }
            end = q - input
        case Tape.true, Tape.null:
            end = start + 4
        default:
            end = start + 5
        }
        return UnsafeBufferPointer(start: input + start, count: end - start)
    }
}
