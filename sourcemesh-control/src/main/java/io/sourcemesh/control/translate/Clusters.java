package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Duration;
import com.google.protobuf.UInt64Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.BindConfig;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.RuntimeDouble;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.route.v3.RouteAction.HashPolicy;
import io.envoyproxy.envoy.type.v3.Percent;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.Locality;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.Service;
import io.sourcemesh.control.model.ServicePort;
import io.sourcemesh.control.model.WorkloadEndpoint;
import io.sourcemesh.control.model.WorkloadEntry;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Istio's clusters: outbound per service port (and DestinationRule subset), inbound per pod port, specials. */
final class Clusters {
    private static final Duration CONNECT_TIMEOUT = Protos.seconds(10);

    private Clusters() {}

    /**
     * outbound|port|subset|fqdn, of the services exported to {@code proxyNamespace} (their exportTo, else the mesh's
     * defaultServiceExportTo: one not exported there is not in the proxy's registry, Istio's service index). Istio
     * serves these as EDS; we put the ready endpoints inline (STATIC + load_assignment). {@code proxyNamespace} is also
     * where a DestinationRule's tls.credentialName is read (Istio's SDS server reads a proxy's credentials from its own
     * namespace). A cluster whose TLS cannot be written is left out. {@code mesh}: the proxy's mesh TLS, null without a mesh CA, for DestinationRules'
     * ISTIO_MUTUAL. {@code sidecar}: the proxy is a sidecar, which takes a rule's credentialName only from a rule with a
     * workloadSelector (Istio's buildUpstreamClusterTLSContext).
     */
    static List<Cluster> outbound(MeshModel model, String proxyNamespace, LocalityLb.Client client,
            List<TranslationWarning> warnings, MeshTls mesh, boolean sidecar, PodFiles files) {
        List<Cluster> out = new ArrayList<>();
        String domain = model.meshConfig().domain();
        for (Service svc : model.services()) {
            if (svc.clusterIp().equals("None") || !svc.exportedTo(proxyNamespace, model.meshConfig().exportTo().service())) {
                continue;
            }
            Optional<IstioConfig> dr = destinationRule(model, svc);
            boolean credentials = !sidecar || dr.map(d -> d.spec().path("workloadSelector").isObject()).orElse(false);
            List<String> identities = mesh == null ? List.of() : mesh.identities(svc);
            for (ServicePort port : svc.ports()) {
                if (!port.proxied()) {
                    continue; // UDP and SCTP: no cluster, as Istio's buildOutboundClusters (cluster_builder.go)
                }
                UpstreamTls.Mesh peer = mesh == null ? null
                        : new UpstreamTls.Mesh(mesh, identities, mesh.autoMtls(svc));
                String where = dr.map(d -> "DestinationRule " + d.key()).orElse("");
                JsonNode rulePolicy = dr.map(d -> d.spec().path("trafficPolicy")).orElse(null);
                // Istio's applyDestinationRule: the rule's policy for this port (GetPortLevelTrafficPolicy).
                if (rulePolicy != null && rulePolicy.hasNonNull("proxyProtocol") && portEntry(rulePolicy, port.port()) != null) {
                    warnings.add(TranslationWarning.note(where, "trafficPolicy.proxyProtocol is not applied to port "
                            + port.port() + ": its portLevelSettings entry replaces the policy there, as in Istio"));
                }
                List<Host> hosts = hosts(model, svc, port, mesh, client.node());
                Cluster.DiscoveryType type = discoveryType(svc);
                boolean dns = type == Cluster.DiscoveryType.STRICT_DNS || type == Cluster.DiscoveryType.LOGICAL_DNS;
                if (dns && hosts.isEmpty()) {
                    continue; // Istio's buildCluster makes no DNS cluster without endpoints (DNSNoEndpointClusters)
                }
                cluster(Names.outboundCluster(port.port(), "", svc.fqdn(domain)), hosts, type, port, svc.trafficDistribution(),
                        portPolicy(rulePolicy, port.port()), model, proxyNamespace, credentials, files, peer, where, warnings,
                        client)
                        .ifPresent(out::add);
                for (JsonNode subset : dr.map(d -> list(d.spec().path("subsets"))).orElse(List.of())) {
                    Map<String, String> labels = strings(subset.path("labels"));
                    List<Host> selected = hosts.stream()
                            .filter(h -> h.labels().entrySet().containsAll(labels.entrySet())).toList();
                    if (dns && selected.isEmpty()) {
                        continue;
                    }
                    cluster(Names.outboundCluster(port.port(), subset.path("name").asText(), svc.fqdn(domain)), selected, type,
                            port, svc.trafficDistribution(), subsetPolicy(rulePolicy, subset, port.port()), model, proxyNamespace, credentials, files, peer,
                            where, warnings, client)
                            .ifPresent(out::add);
                }
            }
        }
        return out;
    }

