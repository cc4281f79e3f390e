import FleetCore
import PolicyEngine

/// One self-contained HTML page: inline CSS, inline SVG charts and a small inline script; no
/// network, no external fonts or scripts.
///
/// The page: a headline with the compliance donut, the trend over runs (or a "no history yet"
/// note), the strict view in numbers; per-policy bars; top reasons; the cluster table (worst first,
/// each row opening on its reasons and drift); the strict view's drifted fields; the groups; time
/// to compliance and flapping. Without JavaScript the table is plain markup holding the first
/// ``ReportOptions/htmlClusterRows`` clusters; with it, every cluster can be filtered, sorted and
/// paged from data embedded in the page (a JSON island whose `<`, `>` and `&` are escaped).
/// Every string from the inventory or the policies is HTML-escaped; the script writes text with
/// `textContent` only.
struct HTMLRenderer {
    let context: RenderContext

    init(_ context: RenderContext) { self.context = context }

    private func h(_ text: String) -> String { Text.html(text) }

    /// Detail lines the drill-down shows per cluster, at most.
    static let detailLines = 40

    func render() -> String {
        let data = context.data
        let summary = context.summary
        let r = summary.resources
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out += "<title>FluxFleet compliance: \(Text.percent(r.compliancePercent))</title>\n"
        out += "<style>\n\(Self.css)</style>\n</head>\n<body>\n"
        let run = data.run
        out += "<header>\n<h1>FluxFleet compliance</h1>\n<p class=\"meta\">"
        out += "\(h(run.kind))\(run.id.map { " run \($0)" } ?? "") evaluated <time>\(h(run.evaluatedAt))</time>"
        out += " · inventory <code>\(h(run.inventory))</code> · policies <code>\(h(run.policies))</code>"
        out += " (digest \(h(run.policiesDigest))) · generated <time>\(h(context.generatedAt))</time></p>\n</header>\n"
        out += "<main>\n"
        out += overview()
        out += policies()
        out += reasons()
        out += clusters()
        out += strict()
        out += groups()
        out += history()
        out += "</main>\n<footer>FluxFleet \(h(context.options.toolVersion)) · compliance as Azure computes it: "
        out += "(Compliant + Exempt + Unknown) ÷ distinct evaluated resources, each taking its worst state.</footer>\n"
        out += "<script type=\"application/json\" id=\"fleet-data\">"
        out += clusterData()
        out += "</script>\n<script>\n\(Self.script)</script>\n</body>\n</html>\n"
        return out
    }

    // MARK: - Overview: donut, trend, strict view

    private static let stateColours: [(ComplianceState, String, String)] = [
        (.compliant, "c", "Compliant"), (.exempt, "x", "Exempt"), (.unknown, "u", "Unknown"),
        (.error, "e", "Error"), (.nonCompliant, "n", "Non-compliant"),
    ]

