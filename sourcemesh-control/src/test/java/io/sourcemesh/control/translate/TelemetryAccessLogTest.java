package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.proxy.config.ConfigTranslator;
import io.sourcemesh.proxy.config.NodeInfo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Telemetry accessLogging → each proxy's access logs, as Istio's telemetry merge (pilot/pkg/model/telemetry.go) and
 * access-log builder (networking/core/accesslog.go) write them: per listener class (sidecar inbound SERVER, outbound and
 * gateways CLIENT), disabled, and the filter as Envoy's CEL extension filter.
 */
class TelemetryAccessLogTest {
    private static final AccessLog MESH_LOG = AccessLogs.istioJson("/dev/stdout");
    private final Translator translator = Translator.create();

    private static MeshModel model(String... telemetries) {
        List<ObjectNode> objects = Fixtures.seed("seed/http-demo.yaml");
        for (String y : telemetries) {
            objects.add(Fixtures.parseYaml(y));
        }
        return MeshModel.of(objects);
    }

    private static String telemetry(String namespace, String name, String spec) {
        return "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: " + name + ", namespace: " + namespace
                + "}\nspec:\n" + spec.indent(2);
    }

    /** Every distinct access-log list on the proxy's inbound (true) or outbound (false) listeners' last filters. */
    private static Set<List<AccessLog>> logs(ProxyResources r, boolean inbound) {
        Set<List<AccessLog>> out = new HashSet<>();
        for (Listener l : r.listeners()) {
            if (l.getName().equals("virtualInbound") != inbound) {
                continue;
            }
            for (FilterChain fc : l.getFilterChainsList()) {
                Filter f = fc.getFilters(fc.getFiltersCount() - 1);
                if (f.getTypedConfig().getTypeUrl().endsWith("HttpConnectionManager")) {
                    out.add(ProxyResources.unpack(f.getTypedConfig(), HttpConnectionManager.class).getAccessLogList());
                } else if (f.getTypedConfig().getTypeUrl().endsWith("TcpProxy")) {
                    out.add(ProxyResources.unpack(f.getTypedConfig(), TcpProxy.class).getAccessLogList());
                }
            }
        }
        assertFalse(out.isEmpty(), "no " + (inbound ? "inbound" : "outbound") + " listeners");
        return out;
    }

    private ProxyResources sidecar(MeshModel model, String app) {
        return translator.translate(model, Fixtures.sidecar(model, app));
    }

    private ProxyResources gateway(MeshModel model) {
        return translator.translate(model, Fixtures.gateway(model));
    }

    private static final Set<List<AccessLog>> MESH = Set.of(List.of(MESH_LOG));
    private static final Set<List<AccessLog>> NONE = Set.of(List.of());

    @Test
    void withoutTelemetryEveryListenerHasTheMeshLog() {
        MeshModel m = model();
        assertEquals(MESH, logs(sidecar(m, "httpbin"), true));
        assertEquals(MESH, logs(sidecar(m, "httpbin"), false));
        assertEquals(MESH, logs(gateway(m), false));
    }

    @Test
    void meshWideDisabledThenANamespaceTurnsItBackOn() {
        String off = telemetry("istio-system", "mesh-default", "accessLogging: [{providers: [{name: envoy}], disabled: true}]");
        MeshModel m = model(off);
        assertEquals(NONE, logs(sidecar(m, "httpbin"), true));
        assertEquals(NONE, logs(sidecar(m, "sleep"), false));
        assertEquals(NONE, logs(gateway(m), false));
        MeshModel on = model(off, telemetry("default", "ns", "accessLogging: [{providers: [{name: envoy}]}]"));
        assertEquals(MESH, logs(sidecar(on, "httpbin"), true));
        assertEquals(MESH, logs(sidecar(on, "sleep"), false));
        assertEquals(NONE, logs(gateway(on), false), "the gateway's namespace keeps the mesh-wide Telemetry");
    }

    @Test
    void aWorkloadSelectorDisablesOneWorkloadsLogsOnly() {
        MeshModel m = model(telemetry("default", "quiet-httpbin", """
                selector: {matchLabels: {app: httpbin}}
                accessLogging: [{providers: [{name: envoy}], disabled: true}]"""));
        assertEquals(NONE, logs(sidecar(m, "httpbin"), true));
        assertEquals(NONE, logs(sidecar(m, "httpbin"), false));
        assertEquals(MESH, logs(sidecar(m, "sleep"), true));
        assertEquals(MESH, logs(sidecar(m, "sleep"), false));
    }

