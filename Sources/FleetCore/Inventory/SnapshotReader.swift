import Dispatch
import Foundation

/// One input file of a snapshot and what was read from it.
public struct SnapshotFile: Sendable, Hashable {
    /// The file's path.
    public var path: String
    /// How its records were laid out.
    public var layout: RecordLayout
    /// How many records it held.
    public var records: Int
    /// Its size in bytes.
    public var bytes: Int
    /// A continuation left in the file (Resource Graph `$skipToken` / `skip_token`, ARM
    /// `nextLink`): the query had more pages than were saved.
    public var skipToken: String?
    /// The ``BlockDigest`` of the bytes parsed, when the reader was asked for it.
    public var contentDigest: UInt64?

    /// Describes one input (a file, or a page read live from Resource Graph).
    public init(
        path: String, layout: RecordLayout, records: Int, bytes: Int, skipToken: String? = nil,
        contentDigest: UInt64? = nil
    ) {
        self.path = path
        self.layout = layout
        self.records = records
        self.bytes = bytes
        self.skipToken = skipToken
        self.contentDigest = contentDigest
    }
}

/// A loaded inventory: the fleet and where it came from.
public struct Inventory: Sendable {
    /// The assembled fleet.
    public var fleet: Fleet
    /// The files read, in the order read.
    public var files: [SnapshotFile]

    /// The total size of the files read.
    public var totalBytes: Int { files.reduce(0) { $0 + $1.bytes } }

    /// Creates an inventory from a fleet and its inputs (for readers other than ``SnapshotReader``, such as the
    /// live Resource Graph reader).
    public init(fleet: Fleet, files: [SnapshotFile]) {
        self.fleet = fleet
        self.files = files
    }
}

/// Why an inventory could not be loaded.
public enum InventoryLoadError: Error, CustomStringConvertible, Sendable {
    /// A path could not be read.
    case unreadable(FileReadError)
    /// A file is not valid JSON.
    case invalidJSON(JSONError)
    /// Valid JSON, but records that are not usable ARM resources.
    case invalidRecords(InventoryError)
    /// A directory without any `.json`, `.ndjson` or `.jsonl` file.
    case emptyDirectory(String)

    /// A message naming the file, the place and the fix.
    public var description: String {
        switch self {
        case .unreadable(let e): e.description
        case .invalidJSON(let e): e.description
        case .invalidRecords(let e): e.description
        case .emptyDirectory(let path):
            "no inventory files in '\(path)': expected *.json, *.ndjson or *.jsonl files (ARM resource arrays, Resource Graph responses or NDJSON)"
        }
    }
}

/// Reads inventory snapshots: a file or a directory of files, each a JSON array of ARM
/// resources, a Resource Graph response (`data` + `$skipToken`, or the `az graph query` shape
/// with `skip_token`), an ARM list response (`value` + `nextLink`), or NDJSON.
public enum SnapshotReader {
    /// The file name endings read from a directory.
    public static let extensions = [".json", ".ndjson", ".jsonl"]