    /**
     * One endpoint of a service port: an address, its port, the labels subsets select by, its weight, and whether it
     * takes mTLS when no DestinationRule tls says otherwise ({@link MeshTls#meshEndpoint}); its locality and node ("" for
     * an entry's), which locality load balancing reads.
     */
    private record Host(String ip, int port, Map<String, String> labels, int weight, boolean mesh, Locality locality,
            String node) {}

    /**
     * A service port's endpoints: the ready pods a Kubernetes Service selects and then the WorkloadEntries it selects
     * (Istio's, {@link Service#selecting}; at {@link WorkloadEndpoint#portForService}), or a ServiceEntry's own endpoints (Istio's
     * convertEndpoints; the STATIC resolution's, served by EDS in Istio and inline here like the pods) and the ready pods
     * of its namespace its workloadSelector selects (at the port's targetPort, else its number), each with its TLS mode
     * as Istio's (an endpoint's tlsMode label or serviceAccount, a pod's injector label). {@code mesh}: the proxy's mesh
     * TLS, null without a mesh CA (then no endpoint takes mTLS).
     * A NodeLocal Service's endpoints for a proxy on {@code proxyNode} are its pods on that node only, as Istio's
     * EndpointBuilder (pilot/pkg/xds/endpoints/endpoint_builder.go: nodeLocal, ep.NodeName != proxy's node name);
     * WorkloadEntries have no node there, so none of them.
     */
    private static List<Host> hosts(MeshModel model, Service svc, ServicePort port, MeshTls mesh, String proxyNode) {
        if (svc.fromEntry()) {
            Service.Entry entry = svc.entry();
            List<Host> out = new ArrayList<>();
            for (WorkloadEndpoint e : entry.endpoints()) {
                int target = e.portFor(port);
                out.add(new Host(e.address(), target, e.labels(), e.lbWeight(),
                        mesh != null && mesh.meshEndpoint(e, svc.namespace(), target), e.locality(), ""));
            }
            int podPort = port.targetPort().isEmpty() ? port.port() : Integer.parseInt(port.targetPort());
            model.pods().stream().filter(p -> p.ready() && !p.ip().isEmpty() && entry.selects(p, svc.namespace()))
                    .forEach(p -> out.add(new Host(p.ip(), podPort, p.labels(), 1, mesh != null && mesh.meshEndpoint(p, podPort),
                            p.locality(), p.nodeName())));
            return out;
        }
        List<Host> out = new ArrayList<>(model.endpointsOf(svc).stream()
                .filter(p -> !svc.nodeLocal() || p.nodeName().equals(proxyNode))
                .map(p -> new Host(p.ip(), port.targetPortFor(p), p.labels(), 1,
                        mesh != null && mesh.meshEndpoint(p, port.targetPortFor(p)), p.locality(), p.nodeName())).toList());
        for (WorkloadEntry w : svc.nodeLocal() ? List.<WorkloadEntry>of() : svc.workloads()) {
            WorkloadEndpoint e = w.endpoint();
            e.portForService(port).ifPresent(target -> out.add(new Host(e.address(), target, e.labels(), e.lbWeight(),
                    mesh != null && mesh.meshEndpoint(e, svc.namespace(), target), e.locality(), "")));
        }
        return out;
    }

    /** Istio's endpoint metadata for mTLS (util.AppendLbEndpointMetadata): the tlsMode-istio match's key and value. */
    private static final Metadata MESH_ENDPOINT = Metadata.newBuilder()
            .putFilterMetadata(UpstreamTls.TRANSPORT_SOCKET_MATCH, UpstreamTls.ISTIO_MATCH).build();

