import Foundation

/// Why an operation failed: ARM's error code and message, and what a person should do about it.
public struct RemediationFailure: Sendable, Hashable, Error {
    /// ARM's error code (`ExtensionOperationFailed`, …) or a Remediator code (`OperationTimedOut`,
    /// `ConnectionDropped`, `SecretUnresolved`, `ComplianceTimedOut`, `RetriesExhausted`).
    public var code: String
    /// What went wrong (ARM's message; never a secret value).
    public var message: String
    /// The HTTP status, when an answer carried the failure.
    public var status: Int?
    /// What to do about it.
    public var remedy: String
    /// ARM's `x-ms-request-id` of the answer that carried the failure, for a support case.
    public var requestId: String?
    /// ARM's `x-ms-correlation-request-id` of the answer that carried the failure (it ties the operation's
    /// requests together in the Azure activity log).
    public var correlationId: String?

    /// Creates a failure.
    public init(
        code: String, message: String, status: Int? = nil, remedy: String, requestId: String? = nil,
        correlationId: String? = nil
    ) {
        self.code = code
        self.message = message
        self.status = status
        self.remedy = remedy
        self.requestId = requestId
        self.correlationId = correlationId
    }
}

/// Classifies ARM answers: which ones are worth retrying, and a human remedy for the others.
public enum ARMErrorClassifier {
    /// Whether an HTTP status (with its ARM error code) is transient: 429, 5xx, and 409s that mean another
    /// operation is still running.
    public static func isRetryable(status: Int, code: String?) -> Bool {
        if status == 429 || status == 408 || status >= 500 { return true }
        if status == 409, let code, ["AnotherOperationInProgress", "OperationInProgress"].contains(code) {
            return true
        }
        return false
    }

    /// The remedy for a non-retryable ARM error, made exact from ARM's message where it names what is missing:
    /// the action and scope of an `AuthorizationFailed`, the namespace of a `MissingSubscriptionRegistration`.
    public static func remedy(status: Int, code: String, message: String) -> String {
        switch code {
        case "AuthorizationFailed", "LinkedAuthorizationFailed":
            guard let action = quoted(after: "action '", in: message) else { break }
            let scope = quoted(after: "scope '", in: message).map { " on \($0)" } ?? ""
            return
                "grant the identity \(action)\(scope) (a role with it, or the custom role `fluxfleet plan --show-permissions --output json` prints), then re-run; role assignments can take a few minutes to apply"
        case "MissingSubscriptionRegistration":
            guard let namespace = quoted(after: "namespace '", in: message) else { break }
            return
                "register the resource provider: az provider register --namespace \(namespace) (once per subscription)"
        default:
            break
        }
        return remedy(status: status, code: code)
    }

    /// The text between `marker` and the next `'` in `message`.
    static func quoted(after marker: String, in message: String) -> String? {
        guard let start = message.range(of: marker, options: .caseInsensitive) else { return nil }
        let rest = message[start.upperBound...]
        guard let end = rest.firstIndex(of: "'"), end > rest.startIndex else { return nil }
        return String(rest[..<end])
    }

    /// The remedy for a non-retryable ARM error.
    public static func remedy(status: Int, code: String) -> String {
        switch code {
        case "ExtensionOperationFailed":
            return
                "the cluster cannot take the extension: give an AKS cluster a managed identity (az aks update --enable-managed-identity) and remove Flux v1 sourceControlConfigurations, then re-plan"
        case "OperationNotAllowed":
            return
                "the cluster is not in a state that allows the change (stopped, or an operation in flight): start it or wait, then re-plan"
        case "PropertyChangeNotAllowed":
            return
                "scope and namespace of a fluxConfiguration cannot change: re-plan with --allow-replace to delete and re-create it"
        case "MissingSubscriptionRegistration":
            return "register the resource provider: az provider register --namespace Microsoft.KubernetesConfiguration"
        case "AuthorizationFailed", "LinkedAuthorizationFailed":
            return
                "grant the identity a role that can write Microsoft.KubernetesConfiguration resources on the cluster (e.g. Kubernetes Extension Contributor)"
        case "ScopeLocked":
            return
                "a resource lock (ReadOnly or CanNotDelete) on the cluster, its resource group or subscription refuses the write: remove it (az lock list --resource-group RG; az lock delete …) or exclude that scope with notScopes, then re-plan"
        case "RequestDisallowedByPolicy":
            return
                "an Azure Policy deny assignment refuses the body: see the policy named in ARM's message, exempt the cluster or align the baseline with it"
        case "AuthenticationFailed", "InvalidAuthenticationToken", "ExpiredAuthenticationToken":
            return "sign in again (az login, or check the workload identity / client secret in the environment)"
        case "ResourceNotFound", "ParentResourceNotFound", "ResourceGroupNotFound", "SubscriptionNotFound":
            return "the cluster or its resource group no longer exists: re-scan the inventory and re-plan"
        case "NoRegisteredProviderFound", "MissingApiVersionParameter":
            return "the api-version is not served for this resource type: update FluxFleet"
        case "InvalidRequestContent", "BadRequest", "InvalidParameter", "ValidationError":
            return "ARM rejected the desired body: check the policy parameters that build it (fluxfleet policy explain)"
        default:
            switch status {
            case 401: return "sign in again"
            case 403: return "grant the identity write access to the cluster's extensions and fluxConfigurations"
            case 404: return "the target no longer exists: re-scan and re-plan"
            case 409: return "the resource is in a conflicting state: re-scan and re-plan"
            default: return "see ARM's message; fix the cause, then re-plan"
            }
        }
    }
}
