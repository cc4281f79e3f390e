import Testing

@testable import PolicyEngine

/// An object whose lifetime the tests watch through weak references.
private final class Tracked {
    let value: Int
    init(_ value: Int) { self.value = value }
}

@Suite("PartBuffer and PartMerge: a scan's parts appended in place and joined by moving")
struct PartBufferTests {
    @Test("appending far past the reserved capacity keeps every element, in order, changeable in place")
    func growsInOrder() {
        var buffer = PartBuffer<String>(capacity: 3)
        for k in 0..<1000 { buffer.append("element \(k) with text long enough to be stored out of line") }
        buffer[999] += " (changed)"
        #expect(buffer.count == 1000)
        #expect(buffer[0] == "element 0 with text long enough to be stored out of line")
        let joined = PartMerge.merge([buffer.take()])
        #expect(joined.count == 1000)
        #expect(joined[999].hasSuffix("(changed)"))
        #expect(joined.indices.allSatisfy { joined[$0].hasPrefix("element \($0) ") })
    }

    @Test("parts are joined in part order, empty parts included, and every element is released exactly once")
    func joinsAndReleases() {
        var watched: [() -> Tracked?] = []
        var joined: [Tracked]? = {
            var parts: [PartMerge.Part<Tracked>] = []
            var next = 0
            for size in [0, 5, 40, 0, 17] {
                var buffer = PartBuffer<Tracked>(capacity: 2)
                for _ in 0..<size {
                    let object = Tracked(next)
                    watched.append { [weak object] in object }
                    buffer.append(object)
                    next += 1
                }
                parts.append(buffer.take())
            }
            return PartMerge.merge(parts)
        }()
        #expect(joined?.map(\.value) == Array(0..<62))
        #expect(watched.allSatisfy { $0() != nil })
        joined = nil
        #expect(watched.allSatisfy { $0() == nil })
    }

    @Test("a buffer dropped without being taken releases what it holds")
    func dropReleases() {
        var watched: [() -> Tracked?] = []
        do {
            var buffer = PartBuffer<Tracked>(capacity: 1)
            for k in 0..<20 {
                let object = Tracked(k)
                watched.append { [weak object] in object }
                buffer.append(object)
            }
            #expect(buffer.count == 20)
        }
        #expect(watched.allSatisfy { $0() == nil })
    }
}