    /**
     * A service's cluster type, as Istio's convertResolution (pilot/pkg/networking/core/cluster.go): a Service's and a
     * STATIC entry's endpoints are inline (Istio's EDS), a DNS entry's are STRICT_DNS, a DNS_ROUND_ROBIN entry's
     * LOGICAL_DNS, and a NONE entry's cluster is
     * ORIGINAL_DST: the connection goes where the client sent it.
     */
    private static Cluster.DiscoveryType discoveryType(Service svc) {
        if (!svc.fromEntry()) {
            return Cluster.DiscoveryType.STATIC;
        }
        return switch (svc.entry().resolution()) {
            case "DNS" -> Cluster.DiscoveryType.STRICT_DNS;
            case "DNS_ROUND_ROBIN" -> Cluster.DiscoveryType.LOGICAL_DNS; // one name, its first address (validation: 0 or 1 endpoint)
            case "STATIC" -> Cluster.DiscoveryType.STATIC;
            default -> Cluster.DiscoveryType.ORIGINAL_DST;
        };
    }

    /**
     * A STATIC cluster of the hosts; STRICT_DNS (a DNS entry's) with dns_lookup_family V4_ONLY, Istio's
     * SelectDNSLookupFamily for a proxy of IPv4 addresses (cluster_builder.go buildCluster) — Istio also sets
     * respect_dns_ttl, dns_refresh_rate and a c-ares resolver, but the proxy resolves no names (only IP literals and
     * localhost, which api.resource.ServiceEntryRules lets through), so they would configure nothing and are left out;
     * ORIGINAL_DST (a NONE entry's) without endpoints and with CLUSTER_PROVIDED whatever the rule's load balancer, as
     * Istio's applyLoadBalancer (cluster_traffic_policy.go), so no consistentHash ring either.
     */
    private static Optional<Cluster> cluster(String name, List<Host> hosts, Cluster.DiscoveryType type, ServicePort port,
            String trafficDistribution, JsonNode trafficPolicy, MeshModel model, String credentialNamespace, boolean credentials, PodFiles files,
            UpstreamTls.Mesh mesh, String where, List<TranslationWarning> warnings, LocalityLb.Client client) {
        boolean dns = type == Cluster.DiscoveryType.STRICT_DNS || type == Cluster.DiscoveryType.LOGICAL_DNS;
        boolean originalDst = type == Cluster.DiscoveryType.ORIGINAL_DST;
        // Istio's mtlsChecker.checkMtlsEnabled: the rule's tls mode, when it has one, decides for every endpoint
        // (ISTIO_MUTUAL: all take mTLS); else each endpoint's own (a sidecar whose policy does not DISABLE it).
        JsonNode ruleTls = trafficPolicy == null ? null : trafficPolicy.get("tls");
        if (!credentials && ruleTls != null && !ruleTls.path("credentialName").asText("").isEmpty()
                && List.of("SIMPLE", "MUTUAL").contains(ruleTls.path("mode").asText(""))) {
            // Istio's buildUpstreamClusterTLSContext: a sidecar takes credentialName only from a rule with a workloadSelector
            // (else every sidecar the rule reaches would wait for a Secret it may not read); the cluster gets no TLS.
            warnings.add(TranslationWarning.note(where, "cluster " + name + ": tls mode " + ruleTls.path("mode").asText()
                    + " with credentialName is not applied by this sidecar: Istio takes a DestinationRule's credentialName on "
                    + "gateways, and on sidecars only from a rule with a workloadSelector; the cluster sends no TLS, as Istio's"));
            ruleTls = JsonNodeFactory.instance.objectNode().put("mode", "DISABLE");
        }
        boolean ruleMode = ruleTls != null && !ruleTls.isNull();
        boolean ruleMutual = ruleMode && ruleTls.path("mode").asText("").equals("ISTIO_MUTUAL");
        List<LocalityLb.Member> members = new ArrayList<>();
        for (Host host : hosts) {
            LbEndpoint.Builder lb = LbEndpoint.newBuilder()
                    .setEndpoint(Endpoint.newBuilder().setAddress(Protos.address(host.ip(), host.port())))
                    .setHealthStatus(HealthStatus.HEALTHY)
                    .setLoadBalancingWeight(Protos.uint(host.weight()));
            if (mesh != null && (ruleMode ? ruleMutual : host.mesh())) {
                lb.setMetadata(MESH_ENDPOINT);
            }
            members.add(new LocalityLb.Member(lb.build(), host.locality(), host.locality().augment(host.labels(), host.node())));
        }
        ClusterLoadAssignment.Builder cla = ClusterLoadAssignment.newBuilder().setClusterName(name);
        Cluster.Builder c = Cluster.newBuilder()
                .setName(name)
                .setType(type)
                .setConnectTimeout(CONNECT_TIMEOUT)
                .setLbPolicy(originalDst ? Cluster.LbPolicy.CLUSTER_PROVIDED : lbPolicy(trafficPolicy));

        if (dns) {
            c.setDnsLookupFamily(Cluster.DnsLookupFamily.V4_ONLY);
        }
        if (!originalDst) {
            consistentHash(c, trafficPolicy, where, warnings);
            slowStart(c, trafficPolicy, where, warnings);
        }
        if (port.isHttp2()) {
            HttpOptions.http2(c); // Istio's setUpstreamProtocol: an HTTP2 or GRPC port's cluster speaks HTTP/2
        }
        JsonNode pool = trafficPolicy == null ? null : trafficPolicy.path("connectionPool");
        TrafficPolicies.connectionPool(c, pool, where, warnings);
        TrafficPolicies.h2Upgrade(c, pool, port.isHttp(), model.meshConfig().h2Upgrade());
        TrafficPolicies.outlierDetection(c, trafficPolicy == null ? null : trafficPolicy.path("outlierDetection"), where, warnings);
        if (!originalDst) {
            // After outlier detection: without it Istio does not fail over (applyLocalityLoadBalancer).
            LocalityLb.apply(c, cla, members, trafficPolicy, trafficDistribution, model.meshConfig().localityLbSetting(), client,
                    dns, where, warnings);
            c.setLoadAssignment(cla);
        }
        // Istio's applyTrafficPolicy order: the TLS socket first, then the PROXY header wrapped around it.
        if (!UpstreamTls.apply(c, ruleTls, model, credentialNamespace, files, mesh, where, warnings)) {
            return Optional.empty();
        }
        UpstreamProxyProtocol.apply(c, trafficPolicy == null ? null : trafficPolicy.get("proxyProtocol"));
        return Optional.of(c.build());
    }

