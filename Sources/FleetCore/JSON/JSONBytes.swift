import Synchronization

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
    /// The length of the memory mapping, or 0 when the bytes were allocated.
    private let mappedLength: Int

    /// Files at least this large are memory-mapped instead of read into a new buffer.
    public static let mapThreshold = 32 << 20

    /// Copies `bytes` into a new padded buffer.
    public init(_ bytes: some Collection<UInt8>, source: String) {
        let count = bytes.count
        self.count = count
        self.source = source
        self.mappedLength = 0
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
        if (info.st_mode & S_IFMT) == S_IFREG && expected >= Self.mapThreshold,
            let mapped = Self.map(fd: fd, size: expected)
        {
            self.start = mapped.pointer
            self.count = expected
            self.mappedLength = mapped.length
            self.source = path
            return
        }
        self.mappedLength = 0
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

    deinit {
        if mappedLength > 0 {
            munmap(UnsafeMutableRawPointer(start), mappedLength)
        } else {
            start.deallocate()
        }
    }

    /// Maps a regular file read-only, followed by at least ``padding`` zero bytes.
    ///
    /// An anonymous zero-filled region is reserved first and the file is mapped over its start,
    /// so the bytes after the end of the file are zeros even when the size is a multiple of the
    /// page size. The file is read ahead in one call (`MAP_POPULATE`). The snapshot must not be
    /// truncated while FluxFleet reads it (a truncated mapping faults, as with every tool that
    /// maps its input).
    private static func map(fd: Int32, size: Int) -> (pointer: UnsafeMutablePointer<UInt8>, length: Int)? {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let fileLength = (size + page - 1) / page * page
        let total = fileLength + (padding + page - 1) / page * page
        guard let region = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            region != MAP_FAILED
        else { return nil }
        #if canImport(Glibc)
            let flags = MAP_PRIVATE | MAP_FIXED | MAP_POPULATE
        #else
            let flags = MAP_PRIVATE | MAP_FIXED
        #endif
        guard let file = mmap(region, size, PROT_READ, flags, fd, 0), file == region else {
            munmap(region, total)
            return nil
        }
        return (region.assumingMemoryBound(to: UInt8.self), total)
    }

    /// Whether the bytes are a read-only mapping of a file (pages can be handed back to the page cache).
    public var isMapped: Bool { mappedLength > 0 }

    /// Hands the whole pages inside `from..<to` back to the page cache.
    ///
    /// A later read faults them back in from the file. Does nothing for bytes that are not a file
    /// mapping.
    public func releasePages(from: Int, to: Int) {
        guard mappedLength > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (max(0, from) + page - 1) / page * page
        let last = min(to, count) / page * page
        guard last > first else { return }
        madvise(UnsafeMutableRawPointer(start + first), last - first, MADV_DONTNEED)
    }

    /// The content bytes as a buffer (valid while this object lives).
    public var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: start, count: count) }

    /// Offsets where lines start, built on the first call to ``lineAndColumn(of:)``.
    private let lineStarts = Mutex<[Int]?>(nil)

    /// The 1-based line and column (in bytes) of an absolute byte offset.
    ///
    /// The first call indexes the line starts (one pass); every later call is a binary search, so
    /// thousands of findings in a large input stay cheap.
    public func lineAndColumn(of offset: Int) -> (line: Int, column: Int) {
        let end = min(max(offset, 0), count)
        let starts = lineStarts.withLock { cached in
            if let cached { return cached }
            var starts = [0]
            var i = 0
            while i < count {
                if start[i] == UInt8(ascii: "\n") { starts.append(i + 1) }
                i += 1
            }
            cached = starts
            return starts
        }
        // The last line start at or before `end`.
        var low = 0
        var high = starts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if starts[mid] <= end { low = mid } else { high = mid - 1 }
        }
        return (low + 1, end - starts[low] + 1)
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
