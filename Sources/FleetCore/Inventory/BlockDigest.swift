import Dispatch

/// The digest of a large input (an inventory file), computed on every core.
///
/// The bytes are cut into 1 MiB blocks; each block is hashed eight bytes at a time in four independent lanes
/// (so a core is not held to one multiply per byte, as FNV-1a is), and the block hashes are folded in order with
/// 64-bit FNV-1a. The same bytes give the same digest on any machine and with any number of cores.
/// Every step of a lane is a bijection of its state, so two blocks that differ in a single word always hash
/// apart. Not a security hash.
///
/// The memos' in-memory key hash (`ByteKeyBuilder.digest`) has the same shape but may change with any release;
/// this one is stored in runs and plans, and its values are pinned by tests.
public enum BlockDigest {
    /// The size of a block.
    public static let blockSize = 1 << 20

    /// The digest of `bytes`, its blocks hashed on up to `parallelism` threads.
    public static func of(_ bytes: UnsafeRawBufferPointer, parallelism: Int = JSONRecords.availableCores) -> UInt64 {
        let blocks = (bytes.count + blockSize - 1) / blockSize
        var hashes = [UInt64](repeating: 0, count: blocks)
        hashes.withUnsafeMutableBufferPointer { out in
            let work = Work(input: bytes, output: out)
            let threads = max(1, min(parallelism, blocks))
            // Many more parts than threads: a thread held up by the machine leaves little for the end.
            let parts = threads == 1 ? 1 : min(blocks, threads * 16)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                for k in (blocks * part / parts)..<(blocks * (part + 1) / parts) {
                    let start = k * blockSize
                    let end = min(start + blockSize, work.input.count)
                    work.output[k] = block(UnsafeRawBufferPointer(rebasing: work.input[start..<end]))
                }
            }
        }
        return fold([UInt64(bytes.count)] + hashes)
    }

    /// 64-bit FNV-1a over the little-endian bytes of `words`.
    static func fold(_ words: [UInt64]) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for word in words {
            withUnsafeBytes(of: word.littleEndian) { bytes in
                for byte in bytes { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
            }
        }
        return value
    }

    /// The input and the block hashes, shared by the threads (each writes its own blocks' entries only).
    private struct Work: @unchecked Sendable {
        let input: UnsafeRawBufferPointer
        let output: UnsafeMutableBufferPointer<UInt64>
    }

    /// The hash of one block (at most ``blockSize`` bytes).
    static func block(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let prime: UInt64 = 0x0000_0100_0000_01b3
        var lanes: (UInt64, UInt64, UInt64, UInt64) = (
            0xcbf2_9ce4_8422_2325, 0x9e37_79b9_7f4a_7c15, 0xc2b2_ae3d_27d4_eb4f, 0x1656_67b1_9e37_79f9
        )
        /// One step of a lane: mix in a word, multiply by an odd number, fold the high half down (each a bijection).
        @inline(__always) func step(_ lane: inout UInt64, _ word: UInt64) {
            lane = (lane ^ word) &* prime
            lane ^= lane >> 29
        }
        @inline(__always) func word(_ offset: Int) -> UInt64 {
            UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }
        var offset = 0
        while offset + 32 <= bytes.count {
            step(&lanes.0, word(offset))
            step(&lanes.1, word(offset + 8))
            step(&lanes.2, word(offset + 16))
            step(&lanes.3, word(offset + 24))
            offset += 32
        }
        while offset + 8 <= bytes.count {
            step(&lanes.0, word(offset))
            offset += 8
        }
        // The last bytes, one at a time, into the second lane (apart from the words that went into the first).
        while offset < bytes.count {
            step(&lanes.1, UInt64(bytes[offset]))
            offset += 1
        }
        return fold([lanes.0, lanes.1, lanes.2, lanes.3, UInt64(bytes.count)])
    }
}
