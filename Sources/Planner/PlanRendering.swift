import FleetCore

extension Plan {
    /// The plan document of DESIGN §9 (`formatVersion` 1), pretty-printed, ending in a newline.
    ///
    /// `{"formatVersion", "planId", "inputs", "summary": {change, noop, blocked, deferred, skipped}, "clusters": [{clusterId,
    /// name, fingerprint, decision, reason, remedy, message, otherReasons, actions: [{kind, resourceId,
    /// resourceType, apiVersion, body, diff: [{path, before, after}], reason, assignmentIds}]}]}`. `reason` is
    /// the stable code (null for change and noop). The file written by `--out` is this document.
    public func jsonBytes() -> [UInt8] { render(pretty: true, planId: planId) }

    /// The plan's identity: `sha256:` and the SHA-256 of the compact document without this member.
    ///
    /// The same inputs, options and observed state give the same id, so `apply` can refuse a plan it has
    /// already consumed.
    public var planId: String {
        var hash = SHA256()
        hash.update(render(pretty: false, planId: nil))
        return "sha256:" + hash.finalize()
    }

    private func render(pretty: Bool, planId: String?) -> [UInt8] {
        var w = JSONWriter(pretty: pretty, capacity: 4096 + clusters.count * 1024)
        w.beginObject()
        w.member("formatVersion", Plan.formatVersion)
        if let planId { w.member("planId", planId) }
        w.key("inputs")
        w.beginObject()
        w.member("inventory", inputs.inventory)
        w.member("inventoryDigest", inputs.inventoryDigest)
        w.member("policies", inputs.policies)
        w.member("policiesDigest", inputs.policiesDigest)
        w.member("evaluatedAt", inputs.evaluatedAt)
        w.member("fingerprintAlgorithm", Fingerprint.algorithm)
        w.key("options")
        w.beginObject()
        w.member("allowReplace", options.allowReplace)
        w.member("migrateFluxV1", options.migrateFluxV1)
        w.member("includeDoNotEnforce", options.includeDoNotEnforce)
        w.member("neverTouchTag", options.neverTouchTag)
        if !options.changeWindows.isEmpty {
            w.key("changeWindows")
            w.beginArray()
            for window in options.changeWindows {
                w.beginObject()
                w.member("name", window.name)
                w.member("window", window.summary)
                w.member("selector", window.selector?.text)
                w.endObject()
            }
            w.endArray()
        }
        w.member("fluxLatest", options.catalog.latest.description)
        w.endObject()
        w.endObject()
        w.key("summary")
        w.beginObject()
        let summary = summary
        for decision in PlanDecision.allCases { w.member(decision.rawValue, summary[decision] ?? 0) }
        w.endObject()
        w.key("clusters")
        w.beginArray()
        for cluster in clusters {
            w.beginObject()
            w.member("clusterId", cluster.clusterId)
            w.member("name", cluster.name)
            w.member("fingerprint", cluster.fingerprint)
            w.member("decision", cluster.decision.rawValue)
            w.member("reason", cluster.reason?.code)
            w.member("remedy", cluster.reason?.remedy)
            w.member("message", cluster.reason?.message)
            w.key("otherReasons")
            w.beginArray()
            for reason in cluster.otherReasons {
                w.beginObject()
                w.member("reason", reason.code)
                w.member("message", reason.message)
                w.member("remedy", reason.remedy)
                w.endObject()
            }
            w.endArray()
            w.key("actions")
            w.beginArray()
            for action in cluster.actions {
                w.beginObject()
                w.member("kind", action.kind.rawValue)
                w.member("resourceId", action.resourceId)
                w.member("resourceType", action.resourceType)
                w.member("apiVersion", action.apiVersion)
                w.key("body")
                if let body = action.body { w.value(body) } else { w.null() }
                w.key("diff")
                w.beginArray()
                for entry in action.diff {
                    w.beginObject()
                    w.member("path", entry.path)
                    w.key("before")
                    if let before = entry.before { w.value(before) } else { w.null() }
                    w.key("after")
                    if let after = entry.after { w.value(after) } else { w.null() }
                    w.endObject()
                }
                w.endArray()
                w.member("reason", action.reason)
                w.key("assignmentIds")
                w.beginArray()
                for id in action.assignmentIds { w.string(id) }
                w.endArray()
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        if pretty { w.newlineAtEnd() }
        return w.bytes
    }

    /// The one-line summary that ends the human view.
    ///
    /// For example `Plan: 3 to install, 2 to update; 2 blocked, 1 deferred, 5 unchanged, 3 skipped.`: action counts in execution order (only the kinds present; `no changes` when none), then clusters per
    /// decision.
    public var summaryLine: String {
        let counts = actionCounts
        let verbs: [(PlanActionKind, String)] = [
            (.deleteFluxV1, "to delete (Flux v1)"), (.installExtension, "to install"), (.repairExtension, "to repair"),
            (.upgradeExtension, "to upgrade"), (.createConfiguration, "to create"),
            (.updateConfiguration, "to update"), (.replaceConfiguration, "to replace"),
        ]
        let changes = verbs.compactMap { kind, verb in counts[kind].map { "\($0) \(verb)" } }
        let summary = summary
        return "Plan: \(changes.isEmpty ? "no changes" : changes.joined(separator: ", ")); "
            + "\(summary[.blocked] ?? 0) blocked, \(summary[.deferred] ?? 0) deferred, "
            + "\(summary[.noop] ?? 0) unchanged, \(summary[.skipped] ?? 0) skipped."
    }

    /// The Terraform-like human view: per cluster with something to say, its actions (`+` create, `~` update
    /// with `path: before → after` lines, `-/+` replace, `-` delete) or its reason (`!` blocked, `…` deferred);
    /// then the skipped and unchanged clusters in one line each, and the summary line.
    ///
    /// - Parameter color: ANSI colours (only on a terminal, and never when `NO_COLOR` is set).
    public func table(color: Bool = false) -> String {
        func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        func symbolColor(_ kind: PlanActionKind) -> String {
            switch kind {
            case .installExtension, .createConfiguration: "32"
            case .repairExtension, .upgradeExtension, .updateConfiguration: "33"
            case .replaceConfiguration, .deleteFluxV1: "31"
            }
        }
        var out = ""
        let width = max(0, clusters.map { $0.name.count }.max() ?? 0)
        func padded(_ name: String) -> String { name + String(repeating: " ", count: max(0, width - name.count)) }
        for cluster in clusters where cluster.decision == .change {
            out += "\(paint(cluster.name, "1")) will change (\(cluster.actions.count) action(s))\n"
            for action in cluster.actions {
                let raw = action.kind.symbol
                let symbol = String(repeating: " ", count: max(0, 3 - raw.count)) + paint(raw, symbolColor(action.kind))
                out += "  \(symbol) \(action.kind.rawValue) \(Planner.lastSegment(action.resourceId))"
                out += "  (\(action.reason))\n"
                for entry in action.diff {
                    out += "        \(entry.path.isEmpty ? "(resource)" : entry.path): "
                    out += "\(Planner.render(entry.before)) → \(Planner.render(entry.after))\n"
                }
            }
        }
        for cluster in clusters where cluster.decision == .blocked || cluster.decision == .deferred {
            guard let reason = cluster.reason else { continue }
            let blocked = cluster.decision == .blocked
            let mark = blocked ? paint("!", "31") : paint("…", "36")
            out += "\(mark) \(paint(cluster.name, "1")) \(cluster.decision.rawValue): "
            out += "\(reason.code) — \(reason.message)\n"
            out += "    \(blocked ? "fix" : "retry"): \(reason.remedy)\n"
            for other in cluster.otherReasons {
                out += "    also \(other.code) — \(other.message)\n"
            }
        }
        let skipped = clusters.filter { $0.decision == .skipped }
        if !skipped.isEmpty {
            out += "skipped:\n"
            for cluster in skipped {
                let reason = cluster.reason
                out += "  \(padded(cluster.name))  \(reason?.code ?? "-"): \(reason?.message ?? "")\n"
            }
        }
        let unchanged = clusters.filter { $0.decision == .noop }.map(\.name)
        if !unchanged.isEmpty { out += "unchanged: \(unchanged.joined(separator: ", "))\n" }
        out += summaryLine + "\n"
        return out
    }
}
