/// Why reading Azure failed: what happened, where, and how to fix it, with a category the CLI maps to an exit code.
///
/// Messages never hold request headers (the `Authorization` token in particular) or request bodies; they name the
/// endpoint, the query, the page and what ARM answered (status, error code, `x-ms-request-id`).
public struct AzureARMError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure, for exit codes and retry decisions.
    public enum Category: String, Sendable, Hashable, CaseIterable {
        /// The endpoint could not be reached, or kept failing (5xx, 429, dropped connections, timeouts) after the
        /// retries: exit code 69 (`EX_UNAVAILABLE`).
        case unreachable
        /// ARM refused the credentials (401) or the access (403): exit code 69.
        case unauthorized
        /// ARM answered something that is not a usable Resource Graph response: exit code 65 (`EX_DATAERR`).
        case badResponse
        /// An argument is wrong (a subscription that is not a GUID, a save directory holding other files): exit
        /// code 64 (`EX_USAGE`).
        case usage
        /// Anything else (ARM rejected the query, the snapshot could not be written): exit code 1.
        case other

        /// The process exit code that goes with the category.
        public var exitCode: Int32 {
            switch self {
            case .unreachable, .unauthorized: 69
            case .badResponse: 65
            case .usage: 64
            case .other: 1
            }
        }
    }

    /// The kind of failure.
    public var category: Category
    /// What happened, such as `Resource Graph answered 503 ServiceUnavailable 6 times`.
    public var what: String
    /// Where: the endpoint, the query, the subscription batch and page, or the file.
    public var location: String
    /// How to fix it.
    public var remedy: String
    /// The HTTP status of ARM's last answer, when there was one.
    public var status: Int?
    /// ARM's error code (`error.code`, then the first `error.details[].code` after a slash), when it sent one.
    public var errorCode: String?
    /// ARM's `x-ms-request-id` of the last answer, for a support request.
    public var requestId: String?

    /// Creates an error.
    public init(
        _ category: Category, what: String, location: String, remedy: String, status: Int? = nil,
        errorCode: String? = nil, requestId: String? = nil
    ) {
        self.category = category
        self.what = what
        self.location = location
        self.remedy = remedy
        self.status = status
        self.errorCode = errorCode
        self.requestId = requestId
    }

    /// `what (where; x-ms-request-id …) — remedy`, on one line.
    public var description: String {
        var place = location
        if let requestId, !requestId.isEmpty { place += "; x-ms-request-id \(requestId)" }
        return "\(what) (\(place)) — \(remedy)"
    }
}
