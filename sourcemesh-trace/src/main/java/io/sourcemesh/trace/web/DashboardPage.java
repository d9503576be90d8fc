package io.sourcemesh.trace.web;

import static io.sourcemesh.trace.web.Html.esc;

import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.trace.Hop;
import io.sourcemesh.trace.Snapshot;
import io.sourcemesh.trace.Trace;

/** The one page, rendered on the server: the cluster's services, pods and gateway; a traced path; the access-log tail. */
final class DashboardPage {
    private DashboardPage() {
    }

    static final String CSS = """
            body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
            table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}
            .path{display:flex;gap:6px;align-items:stretch;overflow-x:auto;margin:1em 0}
            .hop{border:3px solid;border-radius:8px;padding:8px;min-width:150px;font-size:13px}
            .kept{border-color:#2a8a2a;background:#eaf7ea}.lost{border-color:#c62828;background:#fdeaea}
            .arrow{align-self:center;font-size:22px}.why{border-left:4px solid #c62828;padding:6px 10px;background:#fff6f6}
            pre{background:#f4f4f4;padding:6px;white-space:pre-wrap}.ok{color:#2a8a2a}.bad{color:#c62828}
            #logs{max-height:22em;overflow:auto;font:12px monospace}
            """;

    static String render(DashboardSource source, String namespace, String from, String external, String client, String url, Trace trace,
            String error) {
        Snapshot snap = source.snapshot();
        StringBuilder b = new StringBuilder("<!doctype html><html><head><meta charset=utf-8><title>SourceMesh — client address trace</title><style>")
                .append(CSS).append("</style></head><body>");
        b.append("<h1>Where is the client's address kept or lost?</h1><p>").append(esc(source.describe())).append("</p>");
        b.append("<form method=get action='/'><label>from pod <input name=from id=from value='").append(esc(from == null ? "deploy/sleep" : from))
                .append("'></label> <label>namespace <input name=ns size=8 value='").append(esc(namespace)).append("'></label> ")
                .append("<label><input type=checkbox name=external value=1 id=external").append(external != null ? " checked" : "")
                .append("> external client (through the ingress gateway)</label> <label>client IP <input name=client size=12 value='")
                .append(esc(client == null ? "" : client)).append("'></label> <label>URL <input name=url id=url size=40 value='")
                .append(esc(url == null ? "http://httpbin:8000/ip" : url)).append("'></label> <button id=trace>Trace</button></form>");
        if (error != null) {
            b.append("<p class=bad id=error>").append(esc(error)).append("</p>");
        }
        if (trace != null) {
            b.append(trace(trace));
        }
        b.append("<h2>Access logs</h2><label>client address <input id=filter placeholder='e.g. 127.120.0.10'></label>")
                .append("<div id=logs></div>");
        b.append(objects(snap));
        b.append("<script>").append(JS).append("</script></body></html>");
        return b.toString();
    }

    static String trace(Trace t) {
        StringBuilder b = new StringBuilder("<h2 id=title>").append(esc(t.title())).append("</h2><p>client address <b>").append(esc(t.client()))
                .append("</b>: ").append(t.kept() ? "<span class=ok id=result>kept to the app</span>"
                        : "<span class=bad id=result>lost at hop " + (t.lostAt() + 1) + "</span>").append("</p><div class=path>");
        for (int i = 0; i < t.hops().size(); i++) {
            Hop h = t.hops().get(i);
            boolean kept = h.known() && !h.lostHere();
            if (i > 0) {
                b.append("<div class=arrow>→</div>");
            }
            b.append("<div class='hop ").append(kept ? "kept" : "lost").append("' data-component='").append(esc(h.component())).append("'><b>")
                    .append(esc(h.name())).append("</b><br>socket: <code class=socket>").append(esc(h.seesOnSocket())).append("</code>");
            if (h.xffIn().startsWith("PROXY ")) {
                // a PROXY protocol header in front of the bytes (the only carrier over TCP), not an HTTP header
                b.append("<br>PROXY header: <code class=proxy>").append(esc(h.xffIn().substring("PROXY ".length()))).append("</code>");
            } else if (!h.xffIn().isEmpty()) {
                b.append("<br>X-Forwarded-For: <code>").append(esc(h.xffIn())).append("</code>");
            }
            b.append("<br>believes: <code class=believes>").append(esc(h.believes())).append("</code><br>")
                    .append(h.lostHere() ? "<b>lost here</b>" : kept ? "client known" : "client lost");
            if (h.observed() != null) {
                b.append("<br><small>observed: ").append(esc(observed(h.observed()))).append("</small>");
            }
            b.append("</div>");
        }
        b.append("</div>");
        if (!t.kept()) {
            Hop lost = t.hops().get(t.lostAt());
            b.append("<div class=why id=why><b>Why:</b> ").append(esc(lost.reason())).append("<br><b>Fix:</b>");
            for (String f : lost.fixes()) {
                b.append("<pre class=fix>").append(esc(f)).append("</pre>");
            }
            b.append("</div>");
        }
        for (String w : t.warnings()) {
            b.append("<p class=bad>warning: ").append(esc(w)).append("</p>");
        }
        for (String m : t.mismatches()) {
            b.append("<p class=bad>mismatch: ").append(esc(m)).append("</p>");
        }
        return b.toString();
    }

