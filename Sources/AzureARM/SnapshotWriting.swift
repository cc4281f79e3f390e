import FleetCore
import Foundation

extension ResourceGraphInventory {
    /// Writes the rows read as a snapshot directory that `SnapshotReader` reads back to the same fleet.
    ///
    /// The directory gets ``clusterFile`` and ``childFile`` — Resource Graph response envelopes
    /// (`{"totalRecords", "count", "data": […], "facets", "resultTruncated"}`) holding every row as received, one per
    /// line — and ``readmeFile`` saying what the snapshot is, where and when it was taken. Each file is written to a
    /// hidden temporary file in the directory and renamed into place, so a reader never sees half a file. The
    /// directory is created when missing; one that already holds other inventory files (`*.json`, `*.ndjson`,
    /// `*.jsonl`) is refused, since reading it would mix them with this snapshot.
    ///
    /// - Parameter directory: The snapshot directory.
    /// - Returns: The paths written, data files first.
    /// - Throws: ``AzureARMError``: ``AzureARMError/Category/usage`` for a directory holding other inventory files
    ///   or a path that is a file, ``AzureARMError/Category/other`` when a file cannot be written.
    @discardableResult
    public func save(to directory: String) throws(AzureARMError) -> [String] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw AzureARMError(
                    .usage, what: "the snapshot path is a file, not a directory", location: directory,
                    remedy: "pass a new or empty directory to --save")
            }
            let ours: Set<String> = [Self.clusterFile, Self.childFile]
            let entries = (try? manager.contentsOfDirectory(atPath: directory)) ?? []
            let foreign = entries.filter { name in
                !name.hasPrefix(".") && !ours.contains(name)
                    && SnapshotReader.extensions.contains { name.lowercased().hasSuffix($0) }
            }.sorted()
            if !foreign.isEmpty {
                throw AzureARMError(
                    .usage,
                    what:
                        "the directory already holds other inventory files (\(foreign.prefix(5).joined(separator: ", "))\(foreign.count > 5 ? ", …" : ""))",
                    location: directory,
                    remedy:
                        "pass a new or empty directory to --save (reading it would mix those files with this snapshot)")
            }
        } else {
            do {
                try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw AzureARMError(
                    .other, what: "cannot create the snapshot directory: \(error.localizedDescription)",
                    location: directory, remedy: "check the path and its permissions")
            }
        }
        let clusterPath = (directory as NSString).appendingPathComponent(Self.clusterFile)
        let childPath = (directory as NSString).appendingPathComponent(Self.childFile)
        let readmePath = (directory as NSString).appendingPathComponent(Self.readmeFile)
        try Self.write(Self.envelope(clusterRows), to: clusterPath)
        try Self.write(Self.envelope(childRows), to: childPath)
        try Self.write(Array(readme().utf8), to: readmePath)
        return [clusterPath, childPath, readmePath]
    }

    /// The README of a saved snapshot.
    public func readme() -> String {
        let clusters = fleet.clusters.count
        return """
            FluxFleet inventory snapshot, read from Azure Resource Graph.

            Taken:     \(Self.iso8601(takenAt)) by fluxfleet \(FleetCoreVersion.string)
            Endpoint:  \(endpoint) (POST \(Self.path), api-version \(Self.apiVersion))
            Scope:     \(scope.summary)
            Contents:  \(clusters) cluster(s) assembled from \(clusterRows.count) cluster row(s) and \(childRows.count) extension resource row(s)

            \(Self.clusterFile): the clusters, as Resource Graph returned them for
              \(Self.clusterQuery)
            \(Self.childFile): their extensions, Flux configurations and Flux v1 configurations, for
              \(Self.childQuery)

            Both files are Resource Graph responses ({"data": [...]}), every row unchanged, one per line.
            Replay this inventory offline with:
              fluxfleet inventory --inventory <this directory>

            """
    }

    /// A Resource Graph response envelope holding rows as received.
    static func envelope(_ rows: [JSONDocument]) -> [UInt8] {
        var out: [UInt8] = Array("{\"totalRecords\": \(rows.count), \"count\": \(rows.count), \"data\": [".utf8)
        for (n, row) in rows.enumerated() {
            out.append(contentsOf: n == 0 ? [0x0A] : [UInt8(ascii: ","), 0x0A])
            out.append(contentsOf: row.root.rawText.utf8)
        }
        if !rows.isEmpty { out.append(0x0A) }
        out.append(contentsOf: "], \"facets\": [], \"resultTruncated\": \"false\"}\n".utf8)
        return out
    }

    /// Writes a file atomically: a hidden temporary file in the same directory, then a rename over the target.
    static func write(_ bytes: [UInt8], to path: String) throws(AzureARMError) {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try Data(bytes).write(to: temporary)
            if rename(temporary.path, path) != 0 {
                let code = errno
                try? FileManager.default.removeItem(at: temporary)
                throw AzureARMError(
                    .other, what: "cannot move the snapshot file into place: \(String(cString: strerror(code)))",
                    location: path, remedy: "check the directory's permissions and free space")
            }
        } catch let error as AzureARMError {
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw AzureARMError(
                .other, what: "cannot write the snapshot file: \(error.localizedDescription)", location: path,
                remedy: "check the directory's permissions and free space")
        }
    }

    /// `YYYY-MM-DDThh:mm:ssZ` for milliseconds since 1970.
    static func iso8601(_ milliseconds: Int64) -> String {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let inDay = seconds - days * 86_400
        let date = CivilDate.date(daysSinceEpoch: days)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return
            "\(date.year)-\(two(date.month))-\(two(date.day))T\(two(inDay / 3600)):\(two(inDay / 60 % 60)):\(two(inDay % 60))Z"
    }
}