    /// Loads the inventory at `path`.
    ///
    /// A directory is read recursively in name order, skipping hidden entries and files with
    /// other endings (so a README can sit beside the data).
    ///
    /// - Parameters:
    ///   - path: A file or a directory.
    ///   - parallelism: How many cores to use.
    ///   - keepsInput: Keep a memory-mapped file's pages mapped after parsing. For commands that evaluate the
    ///     fleet next: a scan reads nearly every page again, and faulting them back in costs it more system time
    ///     than keeping them (its peak memory is the same either way). Without it the pages go back to the page
    ///     cache behind the parser, so a load alone holds the tapes and the fleet rather than the whole file.
    ///   - digests: Give each file's ``SnapshotFile/contentDigest``, made from the very bytes parsed (no second
    ///     read, and no change of the file in between can slip into it).
    /// - Throws: ``InventoryLoadError`` naming the file and the place of the first problem.
    public static func load(
        path: String, parallelism: Int = JSONRecords.availableCores, keepsInput: Bool = false, digests: Bool = false
    ) throws(InventoryLoadError) -> Inventory {
        let files = try listFiles(path)
        let results = ResultSlots<Result<(JSONRecordSet, [Fleet.Part], Int, UInt64?), InventoryLoadError>>(
            count: files.count)
        let read: @Sendable (Int, Int) -> Void = { k, cores in
            do throws(FileReadError) {
                let bytes = try JSONBytes(contentsOfFile: files[k])
                // Before the parse, which may give the pages back behind it.
                let digest = digests ? BlockDigest.of(UnsafeRawBufferPointer(bytes.buffer), parallelism: cores) : nil
                do throws(JSONError) {
                    // Records are classified as they are parsed, and unless the caller keeps them, a mapped
                    // file's pages go back to the page cache behind the parser.
                    let (set, parts) = try JSONRecords.read(
                        bytes, parallelism: cores, visitor: Fleet.Classifier(file: files[k]),
                        releaseInput: !keepsInput)
                    results.set(k, .success((set, parts, bytes.count, digest)))
                } catch {
                    results.set(k, .failure(.invalidJSON(error)))
                }
            } catch {
                results.set(k, .failure(.unreadable(error)))
            }
        }
        if files.count >= 2 * parallelism && parallelism > 1 {
            // Many files: one core each.
            DispatchQueue.concurrentPerform(iterations: files.count) { k in read(k, 1) }
        } else {
            for k in files.indices { read(k, parallelism) }
        }
        var parts: [Fleet.Part] = []
        var snapshotFiles: [SnapshotFile] = []
        for (k, file) in files.enumerated() {
            switch results.get(k)! {
            case .failure(let error): throw error
            case .success(let (set, fileParts, size, digest)):
                if set.layout == .single {
                    let root = set.records[0].root
                    if !(root.isObject && root.member(ignoringCase: "id") != nil) {
                        throw .invalidJSON(
                            JSONError(
                                source: file, line: 1, column: 1, offset: 0, path: "$",
                                message:
                                    "expected a JSON array of ARM resources, a Resource Graph response ({\"data\": [...]}), an ARM list ({\"value\": [...]}) or NDJSON; found a single \(root.kind.rawValue) that is not a resource"
                            ))
                    }
                }
                // A continuation the saved file did not follow: Resource Graph's skip tokens, ARM's nextLink.
                let token =
                    set.envelope.first { key, value in
                        ["$skiptoken", "skip_token", "skiptoken", "nextlink"].contains(ASCII.lowercased(key))
                            && value.string.map { !$0.isEmpty } == true
                    }?.value.string
                snapshotFiles.append(
                    SnapshotFile(
                        path: file, layout: set.layout, records: set.records.count, bytes: size, skipToken: token,
                        contentDigest: digest))
                parts.append(contentsOf: fileParts)
            }
        }
        do {
            var fleet = try Fleet.assemble(parts: parts)
            for file in snapshotFiles where file.skipToken != nil {
                fleet.findings.insert(
                    Finding(
                        severity: .warning, code: "incompleteResourceGraphPage",
                        message:
                            "\(file.path) ends with a continuation (Resource Graph $skipToken or ARM nextLink): the query had more pages than this file holds; the inventory may be incomplete",
                        source: file.path), at: 0)
            }
            return Inventory(fleet: fleet, files: snapshotFiles)
        } catch {
            throw .invalidRecords(error)
        }
    }

    /// The files to read for `path`, in a stable order.
    static func listFiles(_ path: String) throws(InventoryLoadError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(FileReadError(path: path, errno: ENOENT))
        }
        guard isDirectory.boolValue else { return [path] }
        guard let enumerator = FileManager.default.enumerator(atPath: path) else {
            throw .unreadable(FileReadError(path: path, errno: EACCES))
        }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") {
                enumerator.skipDescendants()
                continue
            }
            guard extensions.contains(where: { name.lowercased().hasSuffix($0) }) else { continue }
            files.append((path as NSString).appendingPathComponent(relative))
        }
        guard !files.isEmpty else { throw .emptyDirectory(path) }
        return files.sorted()
    }
}