    private func overview() -> String {
        let summary = context.summary
        let r = summary.resources
        var out = "<section class=\"overview\">\n<div class=\"card\">\n<h2>Compliance</h2>\n"
        out +=
            "<svg class=\"donut\" viewBox=\"0 0 42 42\" role=\"img\" aria-label=\"\(Text.percent(r.compliancePercent)) compliant\">"
        out += "<circle class=\"ring\" cx=\"21\" cy=\"21\" r=\"15.915\"/>"
        var offset = 25.0
        if r.total > 0 {
            for (state, css, name) in Self.stateColours {
                let count = r.count(state)
                guard count > 0 else { continue }
                let length = Double(count) * 100 / Double(r.total)
                out += "<circle class=\"seg \(css)\" cx=\"21\" cy=\"21\" r=\"15.915\" "
                out +=
                    "stroke-dasharray=\"\(Text.number(length, decimals: 3)) \(Text.number(100 - length, decimals: 3))\" "
                out +=
                    "stroke-dashoffset=\"\(Text.number(offset, decimals: 3))\"><title>\(name): \(Text.grouped(count))</title></circle>"
                offset -= length
            }
        }
        out += "<text x=\"21\" y=\"22.5\" class=\"pct\">\(Text.percent(r.compliancePercent))</text>"
        out += "<text x=\"21\" y=\"27\" class=\"sub\">compliant</text></svg>\n<ul class=\"legend\">\n"
        for (state, css, name) in Self.stateColours {
            out += "<li><span class=\"sw \(css)\"></span>\(name) <b>\(Text.grouped(r.count(state)))</b></li>\n"
        }
        out += "</ul>\n<p>\(Text.grouped(r.total)) resources on \(Text.grouped(context.data.clusters.count)) clusters"
        let failing = summary.clusterRollups.count { !$0.failing.isEmpty }
        out += "; \(Text.grouped(failing)) clusters with non-compliance"
        if summary.notEvaluated > 0 { out += ", \(Text.grouped(summary.notEvaluated)) not evaluated" }
        out += ".</p>\n</div>\n"
        out += "<div class=\"card wide\">\n<h2>Trend over runs</h2>\n\(trendChart())</div>\n"
        let s = summary.strict
        out += "<div class=\"card\">\n<h2>Strict view</h2>\n<dl class=\"nums\">"
        out += "<dt>desired Flux resources</dt><dd>\(Text.grouped(s.entries))</dd>"
        out += "<dt>drifted</dt><dd class=\"\(s.drifted > 0 ? "bad" : "")\">\(Text.grouped(s.drifted))</dd>"
        out += "<dt>missing</dt><dd>\(Text.grouped(s.missing))</dd>"
        out += "<dt>clusters with drift</dt><dd>\(Text.grouped(s.driftedClusters))</dd>"
        out +=
            "<dt>runtime-unhealthy</dt><dd class=\"\(s.runtimeUnhealthy > 0 ? "bad" : "")\">\(Text.grouped(s.runtimeUnhealthy))</dd>"
        out += "<dt>stale status</dt><dd>\(Text.grouped(s.stale))</dd></dl>\n</div>\n</section>\n"
        return out
    }

    private func trendChart() -> String {
        let trend = context.summary.trend
        guard trend.count >= 2 else {
            return "<p class=\"empty\">No history yet: the trend line appears once a second run is recorded "
                + "(<code>fluxfleet scan --db …</code>).</p>\n"
        }
        let values = trend.map(\.compliancePercent)
        let floor = min(max(0, (values.min()! / 10).rounded(.down) * 10), 90)
        let width = 560.0
        let height = 150.0
        let left = 34.0
        let top = 8.0
        func x(_ i: Int) -> Double { left + (width - left - 8) * Double(i) / Double(trend.count - 1) }
        func y(_ v: Double) -> Double { top + (height - top - 22) * (1 - (v - floor) / (100 - floor)) }
        var out = "<svg class=\"trend\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" "
        out += "aria-label=\"compliance from \(Text.percent(values.first!)) to \(Text.percent(values.last!))\">"
        let range = 100 - floor
        for tick in stride(from: 100, through: floor, by: -(range >= 75 ? 25 : range >= 40 ? 20 : 10)) {
            out +=
                "<line class=\"grid\" x1=\"\(Int(left))\" x2=\"\(Int(width - 8))\" y1=\"\(Text.number(y(tick), decimals: 1))\" "
            out += "y2=\"\(Text.number(y(tick), decimals: 1))\"/>"
            out +=
                "<text class=\"axis\" x=\"\(Int(left - 4))\" y=\"\(Text.number(y(tick) + 3, decimals: 1))\">\(Int(tick))%</text>"
        }
        var points = ""
        for (i, v) in values.enumerated() {
            points += "\(Text.number(x(i), decimals: 1)),\(Text.number(y(v), decimals: 1)) "
        }
        out += "<polyline class=\"line\" points=\"\(points.dropLast())\"/>"
        if trend.count <= 60 {
            for (i, point) in trend.enumerated() {
                out +=
                    "<circle class=\"dot\" cx=\"\(Text.number(x(i), decimals: 1))\" cy=\"\(Text.number(y(values[i]), decimals: 1))\" r=\"2.5\">"
                out += "<title>\(h(point.at)): \(Text.percent(values[i]))</title></circle>"
            }
        }
        out +=
            "<text class=\"axis start\" x=\"\(Int(left))\" y=\"\(Int(height - 4))\">\(h(String(trend.first!.at.prefix(10))))</text>"
        out +=
            "<text class=\"axis end\" x=\"\(Int(width - 8))\" y=\"\(Int(height - 4))\">\(h(String(trend.last!.at.prefix(10))))</text>"
        out +=
            "</svg>\n<p>\(trend.count) runs: \(Text.percent(values.first!)) → <b>\(Text.percent(values.last!))</b></p>\n"
        return out
    }