    @Test
    void anEntryWithoutProvidersTakesTheLevelAbovesAsIstio() {
        MeshModel m = model(telemetry("istio-system", "mesh", "accessLogging: [{providers: [{name: envoy}]}]"),
                telemetry("default", "quiet-httpbin", "selector: {matchLabels: {app: httpbin}}\naccessLogging: [{disabled: true}]"));
        assertEquals(NONE, logs(sidecar(m, "httpbin"), true));
        assertEquals(MESH, logs(sidecar(m, "sleep"), true));
    }

    @Test
    void disabledWithNoProviderAnywhereKeepsTheMeshLogAndSaysSo() {
        MeshModel m = model(telemetry("default", "quiet", "accessLogging: [{disabled: true}]"));
        ProxyResources r = sidecar(m, "httpbin");
        assertEquals(MESH, logs(r, true));
        assertTrue(r.warnings().stream().anyMatch(w -> w.resource().equals("Telemetry default/quiet")
                && w.message().contains("names no provider")), r.warnings().toString());
    }

    @Test
    void modeServerIsTheSidecarsInboundAndAGatewayIsAClient() {
        MeshModel server = model(telemetry("istio-system", "mesh", "accessLogging: [{providers: [{name: envoy}], match: {mode: SERVER}, disabled: true}]"));
        assertEquals(NONE, logs(sidecar(server, "httpbin"), true));
        assertEquals(MESH, logs(sidecar(server, "httpbin"), false));
        assertEquals(MESH, logs(gateway(server), false));
        assertTrue(sidecar(server, "httpbin").warnings().stream().noneMatch(w -> w.resource().startsWith("Telemetry")));
        MeshModel client = model(telemetry("istio-system", "mesh", "accessLogging: [{providers: [{name: envoy}], match: {mode: CLIENT}, disabled: true}]"));
        assertEquals(MESH, logs(sidecar(client, "httpbin"), true));
        assertEquals(NONE, logs(sidecar(client, "httpbin"), false));
        assertEquals(NONE, logs(gateway(client), false));
    }

    @Test
    void aFilterIsEnvoysCelExtensionFilterTheProxyTakes() {
        MeshModel m = model(telemetry("default", "errors", """
                selector: {matchLabels: {app: httpbin}}
                accessLogging: [{providers: [{name: envoy}], filter: {expression: "response.code >= 400"}}]"""));
        ProxyResources r = sidecar(m, "httpbin");
        AccessLog expected = AccessLogs.istioJson("/dev/stdout", Optional.of("response.code >= 400"));
        assertEquals(Set.of(List.of(expected)), logs(r, true));
        assertEquals("envoy.access_loggers.extension_filters.cel", expected.getFilter().getExtensionFilter().getName());
        assertEquals("response.code >= 400", ProxyResources.unpack(expected.getFilter().getExtensionFilter().getTypedConfig(),
                ExpressionFilter.class).getExpression());
        assertEquals(MESH, logs(sidecar(m, "sleep"), true));
        // the proxy takes what the control plane sends
        ProxyResources inline = r.withInlineRoutes();
        assertEquals(Optional.of("response.code >= 400"), ConfigTranslator.fromResources(inline.listeners(), inline.clusters(), "v1",
                NodeInfo.unnamed()).listeners().stream().filter(l -> l.name().equals("virtualInbound")).findFirst().orElseThrow()
                .filterChains().getFirst().filters().getLast() instanceof io.sourcemesh.proxy.config.TcpProxyConfig t
                ? t.accessLogs().getFirst().celFilter() : Optional.empty());
    }

    @Test
    void theOldestNamespaceWideTelemetryWinsAsIstio() {
        String older = "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: z-older, namespace: default, "
                + "creationTimestamp: '2026-01-01T00:00:00Z'}\nspec:\n  accessLogging: [{providers: [{name: envoy}], disabled: true}]\n";
        String newer = "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: a-newer, namespace: default, "
                + "creationTimestamp: '2026-02-01T00:00:00Z'}\nspec:\n  accessLogging: [{providers: [{name: envoy}]}]\n";
        assertEquals(NONE, logs(sidecar(model(newer, older), "httpbin"), true));
    }
}
