#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writing to standard output and standard error without buffering surprises.
enum Console {
    /// Writes text to standard output as is.
    static func out(_ text: String) { emit(text, to: 1) }

    /// Writes bytes to standard output as they are.
    static func out(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { emit($0, to: 1) }
    }

    /// Writes bytes to standard output as they are (a piece of a document written out in pieces).
    static func out(_ bytes: UnsafeBufferPointer<UInt8>) { emit(bytes, to: 1) }

    /// Writes `error: message` and a newline to standard error.
    static func error(_ message: String) { emit("error: \(message)\n", to: 2) }

    /// Writes a line to standard error as it is.
    static func stderr(_ line: String) { emit(line + "\n", to: 2) }

    /// Writes `warning: message` and a newline to standard error.
    static func warning(_ message: String) { emit("warning: \(message)\n", to: 2) }

    private static func emit(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { emit($0, to: fd) }
    }

    /// Writes every byte, retrying short writes and interrupted calls.
    private static func emit(_ bytes: UnsafeBufferPointer<UInt8>, to fd: Int32) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, base + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}