    // MARK: - Policies and reasons

    private func bar(_ counts: StateCounts) -> String {
        var out = "<div class=\"bar\">"
        guard counts.total > 0 else { return out + "</div>" }
        for (state, css, name) in Self.stateColours {
            let count = counts.count(state)
            guard count > 0 else { continue }
            let width = Text.number(Double(count) * 100 / Double(counts.total), decimals: 3)
            out += "<span class=\"\(css)\" style=\"width:\(width)%\" title=\"\(name): \(Text.grouped(count))\"></span>"
        }
        return out + "</div>"
    }

    private func policies() -> String {
        var out = "<section>\n<h2>By policy</h2>\n<table class=\"bars\">\n<thead><tr><th>Assignment</th><th>Policy</th>"
        out += "<th>Effect</th><th class=\"barcol\">Resources by state</th><th class=\"num\">Compliance</th>"
        out += "<th class=\"num\">Non-compliant</th><th class=\"num\">Resources</th></tr></thead>\n<tbody>\n"
        for policy in context.summary.byPolicy {
            let title = policy.displayName.map { " title=\"\(h($0))\"" } ?? ""
            out +=
                "<tr><td>\(h(policy.assignmentName))</td><td\(title)>\(h(policy.label))</td><td>\(h(policy.effect))</td>"
            out += "<td>\(bar(policy.counts))</td><td class=\"num\">\(Text.percent(policy.counts))</td>"
            out += "<td class=\"num\">\(Text.grouped(policy.counts.nonCompliant))</td>"
            out += "<td class=\"num\">\(Text.grouped(policy.counts.total))</td></tr>\n"
        }
        out += "</tbody>\n</table>\n</section>\n"
        return out
    }

    private func reasons() -> String {
        let reasons = context.summary.topReasons.prefix(context.options.topReasons)
        var out = "<section>\n<h2>Top non-compliance reasons</h2>\n"
        guard !reasons.isEmpty else { return out + "<p class=\"empty\">None.</p>\n</section>\n" }
        out += "<table>\n<thead><tr><th class=\"num\">Results</th><th class=\"num\">Clusters</th><th>Policy</th>"
        out += "<th>Reason</th><th>Example</th></tr></thead>\n<tbody>\n"
        for reason in reasons {
            out +=
                "<tr><td class=\"num\">\(Text.grouped(reason.results))</td><td class=\"num\">\(Text.grouped(reason.clusters))</td>"
            out +=
                "<td>\(h(reason.policy))</td><td class=\"reason\">\(h(reason.reason))</td><td>\(h(reason.exampleCluster))</td></tr>\n"
        }
        return out + "</tbody>\n</table>\n</section>\n"
    }

    // MARK: - Clusters

    private func stateName(_ rollup: ClusterSummary) -> String { rollup.state?.rawValue ?? "NotEvaluated" }