    /** Istio's default is LEAST_REQUEST; consistentHash maps to MAGLEV with maglev set, else RING_HASH. */
    private static Cluster.LbPolicy lbPolicy(JsonNode trafficPolicy) {
        JsonNode lb = trafficPolicy == null ? null : trafficPolicy.path("loadBalancer");
        if (lb == null || lb.isMissingNode()) {
            return Cluster.LbPolicy.LEAST_REQUEST;
        }
        if (lb.has("consistentHash")) {
            return lb.path("consistentHash").path("maglev").isObject() ? Cluster.LbPolicy.MAGLEV : Cluster.LbPolicy.RING_HASH;
        }
        return switch (lb.path("simple").asText()) {
            case "ROUND_ROBIN" -> Cluster.LbPolicy.ROUND_ROBIN;
            case "RANDOM" -> Cluster.LbPolicy.RANDOM;
            default -> Cluster.LbPolicy.LEAST_REQUEST;
        };
    }

    /**
     * Istio's applyRoundRobinLoadBalancer and applyLeastRequestLoadBalancer (pilot/pkg/networking/core/
     * cluster_traffic_policy.go): a ROUND_ROBIN or LEAST_REQUEST cluster (LEAST_CONN, UNSPECIFIED and no simple are
     * LEAST_REQUEST, Istio's default) gets a slow_start_config from loadBalancer.warmup (setWarmup: its duration the
     * window, aggression 1 and minimumPercent 10 when unset, under the runtime key "(" that no runtime has), else from the
     * deprecated warmupDurationSecs (the window alone). RANDOM, PASSTHROUGH and consistentHash get none (Envoy reads no
     * such config under them; the API warns of the warmup at apply).
     */
    private static void slowStart(Cluster.Builder c, JsonNode trafficPolicy, String where, List<TranslationWarning> warnings) {
        JsonNode lb = trafficPolicy == null ? null : trafficPolicy.path("loadBalancer");
        if (lb == null || !lb.isObject() || lb.has("consistentHash")) {
            return;
        }
        boolean roundRobin = lb.path("simple").asText("").equals("ROUND_ROBIN");
        if (!roundRobin && !List.of("", "UNSPECIFIED", "LEAST_CONN", "LEAST_REQUEST").contains(lb.path("simple").asText(""))) {
            return;
        }
        JsonNode warmup = lb.path("warmup");
        String field = warmup.isObject() ? "warmup.duration" : "warmupDurationSecs";
        JsonNode window = warmup.isObject() ? warmup.path("duration") : lb.path("warmupDurationSecs");
        if (window.isMissingNode() || window.isNull()) {
            return;
        }
        Optional<Duration> d = IstioDurations.parse(window.asText());
        if (d.isEmpty()) {
            warnings.add(new TranslationWarning(where, "loadBalancer." + field + " " + window.asText()
                    + " is not a duration; no slow start"));
            return;
        }
        Cluster.SlowStartConfig.Builder s = Cluster.SlowStartConfig.newBuilder().setSlowStartWindow(d.get());
        if (warmup.isObject()) {
            s.setAggression(RuntimeDouble.newBuilder()
                    .setDefaultValue(warmup.path("aggression").asDouble(1)).setRuntimeKey("("));
            s.setMinWeightPercent(Percent.newBuilder()
                    .setValue(warmup.path("minimumPercent").asDouble(10)));
        }
        if (roundRobin) {
            c.setRoundRobinLbConfig(Cluster.RoundRobinLbConfig.newBuilder().setSlowStartConfig(s));
        } else {
            c.setLeastRequestLbConfig(Cluster.LeastRequestLbConfig.newBuilder().setSlowStartConfig(s));
        }
    }

