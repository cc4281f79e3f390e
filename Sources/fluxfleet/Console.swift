#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writing to standard output and standard error without buffering surprises.
enum Console {
    /// Writes text to standard output as is.
    static func out(_ text: String) { write(text, to: 1) }

    private static func write(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }

    /// Writes `error: message` and a newline to standard error.
    static func error(_ message: String) {
        write("error: \(message)\n", to: 2)
    }

    /// Writes `warning: message` and a newline to standard error.
    static func warning(_ message: String) {
        write("warning: \(message)\n", to: 2)
    }
}