    /// The drill-down lines of a cluster: its failing results with their reasons, then its strict problems.
    private func detailLines(_ rollup: ClusterSummary) -> [(text: String, level: Int)] {
        let data = context.data
        var lines: [(String, Int)] = []
        let cluster = data.clusters[rollup.cluster]
        if let reason = cluster.eligibilityReason { lines.append(("not eligible for remediation now: \(reason)", 0)) }
        for index in rollup.failing {
            let result = data.results[index]
            // The cluster is the row; name a child resource only.
            let child =
                ASCII.equalsIgnoringCase(result.resourceId, result.clusterId)
                ? "" : "\(Text.lastSegment(result.resourceId)): "
            let policy = "\(result.assignmentName)/\(context.policyLabel(result))"
            lines.append(("\(child)\(policy) \(result.state.rawValue) (\(result.effect))", 0))
            for line in RenderContext.explain(result).prefix(6) { lines.append((RenderContext.clip(line, 300), 1)) }
        }
        for index in rollup.strictProblems {
            let entry = data.strict[index]
            lines.append(
                (
                    "strict view: \(Text.lastSegment(entry.resourceId)) (\(context.assignmentName(id: entry.assignmentId)))",
                    0
                ))
            for drift in entry.drift.prefix(8) {
                let text = RenderContext.clip(RenderContext.describe(drift), 300)
                lines.append((drift.path.isEmpty ? text : "drift " + text, 1))
            }
            if entry.drift.count > 8 { lines.append(("… \(entry.drift.count - 8) more drifted fields", 1)) }
            if let state = entry.complianceState, !ASCII.equalsIgnoringCase(state, "Compliant") {
                lines.append(("runtime: Flux reports \(state)", 1))
            }
            if entry.stale { lines.append(("runtime: status stale", 1)) }
            for failing in entry.failing.prefix(3) { lines.append(("runtime: \(failing)", 1)) }
        }
        if lines.count > Self.detailLines {
            let more = lines.count - Self.detailLines
            lines = Array(lines.prefix(Self.detailLines))
            lines.append(("… \(more) more lines (see the JSON report)", 0))
        }
        return lines
    }

    private func clusters() -> String {
        let data = context.data
        let summary = context.summary
        let shown = summary.clusterOrder.prefix(max(context.options.htmlClusterRows, 0))
        var out = "<section>\n<h2>Clusters</h2>\n"
        out += "<div id=\"controls\" class=\"controls\" hidden><input id=\"filter\" type=\"search\" "
        out += "placeholder=\"Filter by name, group, location, kind, state…\" aria-label=\"Filter clusters\">"
        out += "<select id=\"state\" aria-label=\"State\"><option value=\"\">every state</option>"
        out += "<option value=\"problems\">needs attention</option>"
        for state in ["NonCompliant", "Error", "Compliant", "Exempt", "Unknown", "NotEvaluated"] {
            out += "<option>\(state)</option>"
        }
        out += "<option value=\"drifted\">drifted</option></select>"
        out += "<span class=\"pager\"><button id=\"prev\" type=\"button\">◀ Prev</button><span id=\"page\"></span>"
        out += "<button id=\"next\" type=\"button\">Next ▶</button></span></div>\n"
        out += "<p class=\"note\" id=\"note\">"
        if shown.count < summary.clusterOrder.count {
            out += "Showing the \(Text.grouped(shown.count)) clusters that need attention most, of "
            out += "\(Text.grouped(summary.clusterOrder.count)); with JavaScript enabled every cluster can be "
            out += "filtered and paged here, and the CSV and JSON reports hold them all."
        } else {
            out +=
                "\(Text.grouped(shown.count)) clusters, those that need attention first; open a name for its reasons."
        }
        out += "</p>\n<table id=\"clusters\" class=\"clusters\">\n<thead><tr>"
        let columns = [
            ("Cluster", ""), ("Kind", ""), ("Subscription", ""), ("Resource group", ""), ("Location", ""),
            ("State", ""), ("Failing", "num"), ("Drifted", "num"), ("Unhealthy", "num"),
        ]
        for (i, column) in columns.enumerated() {
            let css = column.1.isEmpty ? "" : " class=\"\(column.1)\""
            out += "<th\(css) data-col=\"\(i)\" scope=\"col\">\(column.0)</th>"
        }
        out += "</tr></thead>\n<tbody>\n"
        for i in shown {
            let rollup = summary.clusterRollups[i]
            let cluster = data.clusters[rollup.cluster]
            let state = stateName(rollup)
            out += "<tr><td>"
            let lines = detailLines(rollup)
            if lines.isEmpty {
                out += "<span class=\"name\">\(h(cluster.name))</span>"
            } else {
                out += "<details><summary>\(h(cluster.name))</summary><ul class=\"why\">"
                for line in lines { out += "<li class=\"l\(line.level)\">\(h(line.text))</li>" }
                out += "</ul></details>"
            }
            out += "</td><td>\(h(ReportSummary.kindLabel(cluster)))</td>"
            out += "<td title=\"\(h(cluster.subscriptionId))\">\(h(String(cluster.subscriptionId.prefix(8))))</td>"
            out += "<td>\(h(cluster.resourceGroup))</td><td>\(h(cluster.location))</td>"
            out += "<td><span class=\"st \(state)\">\(state)</span></td><td class=\"num\">\(rollup.failing.count)</td>"
            out += "<td class=\"num\">\(rollup.drifted)</td><td class=\"num\">\(rollup.runtimeUnhealthy)</td></tr>\n"
        }
        out += "</tbody>\n</table>\n</section>\n"
        return out
    }

