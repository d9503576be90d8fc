package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The mesh's own mutual TLS, with real curl on both runtimes: the cluster's self-signed root in istio-ca-secret, published
 * as istio-ca-root-cert in every namespace; sleep (service account sleep) calls httpbin through both sidecars over mTLS by
 * auto mTLS, so httpbin sees X-Forwarded-Client-Cert with sleep's SPIFFE URI; a pod without a sidecar (legacy) is served
 * under PERMISSIVE and DISABLE and refused under STRICT; AuthorizationPolicy principals and namespaces match sleep's
 * identity; a service over a meshed pod under STRICT and a pod without a sidecar is served mTLS and plaintext per pod
 * (auto mTLS per endpoint); a DestinationRule's ISTIO_MUTUAL toward a DISABLEd httpbin
 * fails rather than falling back to plaintext; the app's source address stays 127.0.0.6 (REDIRECT) or sleep's own (TPROXY).
 */
class MutualTlsWalkthroughTest {
    private static final String SLEEP_URI = "URI=spiffe://cluster.local/ns/default/sa/sleep";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;
    ClusterRuntime runtime;

    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void sleepCallsHttpbinOverMtlsAndStrictRefusesPlaintext(ClusterRuntime on) throws Exception {
        runtime = on;
        cluster = clusters.start(on, 1);
        apply("seed/sleep.yaml", "seed/httpbin.yaml");
        applyText(LEGACY);
        assertTrue(cluster.awaitSettled(runtime.settle()), "pods settle");

        // istiod's root, in every namespace
        String root = new String(Base64.getMimeDecoder().decode(cluster.get(ResourceKind.SECRET, "istio-system",
                "istio-ca-secret").orElseThrow().node().path("data").path("ca-cert.pem").asText()), StandardCharsets.US_ASCII);
        assertTrue(root.startsWith("-----BEGIN CERTIFICATE-----"), root);
        for (String ns : List.of("default", "istio-system")) {
            assertEquals(root, cluster.get(ResourceKind.CONFIG_MAP, ns, "istio-ca-root-cert").orElseThrow().node().path("data")
                    .path("root-cert.pem").asText(), ns);
        }

        // PERMISSIVE (Istio's default): sleep's sidecar sends mTLS by itself (auto mTLS); legacy's plaintext is served too.
        Answer mtls = awaitAnswer("sleep", "/headers", a -> a.code() == 200 && a.body().contains(SLEEP_URI));
        // httpbin runs as the namespace's default service account (the seed names none)
        assertTrue(mtls.body().contains("\"By=spiffe://cluster.local/ns/default/sa/default;Hash="), mtls.body());
        assertEquals("{\n  \"origin\": \"127.0.0.6\"\n}\n", call("sleep", "/ip").body(), "REDIRECT: still 127.0.0.6");
        // The workload key travels inline in the push; the proxy's /config_dump redacts it, as Envoy's.
        String dump = cluster.proxyConfig("default", runningPod("app=sleep").name());
        assertTrue(dump.contains("[redacted]") && dump.contains("BEGIN CERTIFICATE"), "the certificate is shown");
        assertFalse(dump.contains("PRIVATE KEY"), "the key is not");
        Answer plain = call("legacy", "/headers");
        assertEquals(200, plain.code(), plain.body());
        assertFalse(plain.body().contains("X-Forwarded-Client-Cert"), plain.body());

        // AuthorizationPolicy on the peer's identity: ALLOW sleep's principal lets sleep in and not legacy (no mTLS, no
        // identity); a DENY of the default namespace then refuses sleep too.
        applyText("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: sleep-only, namespace: default}
                spec:
                  selector: {matchLabels: {app: httpbin}}
                  rules: [{from: [{source: {principals: ["cluster.local/ns/default/sa/sleep"]}}]}]
                """);
        awaitAnswer("legacy", "/headers", a -> a.code() == 403);
        assertEquals(200, call("sleep", "/headers").code());
        applyText("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: no-default, namespace: default}
                spec:
                  selector: {matchLabels: {app: httpbin}}
                  action: DENY
                  rules: [{from: [{source: {namespaces: ["default"]}}]}]
                """);
        awaitAnswer("sleep", "/headers", a -> a.code() == 403);
        cluster.delete(ResourceKind.AUTHORIZATION_POLICY, "default", "sleep-only");
        cluster.delete(ResourceKind.AUTHORIZATION_POLICY, "default", "no-default");
        awaitAnswer("legacy", "/headers", a -> a.code() == 200);

        // STRICT for the namespace: plaintext refused at httpbin's sidecar, sleep's mTLS served.
        applyText(peer("default", null, "STRICT"));
        awaitAnswer("legacy", "/headers", a -> a.code() == 0);
        assertTrue(call("sleep", "/headers").body().contains(SLEEP_URI));

        // TPROXY under STRICT: the app sees sleep's own address through the mTLS hop.
        String sleepIp = runningPod("app=sleep").status().path("podIP").asText();
        rollHttpbin(Files.readString(Path.of("src/test/resources/seed/tproxy-patch.json")));
        assertEquals("{\n  \"origin\": \"" + sleepIp + "\"\n}\n", awaitAnswer("sleep", "/ip", a -> a.code() == 200).body());
        rollHttpbin("{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"sidecar.istio.io/interceptionMode\":null}}}}}");

        // DISABLE for httpbin: plaintext only; auto mTLS sees it and sends plaintext, so both are served without XFCC.
        applyText(peer("default", "httpbin", "DISABLE"));
        awaitAnswer("legacy", "/headers", a -> a.code() == 200);
        Answer disabled = call("sleep", "/headers");
        assertEquals(200, disabled.code(), disabled.body());
        assertFalse(disabled.body().contains("X-Forwarded-Client-Cert"), disabled.body());

        // A DestinationRule's ISTIO_MUTUAL is sent as told: toward the DISABLEd httpbin, whose plaintext chain reads the
        // ClientHello as HTTP, no answer comes (the handshake waits out the connect timeout), never a plaintext 200.
        applyText("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec: {host: httpbin, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}
                """);
        awaitAnswer("sleep", "/headers", a -> a.code() != 200);
        cluster.delete(ResourceKind.PEER_AUTHENTICATION, "default", "httpbin");
        cluster.settle(List.of());
        Answer explicit = awaitAnswer("sleep", "/headers", a -> a.code() == 200);
        assertTrue(explicit.body().contains(SLEEP_URI), explicit.body());
    }

    /**
     * Auto mTLS per endpoint (Istio's transport_socket_matches): httpbin's service over its injected pod under STRICT and
     * a pod without a sidecar; sleep's sidecar sends mTLS to the first (httpbin sees sleep's SPIFFE URI in XFCC, and its
     * own sidecar's 127.0.0.6, or sleep's address under TPROXY) and plaintext to the second (no XFCC, sleep's address as
     * its sidecar connected from it); neither refuses. Chosen per cluster, one of the two would fail.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void aServiceOfPodsInAndOutOfTheMeshIsServedMtlsAndPlaintextPerPod(ClusterRuntime on) throws Exception {
        runtime = on;
        cluster = clusters.start(on, 1);
        apply("seed/sleep.yaml", "seed/httpbin.yaml");
        applyText(PLAIN_HTTPBIN);
        applyText(peer("default", "httpbin", "STRICT"));
        assertTrue(cluster.awaitSettled(runtime.settle()), "pods settle");
        String sleepIp = runningPod("app=sleep").status().path("podIP").asText();

        Answer mtls = awaitAnswer("sleep", "/headers", a -> a.code() == 200 && a.body().contains(SLEEP_URI));
        assertTrue(mtls.body().contains("X-Forwarded-Client-Cert"), mtls.body());
        Answer plain = awaitAnswer("sleep", "/headers", a -> a.code() == 200 && !a.body().contains("X-Forwarded-Client-Cert"));
        assertFalse(plain.body().contains(SLEEP_URI), plain.body());
        // Every call is answered, by one pod or the other: no refused handshake, no plaintext to the STRICT one.
        List<String> origins = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Answer ip = call("sleep", "/ip");
            assertEquals(200, ip.code(), ip.body());
            origins.add(ip.body());
        }
        assertTrue(origins.contains("{\n  \"origin\": \"127.0.0.6\"\n}\n"), "the meshed pod: REDIRECT, 127.0.0.6 " + origins);
        assertTrue(origins.contains("{\n  \"origin\": \"" + sleepIp + "\"\n}\n"), "the plain pod: sleep's address " + origins);
        assertTrue(origins.stream().allMatch(o -> o.contains("127.0.0.6") || o.contains("\"" + sleepIp + "\"")), origins.toString());

        // TPROXY on the meshed pod: its app sees sleep's own address through the mTLS hop; the plain pod still answers.
        String before = runningPod("app=httpbin,version=v1").name();
        cluster.settle(List.of(cluster.patch(ResourceKind.DEPLOYMENT, "default", "httpbin", PatchType.STRATEGIC,
                Files.readString(Path.of("src/test/resources/seed/tproxy-patch.json")))));
        assertTrue(cluster.awaitSettled(runtime.settle()));
        assertNotEquals(before, runningPod("app=httpbin,version=v1").name());
        for (int i = 0; i < 8; i++) {
            Answer ip = awaitAnswer("sleep", "/ip", a -> a.code() == 200);
            assertEquals("{\n  \"origin\": \"" + sleepIp + "\"\n}\n", ip.body(), "both pods see sleep's address");
        }
        assertTrue(awaitAnswer("sleep", "/headers", a -> a.code() == 200 && a.body().contains(SLEEP_URI)).body()
                .contains("X-Forwarded-Client-Cert"));
        awaitAnswer("sleep", "/headers", a -> a.code() == 200 && !a.body().contains("X-Forwarded-Client-Cert"));
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** A second httpbin pod behind the same service, outside the mesh. */
    private static final String PLAIN_HTTPBIN = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: httpbin-plain, namespace: default}
            spec:
              replicas: 1
              selector: {matchLabels: {app: httpbin, version: plain}}
              template:
                metadata:
                  labels: {app: httpbin, version: plain}
                  annotations: {sidecar.istio.io/inject: "false"}
                spec:
                  containers:
                  - {name: httpbin, image: docker.io/citizenstig/httpbin, ports: [{containerPort: 8000}]}
            """;

    /** A pod outside the mesh: the injector is told to leave it alone. */
    private static final String LEGACY = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: legacy, namespace: default}
            spec:
              replicas: 1
              selector: {matchLabels: {app: legacy}}
              template:
                metadata:
                  labels: {app: legacy}
                  annotations: {sidecar.istio.io/inject: "false"}
                spec:
                  containers:
                  - {name: sleep, image: curlimages/curl, command: ["/bin/sleep", "3650d"]}
            """;

    private static String peer(String namespace, String app, String mode) {
        return """
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: NAME, namespace: NS}
                spec:
                  SELECTOR
                  mtls: {mode: MODE}
                """.replace("NAME", app == null ? "default" : app).replace("NS", namespace).replace("MODE", mode)
                .replace("SELECTOR", app == null ? "" : "selector: {matchLabels: {app: " + app + "}}");
    }

    private void apply(String... files) throws Exception {
        for (String f : files) {
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/" + f)));
        }
    }

    private void applyText(String yaml) {
        cluster.apply(ManifestReader.read("mtls.yaml", yaml));
    }

    private void rollHttpbin(String patch) throws Exception {
        String before = runningPod("app=httpbin").name();
        cluster.settle(List.of(cluster.patch(ResourceKind.DEPLOYMENT, "default", "httpbin", PatchType.STRATEGIC, patch)));
        assertTrue(cluster.awaitSettled(runtime.settle()));
        assertNotEquals(before, runningPod("app=httpbin").name());
    }

    private KubeObject runningPod(String selector) {
        return cluster.list(ResourceKind.POD, "default", selector).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }

    record Answer(int code, String body) {}

    /** curl from the app's pod to httpbin; code 0 when no HTTP answer came (the connection was refused or reset). */
    private Answer call(String app, String path) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "10", "-w", "\n%{http_code}",
                "http://httpbin:8000" + path));
        ExecResult r = cluster.exec("default", runningPod("app=" + app).name(), "sleep", cmd);
        String out = r.stdout();
        int nl = out.lastIndexOf('\n');
        try {
            return new Answer(Integer.parseInt(out.substring(nl + 1).trim()), nl < 0 ? "" : out.substring(0, nl));
        } catch (NumberFormatException e) {
            return new Answer(-1, out + r.stderr());
        }
    }

    private Answer awaitAnswer(String app, String path, Predicate<Answer> expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Answer last = null;
        while (System.nanoTime() < deadline) {
            last = call(app, path);
            if (expected.test(last)) {
                return last;
            }
            Thread.sleep(200);
        }
        fail("timed out; last answer from " + app + ": " + last);
        return last;
    }
}
