import FleetCore
import Testing

/// The one-pass member look-up that memo keys, drift keys and deployment fields read with.
@Suite("JSONMemberNames: one pass finds what member(ignoringCase:) and member(preferringExact:) find")
struct MemberNamesTests {
    /// An object with long names (compared eight bytes at a time), case variants, prefixes, duplicates, escaped
    /// keys and nested values to skip.
    static let record = conditionRecord(
        #"""
        {
          "configurationSettings": {"a": 1},
          "ConfigurationSettings": "second",
          "configurationSettingsX": 3,
          "configurationSettingz": 4,
          "CONFIGURATIONPROTECTEDSETTINGS": [1, 2, {"x": "y"}],
          "name": "n1",
          "Name": "n2",
          "location": "East US 2",
          "typ": "short",
          "type": "Microsoft.Kubernetes/connectedClusters",
          "\u0074ags": {"escaped": true},
          "provisioningStateOfTheWholeThing": null,
          "": "empty",
          "a\"b": "quoted",
          "ÜberLongMemberNameWithUmlaut": 5,
          "releaseTrainAndMoreLetters": 6
        }
        """#)

    static let names = [
        "configurationSettings", "CONFIGURATIONSETTINGS", "configurationSetting", "configurationProtectedSettings",
        "name", "NAME", "location", "type", "typ", "types", "tags", "TAGS", "provisioningStateOfTheWholeThing",
        "provisioningStateOfTheWholeThinG", "missingMemberWithALongName", "", "a\"b", "name",
        "überLongMemberNameWithUmlaut", "ÜBERLONGMEMBERNAMEWITHUMLAUT", "ÜberLongMemberNameWithUmlaut",
        "RELEASETRAINANDMORELETTERS", "releaseTrainAndMoreLetterz",
    ]

    /// The JSON text of a found member (nil when absent), to compare results.
    static func text(_ value: JSONValue?) -> String? { value?.rawText }

    @Test("each name gets what the single look-ups return", arguments: [false, true])
    func matchesSingleLookups(preferringExact: Bool) {
        let lookup = JSONMemberNames(Self.names)
        var found: [JSONValue?] = []
        Self.record.members(lookup, matching: preferringExact ? .preferringExact : .ignoringCase, into: &found)
        #expect(found.count == Self.names.count)
        for (k, name) in Self.names.enumerated() {
            let single =
                preferringExact ? Self.record.member(preferringExact: name) : Self.record.member(ignoringCase: name)
            #expect(Self.text(found[k]) == Self.text(single), "name \(name)")
        }
    }

    @Test("more than 64 names are each tried")
    func manyNames() {
        let many = (0..<70).map { "filler\($0)" } + Self.names
        let lookup = JSONMemberNames(many)
        var found: [JSONValue?] = []
        Self.record.members(lookup, matching: .ignoringCase, into: &found)
        #expect(found.count == many.count)
        for (k, name) in many.enumerated() {
            #expect(Self.text(found[k]) == Self.text(Self.record.member(ignoringCase: name)), "name \(name)")
        }
    }

    @Test("a reused array is resized and every entry overwritten; a non-object gives nils")
    func reusesStorage() {
        var found: [JSONValue?] = []
        Self.record.members(JSONMemberNames(Self.names), matching: .ignoringCase, into: &found)
        Self.record.members(JSONMemberNames(["location", "absent"]), matching: .ignoringCase, into: &found)
        #expect(found.count == 2)
        #expect(found[0]?.string == "East US 2")
        #expect(found[1] == nil)
        let array = conditionRecord(#"[{"location": "x"}]"#)
        array.members(JSONMemberNames(["location", "name", "type"]), matching: .preferringExact, into: &found)
        #expect(found.count == 3)
        #expect(found.allSatisfy { $0 == nil })
    }

    @Test(
        "positions name the same members, read through value(at:) of any value of the document",
        arguments: [false, true])
    func positionsMatchMembers(preferringExact: Bool) {
        let match: JSONValue.MemberMatch = preferringExact ? .preferringExact : .ignoringCase
        let lookup = JSONMemberNames(Self.names)
        var found: [JSONValue?] = []
        Self.record.members(lookup, matching: match, into: &found)
        var positions = [Int](repeating: 7, count: Self.names.count + 1)
        positions.withUnsafeMutableBufferPointer { Self.record.memberPositions(lookup, matching: match, into: $0) }
        #expect(positions.last == 7, "only one position per name is written")
        let nested = Self.record.member(ignoringCase: "configurationSettings")!
        for (k, name) in Self.names.enumerated() {
            #expect((positions[k] >= 0) == (found[k] != nil), "name \(name)")
            #expect(Self.text(Self.record.value(at: positions[k])) == Self.text(found[k]), "name \(name)")
            // A position read through another value of the same document names the same member.
            #expect(Self.text(nested.value(at: positions[k])) == Self.text(found[k]), "name \(name)")
        }
        let array = conditionRecord(#"[{"location": "x"}]"#)
        var none = [Int](repeating: 7, count: 2)
        none.withUnsafeMutableBufferPointer {
            array.memberPositions(JSONMemberNames(["location", "name"]), matching: match, into: $0)
        }
        #expect(none == [-1, -1])
        #expect(array.value(at: -1) == nil)
    }
}
