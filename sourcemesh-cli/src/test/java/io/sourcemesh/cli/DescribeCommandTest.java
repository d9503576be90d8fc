package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DescribeCommandTest {
    @TempDir
    Path home;

    FakeCluster cluster;

    @BeforeEach
    void start() throws IOException {
        cluster = FakeCluster.start(home);
        cluster.applySeed("sleep.yaml", "httpbin.yaml", "http-demo.yaml");
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void aPodAsKubectlDescribesIt() {
        KubeObject rs = replicaSet();
        pod("httpbin-c85bdb469-4ll2m", "172.17.0.12", rs, true);
        assertEquals(new FakeCluster.Run(0, """
                Name:             httpbin-c85bdb469-4ll2m
                Namespace:        default
                Service Account:  httpbin
                Node:             cn-hongkong.10.0.0.21/10.0.0.21
                Start Time:       Thu, 26 Nov 2026 17:56:40 +0000
                Labels:           app=httpbin
                                  pod-template-hash=c85bdb469
                                  version=v1
                Annotations:      sidecar.istio.io/status: {"containers":["istio-proxy"]}
                Status:           Running
                IP:               172.17.0.12
                IPs:
                  IP:           172.17.0.12
                Controlled By:  ReplicaSet/httpbin-c85bdb469
                Containers:
                  httpbin:
                    Container ID:   sourcemesh://httpbin-c85bdb469-4ll2m/httpbin
                    Image:          docker.io/citizenstig/httpbin
                    Image ID:      \s
                    Port:           8000/TCP
                    Host Port:      0/TCP
                    State:          Running
                      Started:      Thu, 26 Nov 2026 17:56:40 +0000
                    Ready:          True
                    Restart Count:  0
                    Environment:    <none>
                    Mounts:         <none>
                  istio-proxy:
                    Container ID:  sourcemesh://httpbin-c85bdb469-4ll2m/istio-proxy
                    Image:         sourcemesh/proxy
                    Image ID:     \s
                    Port:          <none>
                    Host Port:     <none>
                    Args:
                      proxy
                      sidecar
                    State:          Running
                      Started:      Thu, 26 Nov 2026 17:56:40 +0000
                    Ready:          True
                    Restart Count:  0
                    Requests:
                      cpu:      100m
                      memory:   128Mi
                    Readiness:  http-get http://:15021/healthz/ready delay=0s timeout=1s period=10s #success=1 #failure=3
                    Environment:
                      POD_NAME:  httpbin-c85bdb469-4ll2m (v1:metadata.name)
                    Mounts:      <none>
                Conditions:
                  Type              Status
                  Initialized       True\s
                  Ready             True\s
                  ContainersReady   True\s
                  PodScheduled      True\s
                Volumes:            <none>
                QoS Class:          Burstable
                Node-Selectors:     <none>
                Tolerations:        <none>
                Events:             <none>
                """, ""), cluster.run("describe", "pod", "httpbin-c85bdb469-4ll2m"));
    }

    @Test
    void aLoadBalancerServiceWithItsEndpoints() {
        gatewayService();
        gatewayPod("istio-ingressgateway-5d4f6c7b8-x2x9q", "172.17.0.20", true);
        gatewayPod("istio-ingressgateway-5d4f6c7b8-n0tr3", "172.17.0.21", false);
        assertEquals(new FakeCluster.Run(0, """
                Name:                     istio-ingressgateway
                Namespace:                istio-system
                Labels:                   app=istio-ingressgateway
                                          istio=ingressgateway
                Annotations:              <none>
                Selector:                 istio=ingressgateway
                Type:                     LoadBalancer
                IP Family Policy:         SingleStack
                IP Families:              IPv4
                IP:                       10.96.100.20
                IPs:                      10.96.100.20
                LoadBalancer Ingress:     127.100.0.1
                Port:                     http2  80/TCP
                TargetPort:               8080/TCP
                NodePort:                 http2  31380/TCP
                Endpoints:                172.17.0.20:8080
                Port:                     https  443/TCP
                TargetPort:               8443/TCP
                NodePort:                 https  31390/TCP
                Endpoints:                172.17.0.20:8443
                Session Affinity:         None
                External Traffic Policy:  Local
                Internal Traffic Policy:  Cluster
                HealthCheck NodePort:     30812
                Events:                   <none>
                """, ""), cluster.run("-n", "istio-system", "describe", "svc/istio-ingressgateway"));
    }

    @Test
    void aDeploymentWithItsReplicaSets() {
        replicaSet();
        KubeObject d = cluster.store.get(ResourceKind.DEPLOYMENT, "default", "httpbin").orElseThrow();
        ObjectNode status = FakeCluster.JSON.createObjectNode();
        status.put("observedGeneration", 1).put("replicas", 1).put("updatedReplicas", 1).put("readyReplicas", 1).put("availableReplicas", 1);
        var conditions = status.putArray("conditions");
        conditions.addObject().put("type", "Available").put("status", "True").put("reason", "MinimumReplicasAvailable");
        conditions.addObject().put("type", "Progressing").put("status", "True").put("reason", "NewReplicaSetAvailable");
        cluster.store.updateStatus(d.withStatus(status));
        assertEquals(new FakeCluster.Run(0, """
                Name:                   httpbin
                Namespace:              default
                CreationTimestamp:      Thu, 26 Nov 2026 18:00:00 +0000
                Labels:                 <none>
                Annotations:            <none>
                Selector:               app=httpbin,version=v1
                Replicas:               1 desired | 1 updated | 1 total | 1 available | 0 unavailable
                StrategyType:           RollingUpdate
                MinReadySeconds:        0
                RollingUpdateStrategy:  25% max unavailable, 25% max surge
                Pod Template:
                  Labels:  app=httpbin
                           version=v1
                  Containers:
                   httpbin:
                    Image:         docker.io/citizenstig/httpbin
                    Port:          8000/TCP
                    Host Port:     0/TCP
                    Environment:   <none>
                    Mounts:        <none>
                  Volumes:         <none>
                  Node-Selectors:  <none>
                  Tolerations:     <none>
                Conditions:
                  Type           Status  Reason
                  ----           ------  ------
                  Available      True    MinimumReplicasAvailable
                  Progressing    True    NewReplicaSetAvailable
                OldReplicaSets:  <none>
                NewReplicaSet:   httpbin-c85bdb469 (1/1 replicas created)
                Events:          <none>
                """, ""), cluster.run("describe", "deployments", "httpbin"));
    }

    @Test
    void aNode() {
        ObjectNode node = FakeCluster.JSON.createObjectNode();
        node.put("apiVersion", "v1").put("kind", "Node");
        node.putObject("metadata").put("name", "cn-hongkong.10.0.0.21").putObject("labels")
                .put("kubernetes.io/hostname", "cn-hongkong.10.0.0.21").put("node-role.kubernetes.io/control-plane", "");
        cluster.storeClock.set(FakeCluster.NOW.minus(Duration.ofHours(5)));
        KubeObject created = cluster.store.create(KubeObject.of(node));
        cluster.storeClock.set(FakeCluster.NOW);
        ObjectNode status = FakeCluster.JSON.createObjectNode();
        status.putArray("conditions").addObject().put("type", "Ready").put("status", "True").put("reason", "KubeletReady")
                .put("message", "kubelet is posting ready status").put("lastHeartbeatTime", FakeCluster.NOW.toString())
                .put("lastTransitionTime", FakeCluster.NOW.minus(Duration.ofHours(5)).toString());
        status.putArray("addresses").addObject().put("type", "InternalIP").put("address", "127.10.0.1");
        status.putObject("capacity").put("cpu", "4").put("memory", "8Gi").put("pods", "110");
        status.putObject("allocatable").put("cpu", "4").put("memory", "8Gi").put("pods", "110");
        status.putObject("nodeInfo").put("kubeletVersion", "v1.31.0-sourcemesh").put("osImage", "SourceMesh embedded")
                .put("kernelVersion", "6.8.0").put("containerRuntimeVersion", "sourcemesh://0.1.0")
                .put("operatingSystem", "linux").put("architecture", "amd64");
        cluster.store.updateStatus(created.withStatus(status));
        cluster.seedPods();
        assertEquals(new FakeCluster.Run(0, """
                Name:               cn-hongkong.10.0.0.21
                Roles:              control-plane
                Labels:             kubernetes.io/hostname=cn-hongkong.10.0.0.21
                                    node-role.kubernetes.io/control-plane=
                Annotations:        <none>
                CreationTimestamp:  Thu, 26 Nov 2026 13:00:00 +0000
                Taints:             <none>
                Unschedulable:      false
                Lease:              Failed to get lease: leases.coordination.k8s.io "cn-hongkong.10.0.0.21" not found
                Conditions:
                  Type    Status  LastHeartbeatTime                 LastTransitionTime                Reason         Message
                  ----    ------  -----------------                 ------------------                ------         -------
                  Ready   True    Thu, 26 Nov 2026 18:00:00 +0000   Thu, 26 Nov 2026 13:00:00 +0000   KubeletReady   kubelet is posting ready status
                Addresses:
                  InternalIP:  127.10.0.1
                Capacity:
                  cpu:     4
                  memory:  8Gi
                  pods:    110
                Allocatable:
                  cpu:     4
                  memory:  8Gi
                  pods:    110
                System Info:
                  Machine ID:                \s
                  System UUID:               \s
                  Boot ID:                   \s
                  Kernel Version:             6.8.0
                  OS Image:                   SourceMesh embedded
                  Operating System:           linux
                  Architecture:               amd64
                  Container Runtime Version:  sourcemesh://0.1.0
                  Kubelet Version:            v1.31.0-sourcemesh
                  Kube-Proxy Version:        \s
                Non-terminated Pods:          (2 in total)
                  Namespace                   Name                       CPU Requests  CPU Limits  Memory Requests  Memory Limits  Age
                  ---------                   ----                       ------------  ----------  ---------------  -------------  ---
                  default                     httpbin-c85bdb469-4ll2m    0 (0%)        0 (0%)      0 (0%)           0 (0%)         3m22s
                  default                     sleep-8f764df66-q7dr2      0 (0%)        0 (0%)      0 (0%)           0 (0%)         3m9s
                Allocated resources:
                  (Total limits may be over 100 percent, i.e., overcommitted.)
                  Resource           Requests  Limits
                  --------           --------  ------
                  cpu                0 (0%)    0 (0%)
                  memory             0 (0%)    0 (0%)
                  ephemeral-storage  0 (0%)    0 (0%)
                Events:              <none>
                """, ""), cluster.run("describe", "node", "cn-hongkong.10.0.0.21"));
    }

    @Test
    void anEnvoyFilterByTheGenericDescriber() {
        cluster.run("apply", "-f", FakeCluster.seed("enable-xff-for-sidecar-inbound.yaml"));
        KubeObject ef = cluster.store.get(ResourceKind.ENVOY_FILTER, "istio-system", "enable-xff-for-sidecar-inbound").orElseThrow();
        // the generic describer: the object's fields as a tree, titled as kubectl titles them, sorted by name
        assertEquals(new FakeCluster.Run(0, """
                Name:         enable-xff-for-sidecar-inbound
                Namespace:    istio-system
                Labels:       asm-system=true
                              provider=asm
                Annotations:  <none>
                API Version:  networking.istio.io/v1alpha3
                Kind:         EnvoyFilter
                Metadata:
                  Creation Timestamp:  2026-11-26T18:00:00Z
                  Generation:          1
                  Resource Version:    %s
                  UID:                 %s
                Spec:
                  Config Patches:
                    Apply To:  NETWORK_FILTER
                    Match:
                      Context:  SIDECAR_INBOUND
                      Listener:
                        Filter Chain:
                          Filter:
                            Name:  envoy.filters.network.http_connection_manager
                        Name:      virtualInbound
                      Proxy:
                        Proxy Version:  ^1.*
                    Patch:
                      Operation:  MERGE
                      Value:
                        typed_config:
                          @type:               type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          use_remote_address:  true
                Status:
                  Conditions:
                    Message:  1/2 proxies up to date; 1 rejected the push carrying it and keep their last good config
                    Reason:   Rejected
                    Status:   False
                    Type:     Reconciled
                  Proxies:
                    Name:    httpbin-5f7d8b9c4-x2x2x.default
                    State:   ACKED
                    Detail:  LDS 3a1f: listener_filters[0].name: envoy.listener.proxy_protocol is not supported
                    Name:    sleep-6d68f4b9c9-q8v7w.default
                    State:   NACKED
                  Validation Messages:
                    Description:  sleep-6d68f4b9c9-q8v7w.default rejected the push carrying it (LDS 3a1f: listener_filters[0].name: envoy.listener.proxy_protocol is not supported)
                    Level:        ERROR
                    Type:         ProxyRejected
                Events:           <none>
                """.formatted(ef.resourceVersion(), ef.uid()), ""), cluster.run("describe", "envoyfilter", "enable-xff-for-sidecar-inbound", "-n", "istio-system"));
    }

    @Test
    void errorsAsKubectlWordsThem() {
        assertEquals(new FakeCluster.Run(1, "", "error: the server doesn't have a resource type \"foo\"\n"), cluster.run("describe", "foo"));
        assertEquals(new FakeCluster.Run(1, "", "Error from server (NotFound): pods \"nope\" not found\n"),
                cluster.run("describe", "pods", "nope"));
        assertEquals(new FakeCluster.Run(1, "", "Error from server (NotFound): deployments.apps \"nope\" not found\n"),
                cluster.run("describe", "deploy/nope"));
        assertEquals(new FakeCluster.Run(0, "", "No resources found in istio-system namespace.\n"),
                cluster.run("describe", "pods", "-n", "istio-system"));
    }

    @Test
    void severalObjectsTwoBlankLinesApartAndNamePrefixes() {
        cluster.run("apply", "-f", FakeCluster.seed("enable-xff-for-sidecar-inbound.yaml"));
        String one = cluster.run("describe", "gw", "httpbin-gw-httpprotocol").out();
        String both = cluster.run("describe", "gateways,virtualservices").out();
        assertEquals(one + "\n\n" + cluster.run("describe", "vs/httpbin").out(), both);
        // kubectl describe TYPE NAME_PREFIX: no exact match, so every name that starts with it, each followed by a newline
        assertEquals(new FakeCluster.Run(0, one + "\n", ""), cluster.run("describe", "gateway", "httpbin-gw"));
        assertEquals(new FakeCluster.Run(0, one, ""), cluster.run("describe", "gw", "-l", "app!=nothing"));
        assertEquals(new FakeCluster.Run(0, "", "No resources found\n"), cluster.run("describe", "pods", "-A", "-l", "app=nothing"));
    }

    @Test
    void aServiceWithoutReadyPodsListsNoEndpoints() {
        gatewayService();
        gatewayPod("istio-ingressgateway-5d4f6c7b8-n0tr3", "172.17.0.21", false);
        String out = cluster.run("-n", "istio-system", "describe", "service", "istio-ingressgateway").out();
        // an EndpointSlice with nothing ready in it: kubectl prints the title and nothing after it
        assertEquals(2, out.lines().filter(l -> l.equals("Endpoints:                ")).count(), out);
        for (int i = 0; i < 5; i++) {
            gatewayPod("istio-ingressgateway-5d4f6c7b8-r" + i, "172.17.0.3" + i, true);
        }
        out = cluster.run("-n", "istio-system", "describe", "service", "istio-ingressgateway").out();
        assertEquals(true, out.contains("Endpoints:                172.17.0.30:8080,172.17.0.31:8080,172.17.0.32:8080 + 2 more...\n"), out);
    }

    private KubeObject replicaSet() {
        KubeObject d = cluster.store.get(ResourceKind.DEPLOYMENT, "default", "httpbin").orElseThrow();
        ObjectNode rs = FakeCluster.JSON.createObjectNode();
        rs.put("apiVersion", "apps/v1").put("kind", "ReplicaSet");
        ObjectNode meta = rs.putObject("metadata");
        meta.put("name", "httpbin-c85bdb469").put("namespace", "default");
        meta.putObject("labels").put("app", "httpbin").put("version", "v1").put("pod-template-hash", "c85bdb469");
        meta.putArray("ownerReferences").addObject().put("apiVersion", "apps/v1").put("kind", "Deployment").put("name", "httpbin")
                .put("uid", d.uid()).put("controller", true).put("blockOwnerDeletion", true);
        ObjectNode spec = rs.putObject("spec");
        spec.put("replicas", 1);
        ObjectNode selector = d.spec().path("selector").deepCopy();
        ((ObjectNode) selector.path("matchLabels")).put("pod-template-hash", "c85bdb469");
        spec.set("selector", selector);
        ObjectNode template = d.spec().path("template").deepCopy();
        ((ObjectNode) template.path("metadata").path("labels")).put("pod-template-hash", "c85bdb469");
        spec.set("template", template);
        KubeObject created = cluster.store.create(KubeObject.of(rs));
        ObjectNode status = FakeCluster.JSON.createObjectNode();
        status.put("replicas", 1).put("readyReplicas", 1).put("availableReplicas", 1);
        return cluster.store.updateStatus(created.withStatus(status));
    }

    private void pod(String name, String ip, KubeObject owner, boolean ready) {
        ObjectNode pod = FakeCluster.JSON.createObjectNode();
        pod.put("apiVersion", "v1").put("kind", "Pod");
        ObjectNode meta = pod.putObject("metadata");
        meta.put("name", name).put("namespace", "default");
        meta.putObject("labels").put("app", "httpbin").put("version", "v1").put("pod-template-hash", "c85bdb469");
        meta.putObject("annotations").put("sidecar.istio.io/status", "{\"containers\":[\"istio-proxy\"]}");
        meta.putArray("ownerReferences").addObject().put("apiVersion", "apps/v1").put("kind", "ReplicaSet").put("name", owner.name())
                .put("uid", owner.uid()).put("controller", true).put("blockOwnerDeletion", true);
        ObjectNode spec = pod.putObject("spec");
        spec.put("nodeName", "cn-hongkong.10.0.0.21").put("serviceAccountName", "httpbin");
        var containers = spec.putArray("containers");
        ObjectNode app = containers.addObject().put("name", "httpbin").put("image", "docker.io/citizenstig/httpbin");
        app.putArray("ports").addObject().put("containerPort", 8000).put("protocol", "TCP");
        ObjectNode proxy = containers.addObject().put("name", "istio-proxy").put("image", "sourcemesh/proxy");
        proxy.putArray("args").add("proxy").add("sidecar");
        proxy.putArray("env").addObject().put("name", "POD_NAME").putObject("valueFrom").putObject("fieldRef")
                .put("apiVersion", "v1").put("fieldPath", "metadata.name");
        proxy.putObject("resources").putObject("requests").put("cpu", "100m").put("memory", "128Mi");
        proxy.putObject("readinessProbe").putObject("httpGet").put("path", "/healthz/ready").put("port", 15021);
        cluster.storeClock.set(FakeCluster.NOW.minus(Duration.ofSeconds(202)));
        KubeObject created = cluster.store.create(KubeObject.of(pod));
        cluster.storeClock.set(FakeCluster.NOW);
        ObjectNode status = FakeCluster.JSON.createObjectNode();
        String started = FakeCluster.NOW.minus(Duration.ofSeconds(200)).toString();
        status.put("phase", "Running").put("podIP", ip).put("hostIP", "10.0.0.21").put("startTime", started);
        status.putArray("podIPs").addObject().put("ip", ip);
        var conditions = status.putArray("conditions");
        for (String type : new String[] {"Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
            conditions.addObject().put("type", type).put("status", ready || type.equals("PodScheduled") ? "True" : "False");
        }
        var statuses = status.putArray("containerStatuses");
        for (String c : new String[] {"httpbin", "istio-proxy"}) {
            ObjectNode s = statuses.addObject().put("name", c).put("ready", ready).put("restartCount", 0)
                    .put("containerID", "sourcemesh://" + name + "/" + c);
            s.putObject("state").putObject("running").put("startedAt", started);
        }
        cluster.store.updateStatus(created.withStatus(status));
    }

    private void gatewayService() {
        ObjectNode svc = FakeCluster.JSON.createObjectNode();
        svc.put("apiVersion", "v1").put("kind", "Service");
        svc.putObject("metadata").put("name", "istio-ingressgateway").put("namespace", "istio-system").putObject("labels")
                .put("app", "istio-ingressgateway").put("istio", "ingressgateway");
        ObjectNode spec = svc.putObject("spec");
        spec.put("type", "LoadBalancer").put("clusterIP", "10.96.100.20").put("externalTrafficPolicy", "Local")
                .put("healthCheckNodePort", 30812).put("sessionAffinity", "None");
        spec.putObject("selector").put("istio", "ingressgateway");
        var ports = spec.putArray("ports");
        ports.addObject().put("name", "http2").put("port", 80).put("targetPort", 8080).put("nodePort", 31380).put("protocol", "TCP");
        ports.addObject().put("name", "https").put("port", 443).put("targetPort", 8443).put("nodePort", 31390).put("protocol", "TCP");
        KubeObject created = cluster.store.create(KubeObject.of(svc));
        ObjectNode status = FakeCluster.JSON.createObjectNode();
        status.putObject("loadBalancer").putArray("ingress").addObject().put("ip", "127.100.0.1");
        cluster.store.updateStatus(created.withStatus(status));
    }

    private void gatewayPod(String name, String ip, boolean ready) {
        ObjectNode pod = FakeCluster.JSON.createObjectNode();
        pod.put("apiVersion", "v1").put("kind", "Pod");
        pod.putObject("metadata").put("name", name).put("namespace", "istio-system").putObject("labels").put("istio", "ingressgateway");
        pod.putObject("spec").putArray("containers").addObject().put("name", "istio-proxy").put("image", "sourcemesh/proxy");
        KubeObject created = cluster.store.create(KubeObject.of(pod));
        ObjectNode status = FakeCluster.JSON.createObjectNode();
        status.put("phase", "Running").put("podIP", ip);
        status.putArray("conditions").addObject().put("type", "Ready").put("status", ready ? "True" : "False");
        cluster.store.updateStatus(created.withStatus(status));
    }
}
