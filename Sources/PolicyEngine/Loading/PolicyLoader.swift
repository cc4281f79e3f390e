import FleetCore
import Foundation

/// Answers whether a `field` path of a policy rule is a known alias or field, with a near miss when not.
///
/// It receives every `field` value that is not an expression, as written: aliases such as
/// `Microsoft.KubernetesConfiguration/fluxConfigurations/gitRepository.url` and also the built-in
/// fields (`type`, `name`, `location`, `tags['env']`, …). The suggestion is a field or alias name.
public typealias PolicyAliasValidator = (String) -> (known: Bool, suggestion: String?)

/// What ``PolicyLoader/load(directory:aliasValidator:)`` read: the documents and every problem.
public struct PolicyLoadResult: Sendable {
    /// The documents that could be read.
    ///
    /// A document missing a required part (a definition's `policyRule.if`, an
    /// assignment's `policyDefinitionId`, …) or repeating another's id is left out.
    public var bundle: PolicyBundle
    /// Every problem, grouped by file in reading order.
    public var diagnostics: [PolicyDiagnostic]

    /// Whether any diagnostic is an error (the bundle must then not be evaluated).
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// Reads and validates a `policies/` directory of Azure Policy JSON.
///
/// Layout: `definitions/`, `initiatives/`, `assignments/` and `exemptions/`, each holding `*.json`
/// files at any depth (read in path order; other files, hidden files and `rollout.json` are
/// ignored). A file holds one document or a JSON array of documents. A document is Azure's
/// envelope `{"id", "name", "type", "properties": {…}}` or a bare properties object, whose name is
/// then the file name without `.json` (a bare document in an array is an error: it has no name).
///
/// Ids: without an envelope id, a definition is `/providers/Microsoft.Authorization/policyDefinitions/<name>`,
/// an initiative `/providers/Microsoft.Authorization/policySetDefinitions/<name>`, an assignment
/// `<properties.scope>/providers/Microsoft.Authorization/policyAssignments/<name>` and an exemption
/// `<properties.scope>/providers/Microsoft.Authorization/policyExemptions/<name>` (`scope` in an
/// exemption's properties is FluxFleet's own, for documents without an id). Ids compare ignoring case.
///
/// The bundle's digest is 64-bit FNV-1a over, for each file read in order: its path relative to
/// the directory, a zero byte, its size in decimal, a zero byte and its bytes; as 16 hex digits.
public enum PolicyLoader {
    /// Reads every policy document under `directory` and reports every problem at once.
    ///
    /// - Parameters:
    ///   - directory: The `policies/` directory.
    ///   - aliasValidator: Called for every non-expression `field` value of every policy rule
    ///     (conditions, `count.field`, existence conditions, modify operations); unknown ones are
    ///     reported. Without it, fields are not checked.
    /// - Returns: The bundle and the diagnostics (errors and warnings, each with file and JSON path).
    public static func load(directory: String, aliasValidator: PolicyAliasValidator? = nil) -> PolicyLoadResult {
        var session = PolicyLoadSession(aliasValidator: aliasValidator)
        session.readDirectory(directory)
        session.checkReferences()
        return session.result
    }
}

/// The four kinds of document and their folders.
enum PolicyDocumentKind: CaseIterable {
    case definition
    case initiative
    case assignment
    case exemption

    /// The folder under the policies directory.
    var folder: String {
        switch self {
        case .definition: "definitions"
        case .initiative: "initiatives"
        case .assignment: "assignments"
        case .exemption: "exemptions"
        }
    }

    /// The ARM resource type.
    var resourceType: String {
        "Microsoft.Authorization/" + idSegment
    }

    /// The id segment before the name.
    var idSegment: String {
        switch self {
        case .definition: "policyDefinitions"
        case .initiative: "policySetDefinitions"
        case .assignment: "policyAssignments"
        case .exemption: "policyExemptions"
        }
    }

    /// The noun for messages.
    var noun: String {
        switch self {
        case .definition: "policy definition"
        case .initiative: "initiative"
        case .assignment: "policy assignment"
        case .exemption: "policy exemption"
        }
    }
}

/// The envelope facts of one document.
struct DocumentIdentity {
    /// The whole document.
    let node: PolicyNode
    /// `properties` for an envelope, else the document itself.
    let properties: PolicyNode
    /// The envelope id, if any.
    let id: String?
    /// The name: the envelope's, else the id's last segment, else the file name.
    let name: String
    /// Where the id is written (or the document when it is not).
    let idSource: PolicySource
}

/// An initiative with the nodes its cross-file checks need.
struct LoadedInitiative {
    var model: PolicySetDefinition
    let properties: PolicyNode
    /// One node per entry of `model.definitions`.
    let referenceNodes: [PolicyNode]
}

/// An assignment with its properties node.
struct LoadedAssignment {
    var model: PolicyAssignment
    let properties: PolicyNode
}

/// An exemption with its properties node.
struct LoadedExemption {
    var model: PolicyExemption
    let properties: PolicyNode
}

/// One run of the loader: reading (per document) then cross-file checks.
struct PolicyLoadSession {
    let aliasValidator: PolicyAliasValidator?
    var log = PolicyDiagnosticLog()
    var digest = FNV1a64()
    /// Files that could not be read or parsed (unknown ids may be in them).
    var unreadableFiles: [String] = []
    var fileOrder: [String: Int] = [:]
    var definitions: [String: PolicyDefinition] = [:]
    var initiatives: [LoadedInitiative] = []
    var initiativeIndex: [String: Int] = [:]
    var assignments: [LoadedAssignment] = []
    var exemptions: [LoadedExemption] = []
    /// The first document of each (kind, lowercased id), for duplicate detection.
    var firstSeen: [String: PolicySource] = [:]
    /// Lowercased ids of documents left out of the bundle for missing parts (no cascade errors for them).
    var incompleteIds: Set<String> = []