    /** Envoy's bound on minimum_ring_size (cluster.proto: lte 8388608, also maximum_ring_size's default). */
    static final long MAX_RING_SIZE = 8 * 1024 * 1024;

    /**
     * A consistentHash cluster's ring size, as Istio's ApplyRingHashLoadBalancer (pilot/pkg/networking/core/
     * cluster_traffic_policy.go): ringHash.minimumRingSize when it is not 0 (0: no ring_hash_lb_config, Envoy's
     * defaults); without ringHash, the deprecated minimumRingSize, else Envoy's default 1024, always written. Above
     * Envoy's bound the proxy would refuse the cluster: a warning, and the bound. With maglev, its table size instead.
     */
    private static void consistentHash(Cluster.Builder c, JsonNode trafficPolicy, String where, List<TranslationWarning> warnings) {
        JsonNode ch = trafficPolicy == null ? null : trafficPolicy.path("loadBalancer").path("consistentHash");
        if (ch == null || !ch.isObject()) {
            return;
        }
        if (ch.path("maglev").isObject()) {
            maglev(c, ch.path("maglev").path("tableSize").asLong(0), where, warnings);
            return;
        }
        String field = ch.has("ringHash") ? "ringHash.minimumRingSize" : "minimumRingSize";
        long min = ch.has("ringHash") ? ch.path("ringHash").path("minimumRingSize").asLong(0)
                : ch.path("minimumRingSize").asLong(0);
        if (min == 0) {
            if (ch.has("ringHash")) {
                return;
            }
            min = 1024;
        }
        if (min > MAX_RING_SIZE || min < 0) {
            warnings.add(new TranslationWarning(where, "consistentHash." + field + " " + Long.toUnsignedString(min)
                    + " is above Envoy's limit " + MAX_RING_SIZE + "; " + MAX_RING_SIZE + " used"));
            min = MAX_RING_SIZE;
        }
        c.setRingHashLbConfig(Cluster.RingHashLbConfig.newBuilder().setMinimumRingSize(
                UInt64Value.of(min)));
    }

