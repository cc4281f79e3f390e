import Testing

@testable import FleetCore

@Suite("Redaction.url: credentials in URLs masked, other text untouched")
struct RedactionTests {
    @Test(
        "what is masked and what is kept",
        arguments: [
            ("https://x-access-token:ghp_canary@github.com/contoso/fleet", "https://***@github.com/contoso/fleet"),
            ("https://token@dev.azure.com/org/_git/repo", "https://***@dev.azure.com/org/_git/repo"),
            ("ssh://git@github.com/contoso/fleet", "ssh://git@github.com/contoso/fleet"),
            ("ssh://user:secret@host/repo", "ssh://***@host/repo"),
            ("https://github.com/contoso/fleet?ref=a@b", "https://github.com/contoso/fleet?ref=a@b"),
            ("git@github.com:contoso/fleet.git", "git@github.com:contoso/fleet.git"),
            ("main@sha1:b733846d", "main@sha1:b733846d"),
            ("", ""),
            ("://@", "://@"),
            ("HTTPS://u@h/x", "HTTPS://***@h/x"),
        ])
    func cases(text: String, expected: String) {
        #expect(Redaction.url(text) == expected)
        #expect(Redaction.maskingCredentials(text) == expected)
    }

    @Test("the byte pre-check never changes a result: texts with and without `://`, combining marks included")
    func sameAsReference() {
        let pieces = [
            "https", "ssh", ":", "/", "//", "://", "@", "user", ":pw", "host", "?", "#", "é", "\u{301}", "👩‍💻", "x",
        ]
        var state: UInt64 = 11
        for _ in 0..<5000 {
            var text = ""
            state = state &* 6_364_136_223_846_793_005 &+ 1
            for k in 0..<Int(state >> 61) + 1 {
                let pick = Int((state >> UInt64(8 * k % 56)) & 0xff) % pieces.count
                text += pieces[pick]
            }
            #expect(Redaction.url(text) == Redaction.maskingCredentials(text), "\(text.debugDescription)")
        }
        // A combining mark after `://` makes `/́` one Character: the bytes hold `://`, the Characters do not.
        let combined = "https://\u{301}user:pw@host"
        #expect(Redaction.url(combined) == Redaction.maskingCredentials(combined))
    }
}