    /// Every cluster as compact arrays for the script, detail lines deduplicated into a string table:
    /// `{"s":[strings],"c":[[name,kind,subscription,resourceGroup,location,state,failing,drifted,unhealthy,[line…]]]}`
    /// where a line is a string index, negative for an indented line (−index − 1).
    private func clusterData() -> String {
        let data = context.data
        let summary = context.summary
        var strings: [String] = []
        var stringIndex: [String: Int] = [:]
        func intern(_ text: String) -> Int {
            if let known = stringIndex[text] { return known }
            stringIndex[text] = strings.count
            strings.append(text)
            return strings.count - 1
        }
        var w = JSONWriter(pretty: false, capacity: 256 + summary.clusterOrder.count * 160)
        w.beginObject()
        w.key("c")
        w.beginArray()
        for i in summary.clusterOrder {
            let rollup = summary.clusterRollups[i]
            let cluster = data.clusters[rollup.cluster]
            w.beginArray()
            w.string(cluster.name)
            w.string(ReportSummary.kindLabel(cluster))
            w.string(cluster.subscriptionId)
            w.string(cluster.resourceGroup)
            w.string(cluster.location)
            w.string(stateName(rollup))
            w.number(rollup.failing.count)
            w.number(rollup.drifted)
            w.number(rollup.runtimeUnhealthy)
            w.beginArray()
            for line in detailLines(rollup) {
                let index = intern(line.text)
                w.number(line.level == 0 ? index : -index - 1)
            }
            w.endArray()
            w.endArray()
        }
        w.endArray()
        w.key("s")
        w.beginArray()
        for string in strings { w.string(string) }
        w.endArray()
        w.endObject()
        // Safe inside <script>: no `</script>`, no `<!--`, whatever the strings hold.
        var out = [UInt8]()
        out.reserveCapacity(w.bytes.count + 64)
        for byte in w.bytes {
            switch byte {
            case UInt8(ascii: "<"): out += Array("\\u003c".utf8)
            case UInt8(ascii: ">"): out += Array("\\u003e".utf8)
            case UInt8(ascii: "&"): out += Array("\\u0026".utf8)
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - Strict view, groups, history

    private func strict() -> String {
        let fields = context.summary.strict.topFields.prefix(context.options.topItems)
        var out = "<section>\n<h2>Strict view: drifted fields</h2>\n"
        guard !fields.isEmpty else {
            return out + "<p class=\"empty\">No drift: every desired Flux resource matches.</p>\n</section>\n"
        }
        out += "<table>\n<thead><tr><th>Field</th><th class=\"num\">Resources</th></tr></thead>\n<tbody>\n"
        for field in fields {
            out +=
                "<tr><td><code>\(h(field.path))</code></td><td class=\"num\">\(Text.grouped(field.count))</td></tr>\n"
        }
        return out + "</tbody>\n</table>\n</section>\n"
    }

    private func groups() -> String {
        let summary = context.summary
        var out = "<section>\n<h2>Where</h2>\n<div class=\"grid\">\n"
        for (name, groups) in [
            ("Subscription", summary.bySubscription), ("Resource group", summary.byResourceGroup),
            ("Location", summary.byLocation), ("Kind", summary.byKind),
        ] {
            out +=
                "<div>\n<h3>By \(name.lowercased())</h3>\n<table>\n<thead><tr><th>\(name)</th><th class=\"barcol\"></th>"
            out +=
                "<th class=\"num\">Compliance</th><th class=\"num\">Clusters</th><th class=\"num\">Failing</th></tr></thead>\n<tbody>\n"
            for group in groups.prefix(context.options.groupRows) {
                // Subscription ids are long and alike: their first 8 characters tell them apart, the title has all.
                let shown =
                    name == "Subscription" && group.name.count > 12 ? String(group.name.prefix(8)) + "…" : group.name
                out += "<tr><td class=\"gname\" title=\"\(h(group.id))\">\(h(shown))</td><td>\(bar(group.counts))</td>"
                out += "<td class=\"num\">\(Text.percent(group.counts))</td>"
                out +=
                    "<td class=\"num\">\(Text.grouped(group.clusters))</td><td class=\"num\">\(Text.grouped(group.failingClusters))</td></tr>\n"
            }
            out += "</tbody>\n</table>\n"
            if groups.count > context.options.groupRows {
                out +=
                    "<p class=\"note\">… \(Text.grouped(groups.count - context.options.groupRows)) more, worst first (the JSON report has all).</p>\n"
            }
            out += "</div>\n"
        }
        return out + "</div>\n</section>\n"
    }

    private func history() -> String {
        let summary = context.summary
        var out = "<section>\n<h2>History</h2>\n"
        guard let ttc = summary.timeToCompliance else {
            return out
                + "<p class=\"empty\">No history yet: time to compliance and flapping need recorded runs.</p>\n</section>\n"
        }
        out += "<dl class=\"nums\">"
        out += "<dt>fixed in the window</dt><dd>\(Text.grouped(ttc.episodes))</dd>"
        if ttc.episodes > 0 {
            out += "<dt>median time to compliance</dt><dd>\(Text.duration(ttc.medianSeconds))</dd>"
            out +=
                "<dt>p90</dt><dd>\(Text.duration(ttc.p90Seconds))</dd><dt>max</dt><dd>\(Text.duration(ttc.maxSeconds))</dd>"
        }
        out += "<dt>still non-compliant</dt><dd>\(Text.grouped(ttc.open))</dd></dl>\n"
        out += "<h3>Flapping (≥ \(summary.flappingThreshold) state changes)</h3>\n"
        guard !summary.flapping.isEmpty else { return out + "<p class=\"empty\">None.</p>\n</section>\n" }
        out += "<table>\n<thead><tr><th>Resource</th><th>Assignment</th><th>Policy</th><th class=\"num\">Changes</th>"
        out += "<th>Now</th></tr></thead>\n<tbody>\n"
        for subject in summary.flapping.prefix(context.options.topItems) {
            let resource = context.resourceName(
                resourceId: subject.resourceId, clusterId: subject.clusterId, clusterName: subject.clusterName)
            out += "<tr><td>\(h(resource))</td><td>\(h(subject.assignmentName))</td><td>\(h(subject.policy))</td>"
            out +=
                "<td class=\"num\">\(subject.changes)</td><td><span class=\"st \(subject.state.rawValue)\">\(subject.state.rawValue)</span></td></tr>\n"
        }
        out += "</tbody>\n</table>\n"
        if summary.flapping.count > context.options.topItems {
            out += "<p class=\"note\">… \(Text.grouped(summary.flapping.count - context.options.topItems)) more.</p>\n"
        }
        return out + "</section>\n"
    }

    // MARK: - Inline CSS and script

    static let css = """
        :root{--c:#2e7d32;--x:#5c6bc0;--u:#9e9e9e;--e:#ef6c00;--n:#c62828;--fg:#1d2330;--mute:#5f6b7a;--line:#dde3ea;--bg:#f6f8fa}
        *{box-sizing:border-box}
        body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
        header,main,footer{max-width:1280px;margin:0 auto;padding:0 20px}
        header{padding-top:18px}
        h1{font-size:22px;margin:0 0 4px}
        h2{font-size:16px;margin:0 0 10px}
        h3{font-size:14px;margin:8px 0 6px}
        .meta,.note,footer{color:var(--mute);font-size:12.5px}
        footer{padding-bottom:24px}
        section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:14px 0}
        section.overview{display:flex;flex-wrap:wrap;gap:14px;background:none;border:0;padding:0}
        .card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 16px;flex:1 1 240px}
        .card.wide{flex:2 1 480px}
        .donut{width:170px;height:170px;display:block;margin:0 auto}
        .donut circle{fill:none;stroke-width:5.5}
        .donut .ring{stroke:#eceff1}
        .seg.c{stroke:var(--c)}.seg.x{stroke:var(--x)}.seg.u{stroke:var(--u)}.seg.e{stroke:var(--e)}.seg.n{stroke:var(--n)}
        .donut .pct{font-size:7px;font-weight:700;text-anchor:middle;fill:var(--fg)}
        .donut .sub{font-size:3px;text-anchor:middle;fill:var(--mute)}
        .legend{list-style:none;padding:0;margin:8px 0;display:flex;flex-wrap:wrap;gap:4px 12px;font-size:12.5px}
        .sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
        .sw.c,.bar .c{background:var(--c)}.sw.x,.bar .x{background:var(--x)}.sw.u,.bar .u{background:var(--u)}
        .sw.e,.bar .e{background:var(--e)}.sw.n,.bar .n{background:var(--n)}
        .trend{width:100%;height:auto;max-height:220px}
        .trend .grid{stroke:#eceff1}.trend .line{fill:none;stroke:var(--c);stroke-width:2}
        .trend .dot{fill:var(--c)}.trend .axis{font-size:10px;fill:var(--mute);text-anchor:end}
        .trend .axis.start{text-anchor:start}
        .empty{color:var(--mute);font-style:italic}
        dl.nums{display:grid;grid-template-columns:1fr auto;gap:4px 12px;margin:0;max-width:420px}
        td.gname{white-space:nowrap;max-width:260px;overflow:hidden;text-overflow:ellipsis}
        dl.nums dt{color:var(--mute)}dl.nums dd{margin:0;text-align:right;font-weight:600}dd.bad{color:var(--n)}
        table{border-collapse:collapse;width:100%;font-size:13px}
        th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
        th{background:#fafbfc;font-weight:600;position:sticky;top:0}
        td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
        td.reason{word-break:break-word}
        .barcol{width:34%}
        .bar{display:flex;height:12px;border-radius:3px;overflow:hidden;background:#eceff1;min-width:80px;margin-top:3px}
        .bar span{display:block;height:100%}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:8px 24px}
        .grid .barcol{width:28%}
        .st{display:inline-block;padding:0 6px;border-radius:9px;font-size:12px;background:#eceff1}
        .st.NonCompliant{background:#fde7e7;color:var(--n)}.st.Error{background:#fff1e0;color:var(--e)}
        .st.Compliant{background:#e6f4ea;color:var(--c)}.st.Exempt{background:#e8eaf6;color:var(--x)}
        .controls{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:8px}
        .controls[hidden]{display:none}
        .controls input{flex:1 1 260px;padding:5px 8px;border:1px solid var(--line);border-radius:5px;font:inherit}
        .controls select,.controls button{padding:4px 8px;font:inherit}
        .pager{display:flex;gap:6px;align-items:center;color:var(--mute)}
        .clusters.js th[data-col]{cursor:pointer;user-select:none}
        .clusters th[aria-sort=ascending]::after{content:" ▲"}.clusters th[aria-sort=descending]::after{content:" ▼"}
        details summary{cursor:pointer;font-weight:600}
        ul.why{margin:6px 0 4px;padding-left:16px;font-size:12.5px;font-weight:400;max-width:760px}
        ul.why li.l1{list-style:circle;margin-left:18px;color:var(--mute);word-break:break-word}
        code{font-size:12.5px}

        """

    static let script = """
        (function(){
        var el=document.getElementById('fleet-data');if(!el)return;
        var d=JSON.parse(el.textContent),rows=d.c,strs=d.s,view=rows.slice(),page=0,size=100,sortCol=-1,dir=1;
        var body=document.querySelector('#clusters tbody'),note=document.getElementById('note');
        var filter=document.getElementById('filter'),state=document.getElementById('state');
        document.getElementById('controls').hidden=false;document.getElementById('clusters').classList.add('js');
        function n(x){return x.toLocaleString('en-US');}
        function cell(tr,text,cls){var td=document.createElement('td');if(cls)td.className=cls;td.textContent=text;tr.appendChild(td);return td;}
        function row(r){
          var tr=document.createElement('tr'),td=document.createElement('td');
          if(r[9].length){var det=document.createElement('details'),sum=document.createElement('summary'),ul=document.createElement('ul');
            sum.textContent=r[0];ul.className='why';det.appendChild(sum);det.appendChild(ul);
            r[9].forEach(function(i){var li=document.createElement('li');li.className=i<0?'l1':'l0';li.textContent=strs[i<0?-i-1:i];ul.appendChild(li);});
            td.appendChild(det);}else{td.textContent=r[0];}
          tr.appendChild(td);cell(tr,r[1]);var s=cell(tr,r[2].slice(0,8));s.title=r[2];cell(tr,r[3]);cell(tr,r[4]);
          var st=document.createElement('span');st.className='st '+r[5];st.textContent=r[5];cell(tr,'').appendChild(st);
          cell(tr,String(r[6]),'num');cell(tr,String(r[7]),'num');cell(tr,String(r[8]),'num');return tr;}
        function draw(){
          var pages=Math.max(1,Math.ceil(view.length/size));if(page>=pages)page=pages-1;
          var frag=document.createDocumentFragment();view.slice(page*size,page*size+size).forEach(function(r){frag.appendChild(row(r));});
          body.textContent='';body.appendChild(frag);
          document.getElementById('page').textContent=view.length?n(page*size+1)+'–'+n(Math.min(view.length,page*size+size))+' of '+n(view.length):'0 of 0';
          document.getElementById('prev').disabled=page===0;document.getElementById('next').disabled=page>=pages-1;
          note.textContent=n(view.length)+' of '+n(rows.length)+' clusters'+(sortCol<0?', those that need attention first':'')+'; open a name for its reasons and drift.';}
        function apply(){
          var q=filter.value.trim().toLowerCase(),s=state.value;
          view=rows.filter(function(r){
            if(s==='problems'&&!(r[6]||r[7]||r[8]))return false;
            if(s==='drifted'&&!r[7])return false;
            if(s&&s!=='problems'&&s!=='drifted'&&r[5]!==s)return false;
            return !q||(r[0]+' '+r[1]+' '+r[2]+' '+r[3]+' '+r[4]+' '+r[5]).toLowerCase().indexOf(q)>=0;});
          if(sortCol>=0)view.sort(function(a,b){var x=a[sortCol],y=b[sortCol];return (x<y?-1:x>y?1:0)*dir;});
          page=0;draw();}
        document.querySelectorAll('#clusters th[data-col]').forEach(function(th){th.addEventListener('click',function(){
          var c=+th.getAttribute('data-col');if(sortCol===c)dir=-dir;else{sortCol=c;dir=c>=6?-1:1;}
          document.querySelectorAll('#clusters th[data-col]').forEach(function(o){o.removeAttribute('aria-sort');});
          th.setAttribute('aria-sort',dir>0?'ascending':'descending');apply();});});
        filter.addEventListener('input',apply);state.addEventListener('change',apply);
        document.getElementById('prev').addEventListener('click',function(){page--;draw();});
        document.getElementById('next').addEventListener('click',function(){page++;draw();});
        apply();
        })();

        """
}
