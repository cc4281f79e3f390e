import FleetCore
import Foundation
import PolicyEngine
import Testing

/// `../shared/reference/azure-policy-builtins` beside the package, when it exists.
private let builtinsDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    return url.appending(path: "shared/reference/azure-policy-builtins").path
}()

private let builtinsExist = FileManager.default.fileExists(atPath: builtinsDirectory)

@Suite("Loading: Azure's built-in Flux definitions", .enabled(if: builtinsExist))
struct LoadingBuiltinTests {
    /// The 11 built-ins, copied into a temporary `definitions/` folder.
    private func builtins() throws -> LoadingPolicyDirectory {
        let names = try FileManager.default.contentsOfDirectory(atPath: builtinsDirectory)
            .filter { $0.hasSuffix("_DINE.json") }.sorted()
        #expect(names.count == 11)
        let directory = LoadingPolicyDirectory([:])
        for name in names {
            let text = try String(contentsOfFile: builtinsDirectory + "/" + name, encoding: .utf8)
            directory.write("definitions/" + name, text)
        }
        return directory
    }

    @Test("all 11 load without a single diagnostic")
    func loadClean() throws {
        let result = try builtins().load()
        expectNoLoadingProblems(result)
        #expect(result.bundle.definitions.count == 11)
        for definition in result.bundle.definitions.values {
            #expect(definition.mode == "Indexed")
            #expect(definition.category == "Kubernetes")
            #expect(!definition.parameters.all.isEmpty)
        }
    }

    @Test("with AliasCatalog.isKnown as the alias hook, every field of the built-ins is known")
    func builtinAliases() throws {
        let result = try builtins().load(aliasValidator: AliasCatalog.isKnown)
        expectNoLoadingProblems(result)
    }

    @Test("an assignment of the HTTPS CA-cert built-in resolves every parameter")
    func resolveBuiltin() throws {
        let directory = try builtins()
        let loaded = directory.load()
        let definition = try #require(
            loaded.bundle.definitions.values.first { $0.displayName?.contains("HTTPS CA Certificate") == true })
        let required = definition.parameters.all.filter(\.isRequired).map(\.name)
        let parameters = required.map { #""\#($0)": {"value": "v-\#($0)"}"# }.joined(separator: ", ")
        directory.write(
            "assignments/ca.json",
            loadingAssignment(definition: definition.id, parameters: "{\(parameters)}"))
        let result = directory.load()
        expectNoLoadingProblems(result)
        let values = try ParameterResolver.values(
            for: definition, assignment: #require(result.bundle.assignments.first), reference: nil, initiative: nil)
        #expect(values.count == definition.parameters.all.count)
        #expect(values["repositoryHttpsCACert"] == .string("v-repositoryHttpsCACert"))
    }

    @Test("the example initiative loads, and passes its effect expression on to its definitions")
    func exampleInitiative() throws {
        let text = try String(
            contentsOfFile: builtinsDirectory + "/policySetDefinitions-example/AKS_ImageIntegrity.json", encoding: .utf8
        )
        let stub = """
            {"parameters": {"effect": {"type": "String", "defaultValue": "DeployIfNotExists",
                                       "allowedValues": ["DeployIfNotExists", "Audit", "Disabled"]},
                            "excludedNamespaces": {"type": "Array", "defaultValue": []},
                            "excludedImages": {"type": "Array", "defaultValue": []},
                            "labelSelector": {"type": "Object", "defaultValue": {}}},
             "policyRule": {"if": {"field": "type", "equals": "Microsoft.ContainerService/managedClusters"},
                            "then": {"effect": "[parameters('effect')]"}}}
            """
        let directory = LoadingPolicyDirectory(["initiatives/aks.json": text])
        let missing = directory.load()
        #expect(missing.diagnostics.count == 3, "\(loadingDiagnosticsText(missing))")
        #expect(missing.diagnostics.allSatisfy { $0.message.contains("unknown policy definition") })
        let initiative = try #require(missing.bundle.initiatives.values.first)
        for reference in initiative.definitions {
            directory.write("definitions/\(reference.policyDefinitionId.split(separator: "/").last!).json", stub)
        }
        directory.write(
            "assignments/a.json",
            loadingAssignment(definition: initiative.id, parameters: #"{"effect": {"value": "Disabled"}}"#))
        let result = directory.load()
        expectNoLoadingProblems(result)
        let assignment = try #require(result.bundle.assignments.first)
        for reference in initiative.definitions {
            let definition = try #require(result.bundle.definition(id: reference.policyDefinitionId))
            let values = try ParameterResolver.values(
                for: definition, assignment: assignment, reference: reference, initiative: initiative)
            #expect(values["effect"] == .string("Disabled"), "\(reference.referenceId)")
        }
    }
}
