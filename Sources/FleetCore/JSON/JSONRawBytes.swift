extension JSONValue {
    /// Calls `body` with the bytes of a string that holds no escape, exactly as they stand between
    /// its quotes, and returns true; false (and `body` is not called) when the value is not a string
    /// or holds an escape (read ``string`` then).
    ///
    /// For writers that copy strings through unchanged: nothing is decoded or allocated. The bytes
    /// are valid only inside `body`.
    public func withUnescapedStringBytes(_ body: (UnsafeBufferPointer<UInt8>) -> Void) -> Bool {
        guard tag == Tape.string else { return false }
        withExtendedLifetime(document) { body(rawStringBytes) }
        return true
    }

    /// Calls `body` with each member of an object, its key and its value as values, in document
    /// order; nothing when the value is not an object.
    ///
    /// Unlike ``members`` it decodes no key: read one with ``string`` or
    /// ``withUnescapedStringBytes(_:)`` when needed.
    public func forEachMember(_ body: (_ key: JSONValue, _ value: JSONValue) throws -> Void) rethrows {
        guard tag == Tape.object else { return }
        var i = index + 3
        let stop = Tape.payload(word)
        while i < stop {
            let value = JSONValue(document: document, index: i + 1)
            try body(JSONValue(document: document, index: i), value)
            i = value.nextIndex
        }
    }
}