    /** Envoy's bound on maglev_lb_config.table_size (cluster.proto: lte 5000011). */
    static final long MAX_MAGLEV_TABLE_SIZE = 5000011;

    /**
     * maglev.tableSize as Istio's ApplyRingHashLoadBalancer writes it: maglev_lb_config.table_size when it is not 0 (0:
     * none, Envoy's default 65537). The API refuses a size above Envoy's bound or not prime at apply, but takes 1 (Istio's
     * isPrime, as Envoy's, counts it), with which Envoy's build would take a remainder of 0 for the skip: a warning, and
     * no table size, so Envoy's default.
     */
    private static void maglev(Cluster.Builder c, long tableSize, String where, List<TranslationWarning> warnings) {
        if (tableSize == 0) {
            return;
        }
        if (tableSize < 2 || tableSize > MAX_MAGLEV_TABLE_SIZE || !prime(tableSize)) {
            warnings.add(new TranslationWarning(where, "consistentHash.maglev.tableSize " + Long.toUnsignedString(tableSize)
                    + " is no table Envoy can build (a prime from 2 to " + MAX_MAGLEV_TABLE_SIZE + "); Envoy's default 65537 used"));
            return;
        }
        c.setMaglevLbConfig(Cluster.MaglevLbConfig.newBuilder().setTableSize(UInt64Value.of(tableSize)));
    }

