import FleetCore
import Foundation
import Testing

/// `count` bytes of a fixed pseudo-random sequence.
private func bytes(_ count: Int, seed: UInt64 = 7) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 56)
    }
}

private func digest(_ input: [UInt8], parallelism: Int = 2) -> UInt64 {
    input.withUnsafeBytes { BlockDigest.of($0, parallelism: parallelism) }
}

@Suite("BlockDigest: the inventory files' digest, on every core")
struct BlockDigestTests {
    static let block = BlockDigest.blockSize
    static let sizes = [0, 1, 7, 8, 31, 32, 33, 100, block - 1, block, block + 1, 3 * block + 13]

    @Test("the same bytes give the same digest with any number of threads", arguments: sizes)
    func threads(size: Int) {
        let input = bytes(size)
        let one = digest(input, parallelism: 1)
        #expect(digest(input, parallelism: 2) == one)
        #expect(digest(input, parallelism: 8) == one)
    }

    @Test("a change of one byte anywhere, or one byte more or less, changes the digest", arguments: sizes.dropFirst())
    func changes(size: Int) {
        let input = bytes(size)
        let original = digest(input)
        for offset in Set([0, size / 2, size - 1, min(size - 1, Self.block), min(size - 1, 2 * Self.block + 5)]) {
            var changed = input
            changed[offset] ^= 0x01
            #expect(digest(changed) != original, "a change at \(offset) of \(size)")
        }
        #expect(digest(Array(input.dropLast())) != original)
        #expect(digest(input + [0]) != original)
    }

    @Test("blocks swapped, or a word moved to another lane, change the digest")
    func order() {
        let a = bytes(Self.block, seed: 1)
        let b = bytes(Self.block, seed: 2)
        #expect(digest(a + b) != digest(b + a))
        let words = bytes(64, seed: 3)
        // The first and second words go to different lanes: swapped, the lanes see different words.
        let swapped = Array(words[8..<16] + words[0..<8] + words[16...])
        #expect(digest(swapped) != digest(words))
    }

    @Test("the digest of known bytes stays the same from version to version")
    func pinned() {
        // Recorded runs and saved plans keep these digests: a change to the function must be a deliberate one.
        // The values were checked against a separate implementation of the description (in Python).
        #expect(digest([]) == 0xa8c7_f832_281a_39c5)
        #expect(digest(Array("fluxfleet".utf8)) == 0xf405_980b_92da_6a02)
        #expect(digest(bytes(Self.block + 100)) == 0x2cf0_1a60_bea6_4cd4)
    }

    @Test("the loader digests the bytes it parses when asked, and only then")
    func loader() throws {
        let text = Array(
            #"[{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/a", "name": "a", "type": "Microsoft.ContainerService/managedClusters", "location": "westeurope", "properties": {}}]"#
                .utf8)
        let url = FileManager.default.temporaryDirectory.appending(
            path: "block-digest-\(UInt32.random(in: 0...UInt32.max)).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(text).write(to: url)
        let digested = try SnapshotReader.load(path: url.path, digests: true)
        #expect(digested.files.map(\.contentDigest) == [digest(text)])
        #expect(try SnapshotReader.load(path: url.path).files.map(\.contentDigest) == [nil])
    }
}