    init(aliasValidator: PolicyAliasValidator?) {
        self.aliasValidator = aliasValidator
    }

    /// The bundle and the diagnostics grouped by file.
    var result: PolicyLoadResult {
        let bundle = PolicyBundle(
            definitions: definitions,
            initiatives: Dictionary(initiatives.map { (ASCII.lowercased($0.model.id), $0.model) }) { first, _ in first
            },
            assignments: assignments.map(\.model), exemptions: exemptions.map(\.model), digest: digest.hex)
        let ordered = log.diagnostics.enumerated().sorted { a, b in
            let fa = fileOrder[a.element.source.file] ?? -1
            let fb = fileOrder[b.element.source.file] ?? -1
            return fa != fb ? fa < fb : a.offset < b.offset
        }
        return PolicyLoadResult(bundle: bundle, diagnostics: ordered.map(\.element))
    }

    // MARK: - Files

    mutating func readDirectory(_ directory: String) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            log.error(
                PolicySource(file: directory), "the policy directory does not exist or is not a directory",
                suggestion: "pass the directory that holds definitions/, initiatives/, assignments/ and exemptions/")
            return
        }
        var found = false
        for kind in PolicyDocumentKind.allCases {
            for file in Self.jsonFiles(in: directory, folder: kind.folder) {
                found = true
                readFile(Self.join(directory, file), relativePath: file, kind: kind)
            }
        }
        if !found {
            log.warning(
                PolicySource(file: directory), "no policy documents found",
                suggestion: "put documents in definitions/*.json, initiatives/*.json, assignments/*.json "
                    + "and exemptions/*.json")
        }
    }

    static func join(_ directory: String, _ relative: String) -> String {
        directory.hasSuffix("/") ? directory + relative : directory + "/" + relative
    }

    /// The `*.json` files under `directory/folder`, as sorted paths relative to `directory`.
    static func jsonFiles(in directory: String, folder: String) -> [String] {
        let base = join(directory, folder)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: base, isDirectory: &isDirectory), isDirectory.boolValue,
            let paths = try? FileManager.default.subpathsOfDirectory(atPath: base)
        else { return [] }
        var files: [String] = []
        for path in paths {
            let components = path.split(separator: "/")
            guard let last = components.last, ASCII.lowercased(String(last)).hasSuffix(".json"),
                !components.contains(where: { $0.hasPrefix(".") })
            else { continue }
            var isFolder: ObjCBool = false
            let full = join(base, path)
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isFolder), !isFolder.boolValue else {
                continue
            }
            files.append(folder + "/" + path)
        }
        return files.sorted()
    }

    mutating func readFile(_ path: String, relativePath file: String, kind: PolicyDocumentKind) {
        fileOrder[file] = fileOrder.count
        let bytes: JSONBytes
        do throws(FileReadError) {
            bytes = try JSONBytes(contentsOfFile: path)
        } catch {
            log.error(PolicySource(file: file), "cannot read the file: \(error)")
            unreadableFiles.append(file)
            return
        }
        digest.add(file.utf8)
        digest.add([0])
        digest.add(String(bytes.count).utf8)
        digest.add([0])
        digest.add(bytes.buffer)
        let document: JSONDocument
        do throws(JSONError) {
            document = try JSONDocument.parse(bytes)
        } catch {
            log.error(
                PolicySource(file: file, path: error.path),
                "invalid JSON at line \(error.line), column \(error.column): \(error.message)")
            unreadableFiles.append(file)
            return
        }
        let root = PolicyNode(value: document.root, source: PolicySource(file: file))
        if root.isArray {
            for element in root.elements { readDocument(element, kind: kind, inArray: true) }
        } else {
            readDocument(root, kind: kind, inArray: false)
        }
    }

    mutating func readDocument(_ node: PolicyNode, kind: PolicyDocumentKind, inArray: Bool) {
        guard node.isObject else {
            log.error(
                node.source, "expected a \(kind.noun) (a JSON object), got \(node.kind.rawValue)",
                suggestion: inArray ? nil : "a file holds one document or an array of documents")
            return
        }
        guard let identity = identify(node, kind: kind, inArray: inArray) else { return }
        switch kind {
        case .definition: readDefinition(identity)
        case .initiative: readInitiative(identity)
        case .assignment: readAssignment(identity)
        case .exemption: readExemption(identity)
        }
    }

    mutating func identify(_ node: PolicyNode, kind: PolicyDocumentKind, inArray: Bool) -> DocumentIdentity? {
        var properties = node
        var id: String?
        var name: String?
        if let envelope = node.member("properties") {
            guard envelope.isObject else {
                log.error(envelope.source, "'properties' must be an object, got \(envelope.kind.rawValue)")
                return nil
            }
            properties = envelope
            id = optionalString(node, "id")
            name = optionalString(node, "name")
            if let typeNode = node.member("type"), let type = typeNode.string,
                !ASCII.equalsIgnoringCase(type, kind.resourceType)
            {
                let other = PolicyDocumentKind.allCases.first { ASCII.equalsIgnoringCase($0.resourceType, type) }
                log.error(
                    typeNode.source, "type '\(type)' does not belong in \(kind.folder)/",
                    suggestion: other.map { "move the document to \($0.folder)/" } ?? "use '\(kind.resourceType)'")
            }
        }
        if name == nil, let id { name = PolicyIds.lastSegment(id) }
        if name == nil, !inArray, let file = node.source.file.split(separator: "/").last {
            name = String(file.dropLast(".json".count))
        }
        guard let name, !name.isEmpty else {
            log.error(
                node.source, "a \(kind.noun) in an array needs a 'name' or an 'id'",
                suggestion: "write it as {\"name\": \"…\", \"properties\": {…}}")
            return nil
        }
        return DocumentIdentity(
            node: node, properties: properties, id: id, name: name,
            idSource: node.member("id")?.source ?? node.source)
    }

    /// Records a document's id; false (with an error) when another document already has it.
    mutating func register(_ kind: PolicyDocumentKind, id: String, at source: PolicySource) -> Bool {
        let key = kind.folder + ":" + ASCII.lowercased(id)
        if let first = firstSeen[key] {
            log.error(
                source, "duplicate \(kind.noun) id '\(id)' (ids ignore case)",
                suggestion: "the first one is at \(first); give each document its own name or id")
            return false
        }
        firstSeen[key] = source
        return true
    }

    // MARK: - Typed members

    /// A member that must be present and of one kind; reports and returns nil otherwise.
    mutating func required(
        _ parent: PolicyNode, _ name: String, _ kind: JSONKind, hint: String? = nil
    ) -> PolicyNode? {
        guard let node = parent.member(name) else {
            let nearMiss = PolicyNearMiss.best(name, among: parent.members.map(\.key))
                .map { "found '\($0)': did you mean '\(name)'?" }
            log.error(parent.source, "missing required member '\(name)'", suggestion: nearMiss ?? hint)
            return nil
        }
        guard node.kind == kind else {
            log.error(node.source, "'\(name)' must be \(Self.article(kind)), got \(node.kind.rawValue)")
            return nil
        }
        return node
    }

    /// An optional string member (`null` counts as absent); reports a value of another kind.
    mutating func optionalString(_ parent: PolicyNode, _ name: String) -> String? {
        guard let node = parent.member(name), !node.isNull else { return nil }
        guard let text = node.string else {
            log.error(node.source, "'\(name)' must be a string, got \(node.kind.rawValue)")
            return nil
        }
        return text
    }

    /// An optional array of strings (`null` counts as absent); reports other values.
    mutating func optionalStrings(_ parent: PolicyNode, _ name: String) -> [String]? {
        guard let node = parent.member(name), !node.isNull else { return nil }
        guard node.isArray else {
            log.error(node.source, "'\(name)' must be an array of strings, got \(node.kind.rawValue)")
            return nil
        }
        var strings: [String] = []
        for element in node.elements {
            if let text = element.string {
                strings.append(text)
            } else {
                log.error(element.source, "an element of '\(name)' must be a string, got \(element.kind.rawValue)")
            }
        }
        return strings
    }

    /// An optional array of objects (`null` counts as absent); reports other values.
    mutating func optionalObjects(_ parent: PolicyNode, _ name: String) -> [PolicyNode] {
        guard let node = parent.member(name), !node.isNull else { return [] }
        guard node.isArray else {
            log.error(node.source, "'\(name)' must be an array, got \(node.kind.rawValue)")
            return []
        }
        var objects: [PolicyNode] = []
        for element in node.elements {
            if element.isObject {
                objects.append(element)
            } else {
                log.error(element.source, "an element of '\(name)' must be an object, got \(element.kind.rawValue)")
            }
        }
        return objects
    }

    static func article(_ kind: JSONKind) -> String {
        switch kind {
        case .object, .array: "an \(kind.rawValue)"
        case .null: "null"
        default: "a \(kind.rawValue)"
        }
    }
}
