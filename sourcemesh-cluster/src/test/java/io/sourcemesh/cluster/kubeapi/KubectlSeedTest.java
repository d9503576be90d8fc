package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The seed's kubectl lines, verbatim, with the machine's real kubectl through the written kubeconfig,
 * once per runtime (the netns run as root): apply, rollout status, get -o wide, exec -it deploy/sleep, the
 * TPROXY patch, the gateway's address by jsonpath, the externalTrafficPolicy patch, logs.
 */
class KubectlSeedTest {
    @RegisterExtension
    @Order(1)
    final ClusterExtension clusters = new ClusterExtension();
    /** Registered after the cluster's, so it closes first: the API server reads the cluster's store. */
    @RegisterExtension
    @Order(2)
    final ApiServerExtension api = new ApiServerExtension();
    Path home;
    Cluster cluster;
    ClusterRuntime runtime;
    Kubectl kubectl;

    private void up(ClusterRuntime on) {
        assumeTrue(Kubectl.installed(), "no kubectl on PATH: the tests that drive the real kubectl are skipped");
        runtime = on;
        cluster = clusters.start(on, 2);
        home = clusters.home();
        kubectl = api.serve(cluster, cluster.store(), home).kubectl();
    }

    private static String seed(String file) {
        return Path.of("src/test/resources/seed/" + file).toAbsolutePath().toString();
    }

    private Kubectl.Result ok(String... args) throws Exception {
        Kubectl.Result r = kubectl.run(args);
        assertEquals(0, r.exit(), "kubectl " + String.join(" ", args) + "\n" + r);
        return r;
    }

    private String sleepIp() {
        return cluster.list(ResourceKind.POD, "default", "app=sleep").getFirst().status().path("podIP").asText();
    }

    @ParameterizedTest
    @EnumSource(ClusterRuntime.class)
    void eastWestAndNorthSouth(ClusterRuntime on) throws Exception {
        up(on);
        assertEquals("serviceaccount/sleep created\nservice/sleep created\ndeployment.apps/sleep created\n",
                ok("-n", "default", "apply", "-f", seed("sleep.yaml")).out());
        Kubectl.Result httpbin = ok("-n", "default", "apply", "-f", seed("httpbin.yaml"));
        assertTrue(httpbin.out().contains("deployment.apps/httpbin created"), httpbin.toString());
        assertTrue(ok("-n", "default", "rollout", "status", "deployment/httpbin", "--timeout=" + runtime.settle().toSeconds() + "s").out()
                .contains("deployment \"httpbin\" successfully rolled out"));
        ok("-n", "default", "rollout", "status", "deployment/sleep", "--timeout=" + runtime.settle().toSeconds() + "s");
        assertTrue(cluster.awaitSettled(runtime.settle()));

        Kubectl.Result pods = ok("-n", "default", "get", "pods", "-o", "wide");
        assertTrue(pods.out().startsWith("NAME"), pods.out());
        assertTrue(pods.out().lines().anyMatch(l -> l.startsWith("httpbin-") && l.contains("2/2") && l.contains("Running")), pods.out());
        assertTrue(pods.out().lines().anyMatch(l -> l.startsWith("sleep-") && l.contains(sleepIp())), pods.out());

        // exec -it without a terminal: kubectl says so and runs without a TTY, as against any cluster.
        Kubectl.Result origin = ok("-n", "default", "exec", "-it", "deploy/sleep", "-c", "sleep", "--", "curl", "http://httpbin:8000/ip");
        assertEquals("{\n  \"origin\": \"127.0.0.6\"\n}\n", origin.out(), origin.toString());
        Kubectl.Result s = ok("-n", "default", "exec", "deploy/sleep", "-c", "sleep", "--", "curl", "-s", "http://httpbin:8000/ip");
        assertEquals("{\n  \"origin\": \"127.0.0.6\"\n}\n", s.out(), s.toString());
        Kubectl.Result failed = kubectl.run("-n", "default", "exec", "deploy/sleep", "-c", "sleep", "--", "curl", "-sS", "http://nowhere.invalid/");
        assertNotEquals(0, failed.exit(), failed.toString());
        assertFalse(failed.err().isEmpty(), failed.toString());

        // stdin reaches the command (streamed; closing it is end of file), and the exit code comes back.
        Kubectl.Result cat = kubectl.runWithInput("line one\nline two\n", "-n", "default", "exec", "-i", "deploy/sleep", "-c", "sleep", "--", "cat");
        assertEquals("line one\nline two\n", cat.out(), cat.toString());
        Kubectl.Result exit3 = kubectl.run("-n", "default", "exec", "deploy/sleep", "-c", "sleep", "--", "sh", "-c", "echo out; echo err >&2; exit 3");
        assertEquals(3, exit3.exit(), exit3.toString());
        assertEquals("out\n", exit3.out(), exit3.toString());
        assertEquals("err\ncommand terminated with exit code 3\n", exit3.err(), exit3.toString());

        String tproxy = "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"sidecar.istio.io/interceptionMode\":\"TPROXY\"}}}}}";
        assertEquals("deployment.apps/httpbin patched\n", ok("patch", "deployment", "-n", "default", "httpbin", "-p", tproxy).out());
        ok("-n", "default", "rollout", "status", "deployment/httpbin", "--timeout=" + runtime.settle().toSeconds() + "s");
        assertTrue(cluster.awaitSettled(runtime.settle()));
        assertEquals("{\n  \"origin\": \"" + sleepIp() + "\"\n}\n",
                ok("-n", "default", "exec", "-it", "deploy/sleep", "-c", "sleep", "--", "curl", "http://httpbin:8000/ip").out());

        ok("-n", "default", "apply", "-f", seed("http-demo.yaml"));
        String gateway = ok("-n", "istio-system", "get", "service", "istio-ingressgateway", "-o",
                "jsonpath={.status.loadBalancer.ingress[0].ip}").out();
        assertEquals(cluster.info().gatewayAddress(), gateway);
        assertFalse(gateway.isEmpty());
        assertEquals("service/istio-ingressgateway patched\n", ok("patch", "service", "istio-ingressgateway", "-n", "istio-system",
                "-p", "{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}").out());
        KubeObject svc = cluster.get(ResourceKind.SERVICE, "istio-system", "istio-ingressgateway").orElseThrow();
        assertEquals("Local", svc.spec().path("externalTrafficPolicy").asText());
        assertTrue(svc.spec().path("healthCheckNodePort").asInt() >= 30000, svc.toString());

        Kubectl.Result logs = ok("-n", "default", "logs", "deploy/httpbin", "-c", "istio-proxy", "--tail=1");
        assertEquals(1, logs.out().lines().count(), logs.toString());
        assertTrue(ok("-n", "default", "wait", "--for=condition=Ready", "pod", "-l", "app=sleep", "--timeout=" + runtime.settle().toSeconds() + "s").out()
                .contains("condition met"));
        Kubectl.Result describe = ok("-n", "default", "describe", "deployment", "httpbin");
        assertTrue(describe.out().contains("Name:") && describe.out().contains("httpbin"), describe.toString());

        // logs -f: a request made while following shows up in the sidecar's access log.
        Path followed = home.resolve("follow.out");
        Process follow = kubectl.start(followed, "-n", "default", "logs", "-f", "deploy/httpbin", "-c", "istio-proxy", "--tail=0");
        try {
            Thread.sleep(1000);
            ok("-n", "default", "exec", "deploy/sleep", "-c", "sleep", "--", "curl", "-s", "http://httpbin:8000/headers?followed=yes");
            io.sourcemesh.cluster.testing.ExternalClient.awaitTrue(() -> {
                try {
                    return Files.readString(followed).contains("followed=yes");
                } catch (java.io.IOException e) {
                    return false;
                }
            }, "the followed log shows the request");
        } finally {
            follow.destroy();
            follow.waitFor();
        }
    }

