package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GetCommandTest {
    @TempDir
    Path home;

    FakeCluster cluster;

    @BeforeEach
    void start() throws IOException {
        cluster = FakeCluster.start(home);
        cluster.applySeed("sleep.yaml", "httpbin.yaml", "http-demo.yaml");
        cluster.seedPods();
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void podsWideAsTheDocumentShowsThem() {
        FakeCluster.Run r = cluster.run("-n", "default", "get", "pods", "-o", "wide");
        assertEquals(new FakeCluster.Run(0, """
                NAME                      READY   STATUS    RESTARTS   AGE     IP            NODE                    NOMINATED NODE   READINESS GATES
                httpbin-c85bdb469-4ll2m   2/2     Running   0          3m22s   172.17.0.12   cn-hongkong.10.0.0.21   <none>           <none>
                sleep-8f764df66-q7dr2     2/2     Running   0          3m9s    172.17.0.13   cn-hongkong.10.0.0.21   <none>           <none>
                """, ""), r);
    }

    @Test
    void podsCountReadyContainersAndSelectByLabel() {
        KubeObject pod = cluster.store.get(ResourceKind.POD, "default", "sleep-8f764df66-q7dr2").orElseThrow();
        ObjectNode status = (ObjectNode) pod.status();
        ((ObjectNode) status.path("containerStatuses").get(1)).put("ready", false);
        ((ObjectNode) status.path("containerStatuses").get(1)).put("restartCount", 2).putObject("lastState")
                .putObject("terminated").put("finishedAt", FakeCluster.NOW.minusSeconds(65).toString());
        cluster.store.updateStatus(pod.withStatus(status));
        assertEquals("""
                NAME                    READY   STATUS    RESTARTS      AGE
                sleep-8f764df66-q7dr2   1/2     Running   2 (65s ago)   3m9s
                """, cluster.run("get", "po", "-l", "app=sleep").out());
        FakeCluster.Run bad = cluster.run("get", "pods", "-l", "app in (x");
        assertEquals(1, bad.code());
        assertTrue(bad.err().startsWith("error: "), bad.err());
    }

    @Test
    void allListsPodsServicesDeploymentsInSections() {
        assertEquals("""
                NAME                          READY   STATUS    RESTARTS   AGE
                pod/httpbin-c85bdb469-4ll2m   2/2     Running   0          3m22s
                pod/sleep-8f764df66-q7dr2     2/2     Running   0          3m9s

                NAME              TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)    AGE
                service/httpbin   ClusterIP   <none>       <none>        8000/TCP   0s
                service/sleep     ClusterIP   <none>       <none>        80/TCP     0s

                NAME                      READY   UP-TO-DATE   AVAILABLE   AGE
                deployment.apps/httpbin   0/1     0            0           0s
                deployment.apps/sleep     0/1     0            0           0s
                """, cluster.run("get", "all").out());
    }

    @Test
    void theIngressGatewayServiceAndItsAddressByJsonPath() {
        ingressGateway();
        assertEquals("""
                NAME                   TYPE           CLUSTER-IP     EXTERNAL-IP   PORT(S)                      AGE
                istio-ingressgateway   LoadBalancer   10.96.100.20   127.100.0.1   80:31380/TCP,443:31390/TCP   5h
                """, cluster.run("-n", "istio-system", "get", "service").out());
        assertEquals(new FakeCluster.Run(0, "127.100.0.1", ""), cluster.run("-n", "istio-system", "get", "service",
                "istio-ingressgateway", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}"));
        // the same with the shell's quotes left in, as a script might pass them
        assertEquals("127.100.0.1", cluster.run("-n", "istio-system", "get", "service",
                "istio-ingressgateway", "-o", "jsonpath='{.status.loadBalancer.ingress[0].ip}'").out());
        assertEquals("httpbin sleep", cluster.run("get", "svc", "-o", "jsonpath={.items[*].metadata.name}").out());
    }

    @Test
    void allNamespacesPutsNamespaceFirst() {
        ingressGateway();
        assertEquals("""
                NAMESPACE      NAME                   TYPE           CLUSTER-IP     EXTERNAL-IP   PORT(S)                      AGE
                default        httpbin                ClusterIP      <none>         <none>        8000/TCP                     0s
                default        sleep                  ClusterIP      <none>         <none>        80/TCP                       0s
                istio-system   istio-ingressgateway   LoadBalancer   10.96.100.20   127.100.0.1   80:31380/TCP,443:31390/TCP   5h
                """, cluster.run("get", "svc", "-A").out());
    }

    @Test
    void istioKindsUseTheirPrinterColumns() {
        assertEquals("""
                NAME      GATEWAYS                      HOSTS   AGE
                httpbin   ["httpbin-gw-httpprotocol"]   ["*"]   0s
                """, cluster.run("get", "virtualservices").out());
        // no status yet (the fake cluster has no gateway proxies)
        assertEquals("NAME                      RECONCILED   PROXIES   AGE\nhttpbin-gw-httpprotocol   <unknown>    <none>    0s\n",
                cluster.run("get", "gw").out());
        cluster.run("apply", "-f", FakeCluster.seed("enable-xff-for-sidecar-inbound.yaml"));
        assertEquals("""
                NAME                             RECONCILED   PROXIES               AGE
                enable-xff-for-sidecar-inbound   Rejected     1/2 ACKED, 1 NACKED   0s
                """, cluster.run("get", "envoyfilters", "-n", "istio-system").out());
    }

    @Test
    void anEnvoyFilterAsYamlShowsItsStatus() {
        cluster.run("apply", "-f", FakeCluster.seed("enable-xff-for-sidecar-inbound.yaml"));
        String yaml = cluster.run("get", "envoyfilter", "enable-xff-for-sidecar-inbound", "-n", "istio-system", "-o", "yaml").out();
        assertTrue(yaml.startsWith("apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n"), yaml);
        assertTrue(yaml.contains("""
                    patch:
                      operation: MERGE
                      value:
                        typed_config:
                          '@type': type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          use_remote_address: true
                status:
                  conditions:
                  - message: 1/2 proxies up to date; 1 rejected the push carrying it and keep their last good config
                    reason: Rejected
                    status: "False"
                    type: Reconciled
                  proxies:
                  - name: httpbin-5f7d8b9c4-x2x2x.default
                    state: ACKED
                  - detail: 'LDS 3a1f: listener_filters[0].name: envoy.listener.proxy_protocol is not supported'
                    name: sleep-6d68f4b9c9-q8v7w.default
                    state: NACKED
                  validationMessages:
                  - description: 'sleep-6d68f4b9c9-q8v7w.default rejected the push carrying it (LDS 3a1f: listener_filters[0].name: envoy.listener.proxy_protocol is not supported)'
                    level: ERROR
                    type: ProxyRejected
                """), yaml);
    }

    @Test
    void namesJsonAndListsAsKubectl() {
        assertEquals("deployment.apps/httpbin\ndeployment.apps/sleep\n", cluster.run("get", "deploy", "-o", "name").out());
        String list = cluster.run("get", "sa", "-o", "yaml").out();
        assertTrue(list.startsWith("apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: ServiceAccount\n"), list);
        assertTrue(list.endsWith("kind: List\nmetadata:\n  resourceVersion: \"\"\n"), list);
        String json = cluster.run("get", "deployment", "sleep", "-o", "json").out();
        assertTrue(json.startsWith("{\n    \"apiVersion\": \"apps/v1\",\n    \"kind\": \"Deployment\",\n"), json);
        assertEquals("sleep", cluster.run("get", "deploy/sleep", "-o", "jsonpath={.metadata.name}").out());
    }

    @Test
    void nothingFoundIsSaidOnStderr() {
        assertEquals(new FakeCluster.Run(0, "", "No resources found in istio-system namespace.\n"),
                cluster.run("get", "pods", "-n", "istio-system"));
        assertEquals(new FakeCluster.Run(0, "", "No resources found\n"), cluster.run("get", "secrets", "-A"));
    }

    @Test
    void unknownKindsAndMissingObjectsAreKubectlErrors() {
        assertEquals(new FakeCluster.Run(1, "", "error: the server doesn't have a resource type \"foo\"\n"), cluster.run("get", "foo"));
        assertEquals(new FakeCluster.Run(1, "", "Error from server (NotFound): deployments.apps \"nope\" not found\n"),
                cluster.run("get", "deploy", "nope"));
        assertEquals(new FakeCluster.Run(1, "", "Error from server (NotFound): pods \"nope\" not found\n"),
                cluster.run("get", "pod/nope"));
        FakeCluster.Run bad = cluster.run("get", "pods", "-o", "table");
        assertEquals(1, bad.code());
        assertTrue(bad.err().startsWith("error: unable to match a printer suitable for the output format \"table\""), bad.err());
    }

    @Test
    void namespacesAndNodes() {
        assertEquals("NAME           STATUS   AGE\ndefault        Active   0s\nistio-system   Active   0s\n", cluster.run("get", "ns").out());
        ObjectNode node = FakeCluster.JSON.createObjectNode();
        node.put("apiVersion", "v1").put("kind", "Node");
        node.putObject("metadata").put("name", "cn-hongkong.10.0.0.21");
        KubeObject created = cluster.store.create(KubeObject.of(node));
        ObjectNode status = FakeCluster.JSON.createObjectNode();
        status.putArray("conditions").addObject().put("type", "Ready").put("status", "True");
        status.putArray("addresses").addObject().put("type", "InternalIP").put("address", "127.10.0.1");
        status.putObject("nodeInfo").put("kubeletVersion", "v1.31.0-sourcemesh").put("osImage", "SourceMesh embedded")
                .put("kernelVersion", "6.8.0").put("containerRuntimeVersion", "sourcemesh://0.1.0");
        cluster.store.updateStatus(created.withStatus(status));
        assertEquals("""
                NAME                    STATUS   ROLES    AGE   VERSION              INTERNAL-IP   EXTERNAL-IP   OS-IMAGE              KERNEL-VERSION   CONTAINER-RUNTIME
                cn-hongkong.10.0.0.21   Ready    <none>   0s    v1.31.0-sourcemesh   127.10.0.1    <none>        SourceMesh embedded   6.8.0            sourcemesh://0.1.0
                """, cluster.run("get", "nodes", "-o", "wide").out());
    }

    private void ingressGateway() {
        ObjectNode svc = FakeCluster.JSON.createObjectNode();
        svc.put("apiVersion", "v1").put("kind", "Service");
        svc.putObject("metadata").put("name", "istio-ingressgateway").put("namespace", "istio-system");
        ObjectNode spec = svc.putObject("spec");
        spec.put("type", "LoadBalancer").put("clusterIP", "10.96.100.20");
        spec.putObject("selector").put("istio", "ingressgateway");
        var ports = spec.putArray("ports");
        ports.addObject().put("name", "http2").put("port", 80).put("targetPort", 8080).put("nodePort", 31380).put("protocol", "TCP");
        ports.addObject().put("name", "https").put("port", 443).put("targetPort", 8443).put("nodePort", 31390).put("protocol", "TCP");
        cluster.storeClock.set(FakeCluster.NOW.minus(java.time.Duration.ofHours(5)));
        KubeObject created = cluster.store.create(KubeObject.of(svc));
        cluster.storeClock.set(FakeCluster.NOW);
        ObjectNode status = FakeCluster.JSON.createObjectNode();
        status.putObject("loadBalancer").putArray("ingress").addObject().put("ip", "127.100.0.1");
        cluster.store.updateStatus(created.withStatus(status));
    }
}
