/// Frames records in one of the output layouts and hands the bytes out in chunks.
struct RecordStream {
    var out: ByteWriter
    let format: FleetFormat
    private(set) var records = 0

    /// Chunks are handed to the sink once they pass this size.
    static let chunkSize = 1 << 20

    init(format: FleetFormat) {
        self.format = format
        out = ByteWriter(capacity: Self.chunkSize + (64 << 10))
    }

    /// Writes what comes before the first record; `total` is the number of records that will follow.
    mutating func header(total: Int) {
        switch format {
        case .array: out.raw("[\n")
        case .ndjson: break
        case .envelope:
            out.raw("{\"totalRecords\":")
            out.int(total)
            out.raw(",\"count\":")
            out.int(total)
            out.raw(",\"data\":[\n")
        }
    }

    /// Writes the separator before a record.
    @inline(__always) mutating func begin() {
        if format != .ndjson && records > 0 { out.raw(",\n") }
    }

    /// Finishes a record.
    @inline(__always) mutating func end() {
        if format == .ndjson { out.raw("\n") }
        records += 1
    }

    /// Writes one complete record given as JSON text.
    mutating func record(text: String) {
        begin()
        out.raw(text: text)
        end()
    }

    /// Writes what comes after the last record.
    mutating func footer() {
        switch format {
        case .array: out.raw(records > 0 ? "\n]\n" : "]\n")
        case .ndjson: break
        case .envelope:
            if records > 0 { out.raw("\n") }
            out.raw("],\"facets\":[],\"resultTruncated\":\"false\"}\n")
        }
    }

    /// Hands the buffered bytes to `sink` once a chunk is full (or always, with `force`).
    mutating func flush(
        to sink: (UnsafeRawBufferPointer) throws -> Void, force: Bool = false
    ) rethrows {
        guard force ? !out.bytes.isEmpty : out.bytes.count >= Self.chunkSize else { return }
        try out.bytes.withUnsafeBytes { try sink($0) }
        out.bytes.removeAll(keepingCapacity: true)
    }
}
