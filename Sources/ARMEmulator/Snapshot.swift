import FleetCore

extension EmulatorState {
    /// The state as an inventory snapshot: a JSON array of ARM resources (ARM GET shape), one per line.
    ///
    /// Every cluster in id order, each followed by its extensions, fluxConfigurations and
    /// sourceControlConfigurations in name order. FleetCore's `SnapshotReader` reads it back.
    public func snapshot() -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        var first = true
        func append(_ json: JSON) {
            out.append(contentsOf: first ? [0x0A] : [UInt8(ascii: ","), 0x0A])
            first = false
            out.append(contentsOf: json.bytes)
        }
        for key in clusterOrder {
            guard let cluster = clusters[key] else { continue }
            append(cluster.body)
            for type in ChildType.allCases {
                for child in cluster.children(type) { append(Rendering.resource(child, in: cluster, state: self)) }
            }
        }
        out.append(contentsOf: first ? [UInt8(ascii: "]"), 0x0A] : [0x0A, UInt8(ascii: "]"), 0x0A])
        return out
    }
}
