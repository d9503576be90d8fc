package io.sourcemesh.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo's closing section: Istio's "Authorization on Ingress Gateway" on the address the gateway now
 * sees. An ALLOW policy naming the client's own address lets it through (200), a DENY on the same
 * address stops it (Envoy's 403 "RBAC: access denied"), and the gateway's access log says which policy
 * decided ({@code response_code_details}). Policies reach the running gateway by push; each step waits
 * for the answer it expects rather than for a fixed time.
 */
final class DemoAuthorization {
    static final String NS = "istio-system";
    static final String ALLOW = "ingress-allow-client";
    static final String DENY = "ingress-deny-client";

    private final DemoCommand demo;
    private final DemoCommand.ExternalClient client;
    private final String url;
    private final Path dir;

    DemoAuthorization(DemoCommand demo, DemoCommand.ExternalClient client, String gateway, Path dir) {
        this.demo = demo;
        this.client = client;
        this.url = "http://" + gateway + ":80/ip";
        this.dir = dir;
    }

    /** Removes the section's policies, so a demo run starts without them. */
    static void reset(ClusterApi api) {
        for (String name : List.of(ALLOW, DENY)) {
            api.get(ResourceKind.AUTHORIZATION_POLICY, NS, name).ifPresent(o -> api.delete(ResourceKind.AUTHORIZATION_POLICY, NS, name));
        }
    }

    void run() throws Exception {
        demo.heading("Authorization at the gateway: an AuthorizationPolicy on the client's own address");
        Path allow = write(ALLOW, "ALLOW", "ipBlocks");
        demo.run("apply", "-f", allow.toString());
        awaitPushed(ALLOW);
        step("gateway ALLOW ip", 200, "via_upstream");

        Path deny = write(DENY, "DENY", "remoteIpBlocks");
        demo.run("apply", "-f", deny.toString());
        awaitPushed(DENY);
        step("gateway DENY ip", 403, "rbac_access_denied_matched_policy[ns[" + NS + "]-policy[" + DENY + "]-rule[0]]");

        demo.out.println();
        demo.out.println("# Removing both policies lets the client through again.");
        demo.run("delete", "authorizationpolicy", DENY, "-n", NS);
        demo.run("delete", "authorizationpolicy", ALLOW, "-n", NS);
    }

    private Path write(String name, String action, String field) throws Exception {
        String yaml = """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata:
                  name: NAME
                  namespace: istio-system
                spec:
                  selector:
                    matchLabels:
                      app: istio-ingressgateway
                  action: ACTION
                  rules:
                  - from:
                    - source:
                        FIELD: ["CLIENT"]
                """.replace("NAME", name).replace("ACTION", action).replace("FIELD", field).replace("CLIENT", client.address());
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        demo.show("cat " + file.getFileName());
        demo.out.print(yaml);
        return file;
    }

    /** Waits until the policy's status says the gateway ACKed the push that carries it (its Reconciled condition). */
    private void awaitPushed(String policy) throws InterruptedException {
        // the policy's status, on the API's watch: it changes once the gateway has answered the push
        if (demo.api.await(ResourceKind.AUTHORIZATION_POLICY, NS, policy, found -> found
                .map(p -> p.status().path("conditions").path(0).path("reason").asText("").equals("Applied")).orElse(false),
                java.time.Duration.ofSeconds(10))) {
            demo.run("-n", NS, "get", "authorizationpolicy", policy, "-o", "jsonpath={.status.conditions[0].message}: {.status.proxies[*].name}");
            demo.out.println();
        }
    }

    /** Waits for the expected status (the push lands a moment after apply), then shows it and its log line. */
    private void step(String name, int expected, String expectedDetails) throws Exception {
        String[] answer = curl();
        for (int i = 0; i < 100 && !answer[0].equals(String.valueOf(expected)); i++) {
            Thread.sleep(100);
            answer = curl();
        }
        demo.show("curl -s -w '\\n%{http_code}\\n' " + url + "      # from " + client.address());
        demo.out.println(answer[1]);
        demo.out.println(answer[0]);
        demo.show("sourcemesh -n istio-system logs deploy/istio-ingressgateway --tail 1   # why: response_code_details");
        String gwPod = demo.api.list(ResourceKind.POD, NS, "istio=ingressgateway").stream()
                .filter(x -> x.status().path("phase").asText().equals("Running")).map(KubeObject::name).findFirst().orElse("");
        String code = answer[0];
        JsonNode log = demo.lastLog(NS, gwPod, j -> "/ip".equals(j.path("path").asText())
                && j.path("downstream_remote_address").asText().startsWith(client.address() + ":")
                && code.equals(j.path("response_code").asText()));
        String details = log.path("response_code_details").asText("-");
        demo.out.println("{\"response_code\": " + log.path("response_code").asText("-") + ", \"response_code_details\": \""
                + details + "\", \"downstream_remote_address\": \"" + log.path("downstream_remote_address").asText("-") + "\"}");
        String want = "HTTP " + expected;
        demo.rows.add(new DemoCommand.Row(name, want, o -> o.equals(want) && details.equals(expectedDetails),
                "HTTP " + code, "response_code_details: " + details));
    }

    /** {status code, body} of one request from the external client. */
    private String[] curl() throws Exception {
        List<String> cmd = new ArrayList<>(client.curlPrefix());
        cmd.addAll(List.of("-s", "--max-time", "5", "--noproxy", "*", "-w", "\n%{http_code}", url));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        int nl = out.lastIndexOf('\n');
        return new String[] {out.substring(nl + 1).trim(), nl < 0 ? "" : out.substring(0, nl)};
    }
}