    private static String observed(Hop.Observed o) {
        StringBuilder b = new StringBuilder();
        if (o.note() != null) {
            b.append(o.note()).append(' ');
        }
        if (o.downstreamRemote() != null) {
            b.append("downstream_remote ").append(o.downstreamRemote()).append(' ');
        }
        if (o.upstreamLocal() != null) {
            b.append("upstream_local ").append(o.upstreamLocal()).append(' ');
        }
        if (o.xff() != null) {
            b.append("xff ").append(o.xff());
        }
        return b.toString().strip();
    }

    private static String objects(Snapshot snap) {
        StringBuilder b = new StringBuilder("<h2>Services</h2><table id=services><tr><th>namespace</th><th>name</th><th>type</th><th>cluster IP</th>"
                + "<th>externalTrafficPolicy</th><th>load balancer</th></tr>");
        for (KubeObject s : snap.ofKind("Service")) {
            b.append("<tr><td>").append(esc(s.namespace())).append("</td><td>").append(esc(s.name())).append("</td><td>")
                    .append(esc(s.spec().path("type").asText("ClusterIP"))).append("</td><td>").append(esc(s.spec().path("clusterIP").asText()))
                    .append("</td><td>").append(esc(s.spec().path("externalTrafficPolicy").asText(""))).append("</td><td>")
                    .append(esc(s.status().path("loadBalancer").path("ingress").path(0).path("ip").asText(""))).append("</td></tr>");
        }
        b.append("</table><h2>Pods</h2><table id=pods><tr><th>namespace</th><th>name</th><th>IP</th><th>node</th><th>sidecar</th>"
                + "<th>interception</th></tr>");
        for (KubeObject p : snap.ofKind("Pod")) {
            b.append("<tr><td>").append(esc(p.namespace())).append("</td><td>").append(esc(p.name())).append("</td><td>").append(esc(Snapshot.ip(p)))
                    .append("</td><td>").append(esc(p.spec().path("nodeName").asText(""))).append("</td><td>").append(Snapshot.hasSidecar(p) ? "yes" : "no")
                    .append("</td><td>").append(esc(p.annotations().getOrDefault("sidecar.istio.io/interceptionMode", Snapshot.hasSidecar(p) ? "REDIRECT" : "")))
                    .append("</td></tr>");
        }
        b.append("</table><h2>Gateways</h2><table id=gateways><tr><th>namespace</th><th>name</th><th>selector</th><th>ports</th></tr>");
        for (KubeObject g : snap.ofKind("Gateway")) {
            StringBuilder ports = new StringBuilder();
            g.spec().path("servers").forEach(s -> ports.append(s.path("port").path("number").asText()).append('/')
                    .append(s.path("port").path("protocol").asText()).append(' '));
            b.append("<tr><td>").append(esc(g.namespace())).append("</td><td>").append(esc(g.name())).append("</td><td>")
                    .append(esc(g.spec().path("selector").toString())).append("</td><td>").append(esc(ports.toString().strip())).append("</td></tr>");
        }
        return b.append("</table>").toString();
    }

    /** The access-log tail: polls /api/logs every second, filtered by client address as typed. */
    static final String JS = """
            const logs=document.getElementById('logs'),filter=document.getElementById('filter');
            async function tail(){
              try{const r=await fetch('/api/logs?client='+encodeURIComponent(filter.value.trim()));
                const lines=await r.json();logs.replaceChildren(...lines.map(l=>{const d=document.createElement('div');d.className='logline';d.textContent=l;return d;}));
              }catch(e){}
            }
            filter.addEventListener('input',tail);tail();setInterval(tail,1000);
            """;
}