    private static boolean prime(long n) {
        if (n % 2 == 0) {
            return n == 2;
        }
        for (long f = 3; f * f <= n; f += 2) {
            if (n % f == 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * inbound|port||: ORIGINAL_DST back to the app, bound to 127.0.0.6 so iptables does not capture it again.
     * Istio sets the bind in every interception mode; in TPROXY the listener's original_src filter
     * overrides it per connection (Envoy applies OriginalSrcSocketOption before bind), so the app sees
     * the client's address. {@code http2}: the port is HTTP2 or GRPC, so the app is spoken to in HTTP/2 (Istio's
     * setUpstreamProtocol).
     */
    static Cluster inbound(int port, boolean http2) {
        Cluster c = originalDst(Names.inboundCluster(port));
        if (!http2) {
            return c;
        }
        Cluster.Builder b = c.toBuilder();
        HttpOptions.http2(b);
        return b.build();
    }

    /**
     * A Sidecar ingress listener's inbound cluster: STATIC to its defaultEndpoint (Istio's buildInboundCluster); off
     * loopback ({@code bind}) it leaves from 127.0.0.6, so interception does not send it back to the sidecar.
     */
    static Cluster inboundStatic(int port, String ip, int targetPort, boolean http2, boolean bind) {
        String name = Names.inboundCluster(port);
        Cluster.Builder c = Cluster.newBuilder()
                .setName(name)
                .setType(Cluster.DiscoveryType.STATIC)
                .setConnectTimeout(CONNECT_TIMEOUT)
                .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN)
                .setLoadAssignment(ClusterLoadAssignment.newBuilder().setClusterName(name)
                        .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
                                .setEndpoint(Endpoint.newBuilder().setAddress(Protos.address(ip, targetPort))))));
        if (bind) {
            c.setUpstreamBindConfig(BindConfig.newBuilder().setSourceAddress(Protos.socket(Names.INBOUND_PASSTHROUGH_BIND, 0)));
        }
        if (http2) {
            HttpOptions.http2(c);
        }
        return c.build();
    }

    static Cluster inboundPassthrough() {
        Cluster.Builder c = originalDst(Names.INBOUND_PASSTHROUGH_CLUSTER).toBuilder();
        HttpOptions.passthrough(c);
        return c.build();
    }

    private static Cluster originalDst(String name) {
        return Cluster.newBuilder()
                .setName(name)
                .setType(Cluster.DiscoveryType.ORIGINAL_DST)
                .setConnectTimeout(CONNECT_TIMEOUT)
                .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
                .setUpstreamBindConfig(BindConfig.newBuilder()
                        .setSourceAddress(Protos.socket(Names.INBOUND_PASSTHROUGH_BIND, 0)))
                .build();
    }

    static Cluster passthrough() {
        Cluster.Builder c = Cluster.newBuilder()
                .setName(Names.PASSTHROUGH_CLUSTER)
                .setType(Cluster.DiscoveryType.ORIGINAL_DST)
                .setConnectTimeout(CONNECT_TIMEOUT)
                .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED);
        HttpOptions.passthrough(c);
        return c.build();
    }

    static Cluster blackhole() {
        return Cluster.newBuilder()
                .setName(Names.BLACKHOLE_CLUSTER)
                .setType(Cluster.DiscoveryType.STATIC)
                .setConnectTimeout(CONNECT_TIMEOUT)
                .build();
    }

    /**
     * The route hash policy a consistentHash DestinationRule asks for (Istio puts it on the route, the
     * ring hash on the cluster), as Istio's ConsistentHashToHashPolicy (pilot/pkg/networking/core/route/route.go):
     * useSourceIp → connection source IP, httpHeaderName → that header, httpCookie → that cookie (name, path, ttl and
     * attributes as written: with a ttl Envoy makes the cookie up when the request lacks it), httpQueryParameterName →
     * that query parameter.
     * <p>Which consistentHash, as Istio's HashForHTTPDestination (and hashForService for a route without a
     * VirtualService): the subset's portLevelSettings entry for the port, else the subset's own, else the rule's entry
     * for the port, else the rule's — each only when it has a consistentHash, so unlike the cluster's policy an entry
     * without one does not hide the rule's. {@code port} is the destination's port.number as written (0: none; Istio
     * reads no entry then).
     */
    static Optional<HashPolicy> hashPolicy(MeshModel model, String fqdn, String subset, int port) {
        Optional<Service> svc = model.serviceByFqdn(fqdn);
        Optional<IstioConfig> dr = svc.flatMap(s -> destinationRule(model, s));
        if (dr.isEmpty()) {
            return Optional.empty();
        }
        JsonNode policy = dr.get().spec().path("trafficPolicy");
        JsonNode ch = consistentHash(portEntry(policy, port));
        if (ch == null) {
            ch = consistentHash(policy);
        }
        for (JsonNode s : list(dr.get().spec().path("subsets"))) {
            if (s.path("name").asText().equals(subset)) {
                JsonNode own = s.path("trafficPolicy");
                JsonNode subsetHash = consistentHash(portEntry(own, port));
                if (subsetHash == null) {
                    subsetHash = consistentHash(own);
                }
                if (subsetHash != null) {
                    ch = subsetHash;
                }
                break;
            }
        }
        if (ch == null) {
            return Optional.empty();
        }
        var hp = HashPolicy.newBuilder();
        if (ch.path("useSourceIp").asBoolean(false)) {
            hp.setConnectionProperties(HashPolicy.ConnectionProperties
                    .newBuilder().setSourceIp(true));
        } else if (ch.has("httpHeaderName")) {
            hp.setHeader(HashPolicy.Header.newBuilder()
                    .setHeaderName(ch.path("httpHeaderName").asText()));
        } else if (ch.has("httpCookie")) {
            hp.setCookie(cookie(ch.path("httpCookie")));
        } else if (ch.has("httpQueryParameterName")) {
            hp.setQueryParameter(HashPolicy.QueryParameter.newBuilder()
                    .setName(ch.path("httpQueryParameterName").asText()));
        } else {
            return Optional.empty();
        }
        return Optional.of(hp.build());
    }

    private static JsonNode consistentHash(JsonNode policy) {
        JsonNode ch = policy == null ? null : policy.path("loadBalancer").path("consistentHash");
        return ch != null && ch.isObject() ? ch : null;
    }

    /** httpCookie; a ttl that is not a duration never gets here: the API refuses it (DestinationRuleRules). */
    private static HashPolicy.Cookie cookie(JsonNode c) {
        var out = HashPolicy.Cookie.newBuilder()
                .setName(c.path("name").asText()).setPath(c.path("path").asText(""));
        if (c.hasNonNull("ttl")) {
            IstioDurations.parse(c.path("ttl").asText()).ifPresent(out::setTtl);
        }
        for (JsonNode a : list(c.path("attributes"))) {
            out.addAttributes(HashPolicy.CookieAttribute.newBuilder()
                    .setName(a.path("name").asText()).setValue(a.path("value").asText("")));
        }
        return out.build();
    }

    /** The fields of a policy a portLevelSettings entry holds (Istio's PortTrafficPolicy, shadowCopyPortTrafficPolicy). */
    private static final List<String> PORT_FIELDS = List.of("connectionPool", "loadBalancer", "outlierDetection", "tls");

    /**
     * The policy for the clusters of {@code port}, as Istio's GetPortLevelTrafficPolicy (pilot/pkg/networking/util/
     * util.go): the first portLevelSettings entry whose port.number is the port replaces the policy whole — its
     * connectionPool, loadBalancer, outlierDetection and tls, nothing inherited (what it omits is the default, and the
     * policy's proxyProtocol is not carried over); without such an entry, the policy itself.
     */
    static JsonNode portPolicy(JsonNode policy, int port) {
        JsonNode entry = portEntry(policy, port);
        return entry != null ? entry : policy;
    }

    /** The portLevelSettings entry for the port as a policy of its four fields, or null when none names the port. */
    private static JsonNode portEntry(JsonNode policy, int port) {
        if (policy == null || port <= 0) {
            return null;
        }
        for (JsonNode p : list(policy.path("portLevelSettings"))) {
            if (p.path("port").path("number").asLong(-1) == port) {
                ObjectNode out = JsonNodeFactory.instance.objectNode();
                for (String f : PORT_FIELDS) {
                    if (p.hasNonNull(f)) {
                        out.set(f, p.get(f));
                    }
                }
                return out;
            }
        }
        return null;
    }

    /**
     * A subset's traffic policy on the clusters of {@code port}, as Istio's MergeSubsetTrafficPolicy (pilot/pkg/networking/
     * util/util.go) and MergeTrafficPolicy (pilot/pkg/model/destination_rule.go): the rule's policy for the port
     * ({@link #portPolicy}), then the subset's own for the port over it — each of connectionPool, loadBalancer,
     * outlierDetection, tls, tunnel, proxyProtocol and retryBudget the subset sets in place of the rule's; when the
     * subset has an entry for the port, its four fields replace the rule's whether set or not.
     */
    static JsonNode subsetPolicy(JsonNode rulePolicy, JsonNode subset, int port) {
        JsonNode original = portPolicy(rulePolicy, port);
        JsonNode own = subset.path("trafficPolicy");
        if (!own.isObject()) {
            return original;
        }
        JsonNode ownPort = portEntry(own, port);
        JsonNode subsetPolicy = ownPort != null ? ownPort : own;
        if (original == null || !original.isObject()) {
            return subsetPolicy;
        }
        ObjectNode merged = ((ObjectNode) original).deepCopy();
        merged.remove("portLevelSettings"); // ShallowCopyTrafficPolicy leaves them out: the port is resolved
        for (String f : List.of("connectionPool", "loadBalancer", "outlierDetection", "tls", "tunnel", "proxyProtocol",
                "retryBudget")) {
            if (subsetPolicy.hasNonNull(f)) {
                merged.set(f, subsetPolicy.get(f));
            } else if (ownPort != null && PORT_FIELDS.contains(f)) {
                merged.remove(f);
            }
        }
        return merged;
    }

    /**
     * The DestinationRule for a service. The translator's model holds only the rules the proxy applies, one per service
     * with the service's name as its host ({@link DestinationRules#view}); given all rules, its own namespace's first.
     */
    static Optional<IstioConfig> destinationRule(MeshModel model, Service svc) {
        String fqdn = svc.fqdn(model.meshConfig().domain());
        return model.destinationRules().stream()
                .filter(d -> d.spec().path("host").asText().equals(fqdn)
                        || model.fqdn(d.spec().path("host").asText(), d.namespace()).equals(fqdn))
                .sorted(Comparator.comparing((IstioConfig d) -> !d.namespace().equals(svc.namespace())))
                .findFirst();
    }

    static List<JsonNode> list(JsonNode node) {
        List<JsonNode> out = new ArrayList<>();
        if (node != null && node.isArray()) {
            node.forEach(out::add);
        }
        return out;
    }

    static Map<String, String> strings(JsonNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        if (node != null && node.isObject()) {
            node.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        }
        return out;
    }
}
