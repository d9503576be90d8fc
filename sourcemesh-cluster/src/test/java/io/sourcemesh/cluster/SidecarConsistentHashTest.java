package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ProxyLogs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A DestinationRule's consistentHash httpCookie end to end in the embedded runtime: curl in sleep's pod calls httpbin
 * (three pods) through its sidecar, whose route carries Istio's cookie hash policy (pilot/pkg/networking/core/route/
 * route.go ConsistentHashToHashPolicy); the first response brings Envoy's Set-Cookie, and the requests that send the
 * cookie back all reach one httpbin pod, while requests without it spread.
 */
class SidecarConsistentHashTest {
    private static final Pattern SET_COOKIE = Pattern.compile("(?mi)^set-cookie: (user=\"([0-9a-f]{16})\"[^\\r\\n]*)");

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;

    @Test
    void anHttpCookieKeepsTheClientOnOnePod() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/sleep.yaml")));
        cluster.apply(ManifestReader.read("httpbin.yaml", Files.readString(Path.of("src/test/resources/seed/httpbin.yaml"))
                .replace("replicas: 1", "replicas: 3")));
        cluster.apply(ManifestReader.read("dr.yaml", """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec:
                  host: httpbin
                  trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: user, ttl: 3600s}}}}
                """));
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        assertEquals(3, cluster.list(ResourceKind.POD, "default", "app=httpbin").stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).count());
        String sleep = cluster.list(ResourceKind.POD, "default", "app=sleep").stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().map(KubeObject::name)
                .orElseThrow();

        ExecResult first = curl(sleep, "/ip?n=first");
        Matcher m = SET_COOKIE.matcher(first.stdout());
        assertTrue(m.find(), "Envoy's Set-Cookie on the first response: " + first.stdout() + first.stderr());
        assertEquals("user=\"" + m.group(2) + "\"; Max-Age=3600; HttpOnly", m.group(1));
        String cookie = "user=\"" + m.group(2) + "\"";

        Set<String> withCookie = new HashSet<>();
        for (int i = 0; i < 8; i++) {
            ExecResult r = curl(sleep, "/ip?n=c" + i, "-H", "Cookie: " + cookie);
            assertTrue(r.stdout().startsWith("HTTP/1.1 200"), r.stdout() + r.stderr());
            assertTrue(!SET_COOKIE.matcher(r.stdout()).find(), "the cookie came back: no new one " + r.stdout());
            withCookie.add(upstreamHost(sleep, "/ip?n=c" + i));
        }
        assertEquals(1, withCookie.size(), "one cookie, one httpbin pod: " + withCookie);

        Set<String> without = new HashSet<>();
        for (int i = 0; i < 30 && without.size() < 2; i++) {
            curl(sleep, "/ip?n=w" + i);
            without.add(upstreamHost(sleep, "/ip?n=w" + i));
        }
        assertTrue(without.size() >= 2, "each connection without the cookie gets its own: they spread " + without);
    }

    private ExecResult curl(String pod, String path, String... args) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "10", "-D", "-", "-o", "/dev/null"));
        cmd.addAll(List.of(args));
        cmd.add("http://httpbin:8000" + path);
        return cluster.exec("default", pod, "sleep", cmd);
    }

    /** The httpbin pod the sleep sidecar sent the request for {@code path} to (its outbound access-log line). */
    private String upstreamHost(String pod, String path) throws Exception {
        JsonNode line = ProxyLogs.await(cluster, "default", pod, j -> j.path("path").asText().equals(path)
                && j.path("upstream_cluster").asText().startsWith("outbound|8000|"), j -> j.hasNonNull("upstream_host"));
        return line.path("upstream_host").asText();
    }
}