    /** The control plane reading the cluster through fabric8 informers (every ClusterExtension cluster does, as the daemon): the seed's east-west lines. */
    @ParameterizedTest
    @EnumSource(ClusterRuntime.class)
    void eastWestWithTheControlPlaneOnInformers(ClusterRuntime on) throws Exception {
        up(on);
        assertTrue(cluster.readsMeshThroughInformers());
        ok("-n", "default", "apply", "-f", seed("sleep.yaml"));
        ok("-n", "default", "apply", "-f", seed("httpbin.yaml"));
        ok("-n", "default", "rollout", "status", "deployment/httpbin", "--timeout=" + runtime.settle().toSeconds() + "s");
        ok("-n", "default", "rollout", "status", "deployment/sleep", "--timeout=" + runtime.settle().toSeconds() + "s");
        assertTrue(cluster.awaitSettled(runtime.settle()));
        assertEquals("{\n  \"origin\": \"127.0.0.6\"\n}\n",
                ok("-n", "default", "exec", "deploy/sleep", "-c", "sleep", "--", "curl", "-s", "http://httpbin:8000/ip").out());

        // The pod template's interception mode reaches the new pods' listeners through the informers.
        String tproxy = "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"sidecar.istio.io/interceptionMode\":\"TPROXY\"}}}}}";
        ok("patch", "deployment", "-n", "default", "httpbin", "-p", tproxy);
        ok("-n", "default", "rollout", "status", "deployment/httpbin", "--timeout=" + runtime.settle().toSeconds() + "s");
        assertTrue(cluster.awaitSettled(runtime.settle()));
        assertEquals("{\n  \"origin\": \"" + sleepIp() + "\"\n}\n",
                ok("-n", "default", "exec", "deploy/sleep", "-c", "sleep", "--", "curl", "-s", "http://httpbin:8000/ip").out());

        // The Gateway and VirtualService reach the ingress gateway through the informers (north-south needs
        // the load balancer's health checks too, so this waits for the route).
        ok("-n", "default", "apply", "-f", seed("http-demo.yaml"));
        String gateway = cluster.info().gatewayAddress();
        runtime.client(cluster).awaitCode("http://" + gateway + ":80/ip", 200);
    }
}
