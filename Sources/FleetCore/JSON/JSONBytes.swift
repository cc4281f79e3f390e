#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The immutable bytes of one JSON input, padded with zero bytes so scanners can read ahead.
///
/// Every ``JSONDocument`` parsed from an input keeps a reference to its `JSONBytes`: strings and
/// numbers are decoded from these bytes only when asked for. The buffer is followed by
/// ``padding`` zero bytes, which lets the parser load eight bytes at a time without a bounds
/// check (a zero byte can never be part of valid JSON, so it stops every scan).
public final class JSONBytes: @unchecked Sendable {
    // @unchecked: the buffer is written once in `init` and never mutated afterwards.

    /// Zero bytes kept after the content.
    public static let padding = 64

    /// The number of content bytes (without the padding).
    public let count: Int
    /// Where the bytes came from, for error messages (a file path or a label).
    public let source: String
    let start: UnsafeMutablePointer<UInt8>

    /// Copies `bytes` into a new padded buffer.
    public init(_ bytes: some Collection<UInt8>, source: String) {
        let count = bytes.count
        self.count = count
        self.source = source
        self.start = .allocate(capacity: count + Self.padding)
        let buffer = UnsafeMutableBufferPointer(start: start, count: count)
        _ = buffer.initialize(from: bytes)
        (start + count).initialize(repeating: 0, count: Self.padding)
    }

    /// Copies the UTF-8 of `text` into a new padded buffer.
    public convenience init(_ text: String, source: String = "<string>") {
        self.init(Array(text.utf8), source: source)
    }

    /// Reads a whole file into a new padded buffer with one allocation.
    ///
    /// - Throws: ``FileReadError`` naming the path and the system's reason.
    public init(contentsOfFile path: String) throws(FileReadError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FileReadError(path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileReadError(path: path, errno: errno) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw FileReadError(path: path, errno: EISDIR) }
        let expected = Int(info.st_size)
        // One byte more than the size, so the read that finds the end needs no bigger buffer.
        var capacity = max(expected + 1, 4096)
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity + Self.padding)
        var filled = 0
        while true {
            if filled == capacity {
                // The file grew while we read it (or is a pipe): grow the buffer.
                let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2 + Self.padding)
                bigger.update(from: buffer, count: filled)
                buffer.deallocate()
                buffer = bigger
                capacity *= 2
            }
            let n = read(fd, buffer + filled, capacity - filled)
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                buffer.deallocate()
                throw FileReadError(path: path, errno: code)
            }
            if n == 0 { break }
            filled += n
        }
        (buffer + filled).initialize(repeating: 0, count: Self.padding)
        self.start = buffer
        self.count = filled
        self.source = path
    }

    deinit { start.deallocate() }

    /// The content bytes as a buffer (valid while this object lives).
    public var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: start, count: count) }

    /// The 1-based line and column (in bytes) of an absolute byte offset.
    public func lineAndColumn(of offset: Int) -> (line: Int, column: Int) {
        let end = min(max(offset, 0), count)
        var line = 1
        var lineStart = 0
        var i = 0
        while i < end {
            if start[i] == UInt8(ascii: "\n") {
                line += 1
                lineStart = i + 1
            }
            i += 1
        }
        return (line, end - lineStart + 1)
    }
}

/// A file or directory could not be read.
public struct FileReadError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The path that was read.
    public let path: String
    /// The system error number.
    public let code: Int32

    /// Creates the error for a path and an `errno` value.
    public init(path: String, errno code: Int32) {
        self.path = path
        self.code = code
    }

    /// A one-line message with the path, the system's reason and a hint.
    public var description: String {
        let reason = String(cString: strerror(code))
        let hint: String
        switch code {
        case ENOENT: hint = "check the path; relative paths are resolved from the current directory"
        case EACCES, EPERM: hint = "check the file's permissions"
        case EISDIR: hint = "pass a file, or a directory where a directory is accepted"
        default: hint = "check that the path is a readable file"
        }
        return "cannot read '\(path)': \(reason) — \(hint)"
    }
}
