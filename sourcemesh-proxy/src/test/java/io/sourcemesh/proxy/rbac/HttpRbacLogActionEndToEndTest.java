package io.sourcemesh.proxy.rbac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.Origin;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RBAC action LOG (Istio's AUDIT) end to end: it never blocks, counts as {@code rbac.allowed}, and
 * sets {@code %DYNAMIC_METADATA(envoy.common:access_log_hint)%} to whether a policy matched. Ports
 * Envoy's rbac_filter_test.cc {@code RoleBasedAccessControlFilterTest.ShouldLog} / {@code ShouldNotLog}
 * (metadata set in enforced mode only, so shadow LOG rules leave it unset).
 */
class HttpRbacLogActionEndToEndTest {
    private static final String LOG_RULES = """
            rules:
              action: LOG
              policies:
                "ns[demo]-policy[audit-admin]-rule[0]":
                  permissions: [{url_path: {path: {prefix: /admin/}}}]
                  principals: [{any: true}]
            """;

    private Origin origin;
    private Proxy proxy;

    @TempDir
    Path dir;

    @BeforeEach
    void startOrigin() throws Exception {
        origin = Origin.start();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    /** The suite's bootstrap with one more JSON access-log field: the hint. */
    private String bootstrap(Path log, String rules) {
        String yaml = HttpRbacEndToEndTest.bootstrap(origin.port(), log, rules);
        return yaml.replaceFirst("( +)client: (\"%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%\")\n",
                "$1client: $2\n$1hint: \"%DYNAMIC_METADATA(envoy.common:access_log_hint)%\"\n");
    }

    private String url(String path) {
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + path;
    }

    private long counter(String name) {
        String stats = Curl.run("http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort()
                + "/stats?filter=" + name.replace(".", "\\.") + "$").body();
        for (String line : stats.split("\n")) {
            if (line.startsWith(name + ": ")) {
                return Long.parseLong(line.substring(name.length() + 2).trim());
            }
        }
        throw new AssertionError(name + " not in /stats: " + stats);
    }

    @Test
    void logActionMarksMatchedRequestsAndNeverBlocks() throws Exception {
        Path log = dir.resolve("access.log");
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(log, LOG_RULES)), 1);
        List<String> messages = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                messages.add(r.getMessage());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        Logger rbac = Logger.getLogger("io.sourcemesh.proxy.rbac");
        rbac.addHandler(capture);
        try {
            Curl.run("-X", "POST", "http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort() + "/logging?rbac=debug");
            Curl.Result logged = Curl.run(url("/admin/users"));
            assertEquals(200, logged.status(), logged.err());
            Curl.Result notLogged = Curl.run(url("/public"));
            assertEquals(200, notLogged.status(), notLogged.err());
        } finally {
            rbac.removeHandler(capture);
            Curl.run("-X", "POST", "http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort() + "/logging?rbac=info");
        }
        assertEquals(List.of("/admin/users", "/public"), origin.seen().stream().map(s -> s.uri()).toList(),
                "both reached the app");

        List<String> lines = LogFiles.awaitLines(log, 2);
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(lines.get(0));
        JsonNode second = json.readTree(lines.get(1));
        assertEquals(200, first.get("code").asInt());
        assertTrue(first.get("hint").isBoolean(), lines.get(0));
        assertTrue(first.get("hint").booleanValue(), lines.get(0));
        assertTrue(second.get("hint").isBoolean(), lines.get(1));
        assertEquals(false, second.get("hint").booleanValue(), lines.get(1));

        // Current Envoy has no logged/not_logged counters: LOG is always allowed.
        assertEquals(2, counter("http.ingress_http.rbac.allowed"));
        assertEquals(0, counter("http.ingress_http.rbac.denied"));
        String all = String.join("\n", messages);
        assertTrue(all.contains("access_log_hint: true, matched policy ns[demo]-policy[audit-admin]-rule[0]"), all);
        assertTrue(all.contains("access_log_hint: false, matched policy none"), all);
    }

    @Test
    void withoutAnEnforcedLogEngineTheHintStaysUnset() throws Exception {
        Path log = dir.resolve("access.log");
        String rules = """
                rules:
                  action: DENY
                  policies:
                    block-secret:
                      permissions: [{url_path: {path: {prefix: /secret}}}]
                      principals: [{any: true}]
                shadow_rules:
                  action: LOG
                  policies:
                    everything:
                      permissions: [{any: true}]
                      principals: [{any: true}]
                """;
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(log, rules)), 1);
        assertEquals(200, Curl.run(url("/open")).status());
        assertEquals(403, Curl.run(url("/secret")).status());
        List<String> lines = LogFiles.awaitLines(log, 2);
        ObjectMapper json = new ObjectMapper();
        for (String line : lines) {
            assertTrue(json.readTree(line).get("hint").isNull(), "shadow LOG rules never set the hint: " + line);
        }
        assertEquals(2, counter("http.ingress_http.rbac.shadow_allowed"));
    }

    @Test
    void anyOtherDynamicMetadataIsRefusedAtStart() {
        String yaml = HttpRbacEndToEndTest.bootstrap(origin.port(), dir.resolve("a.log"), LOG_RULES)
                .replaceFirst("( +)client: (\"%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%\")\n",
                        "$1client: $2\n$1rbac: \"%DYNAMIC_METADATA(envoy.filters.http.rbac:shadow_engine_result)%\"\n");
        Exception e = assertThrows(Exception.class, () -> {
            proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
        });
        assertTrue(String.valueOf(e.getMessage()).contains("DYNAMIC_METADATA(envoy.filters.http.rbac:shadow_engine_result)"),
                e.toString());
    }
}
