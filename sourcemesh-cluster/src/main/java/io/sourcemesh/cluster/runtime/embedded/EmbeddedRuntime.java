package io.sourcemesh.cluster.runtime.embedded;

import io.sourcemesh.cluster.exec.ExecResult;
import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.network.AddressPool;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.core.RunningPod;
import io.sourcemesh.cluster.core.Runtime;
import io.sourcemesh.cluster.daemon.ClusterApiException;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.exec.ExecProcess;
import io.sourcemesh.cluster.exec.PodExec;
import io.sourcemesh.cluster.ingress.NorthSouth;
import io.sourcemesh.cluster.kubelet.BackOff;
import io.sourcemesh.cluster.kubelet.KubeletEnv;
import io.sourcemesh.cluster.kubelet.PodRuntime;
import io.sourcemesh.cluster.kubelet.SocketProber;
import io.sourcemesh.cluster.kubeproxy.ClientIpAffinity;
import io.sourcemesh.cluster.kubeproxy.Endpoint;
import io.sourcemesh.cluster.network.AddressBlockClaim;
import io.sourcemesh.cluster.network.AddressPlan;
import io.sourcemesh.cluster.network.Conntrack;
import io.sourcemesh.cluster.network.EmbeddedInterception;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.control.xds.XdsServer;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.l4.UpstreamConnector;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import java.util.stream.IntStream;

/**
 * The cluster in one process, on loopback: a kubelet per node running pods with their built-in
 * apps and in-process sidecars on addresses of the {@link AddressPlan}, service VIPs
 * ({@link ServiceVips}) with the runtime's interception, node ports and cloud load balancers
 * ({@link NorthSouth}), and the control plane's xDS server on a loopback port.
 */
public final class EmbeddedRuntime implements Runtime {
    private static final Logger LOG = Logger.getLogger(EmbeddedRuntime.class.getName());

    private final Host host;
    private final ObjectStore store;
    private final AddressPlan addresses;
    private final List<Node> nodes;
    private final Transport transport;
    private final Conntrack conntrack = new Conntrack();
    private final Map<InetAddress, EmbeddedPod> pods = new ConcurrentHashMap<>();
    private final XdsServer xds;
    private final ServiceVips vips;
    private final NorthSouth northSouth;
    private final AddressBlockClaim claim;
    private final BackOff backOff;

    private EmbeddedRuntime(Host host, int nodeCount, AddressBlockClaim claim, BackOff backOff) {
        this.host = host;
        this.backOff = backOff;
        this.store = host.store();
        this.claim = claim;
        this.addresses = new AddressPlan(claim.block());
        this.nodes = IntStream.range(0, nodeCount)
                .mapToObj(i -> new Node("sourcemesh-node-" + (i + 1), addresses.nodeAddress(i).getHostAddress(), null)).toList();
        this.transport = Transport.create(Math.max(2, java.lang.Runtime.getRuntime().availableProcessors()));
        try {
            this.xds = XdsServer.start(new InetSocketAddress("127.0.0.1", 0));
            // one sessionAffinity table for cluster IPs and node ports: kube-proxy's per service port KUBE-SVC chain
            ClientIpAffinity affinity = ClientIpAffinity.create();
            this.vips = new ServiceVips(store, transport, conntrack, this::intercepted, this::endpoint, () -> List.copyOf(pods.values()),
                    affinity);
            this.northSouth = NorthSouth.start(store, transport, new UpstreamConnector(transport,
                    new EmbeddedInterception(conntrack, this::intercepted, null), Optional.empty()), addresses,
                    NorthSouth.nodes(nodeNames(), addresses), this::endpoints, affinity);
        } catch (RuntimeException e) {
            transport.close();
            throw e;
        }
    }

    /**
     * A runtime of {@code nodes} nodes on the addresses of {@code addressBlock} (see {@link AddressPlan}), which it
     * holds from its start to its close: a block another cluster holds fails the start.
     */
    public static Runtime.Factory factory(int nodes, int addressBlock) {
        return factory(nodes, addressBlock, BackOff.KUBELET);
    }

    /** As {@link #factory(int, int)}, restarting exited containers after {@code backOff} (tests: shorter than the kubelet's). */
    public static Runtime.Factory factory(int nodes, int addressBlock, BackOff backOff) {
        checkNodes(nodes);
        return host -> started(host, nodes, AddressBlockClaim.claim(addressBlock), backOff);
    }

    private static EmbeddedRuntime started(Host host, int nodes, AddressBlockClaim claim) {
        return started(host, nodes, claim, BackOff.KUBELET);
    }

    private static EmbeddedRuntime started(Host host, int nodes, AddressBlockClaim claim, BackOff backOff) {
        try {
            return new EmbeddedRuntime(host, nodes, claim, backOff);
        } catch (RuntimeException e) {
            claim.close();
            throw e;
        }
    }

    private static void checkNodes(int nodes) {
        if (nodes < 1 || nodes > AddressPlan.MAX_NODES) {
            throw new IllegalArgumentException("the embedded runtime runs 1.." + AddressPlan.MAX_NODES + " nodes, not " + nodes);
        }
    }

    /**
     * Starts an embedded cluster of {@code nodes} nodes, bringing back what the state directory holds, on the
     * address block SOURCEMESH_ADDRESS_BLOCK names, else the one the home's state was made on, else the first
     * block no other cluster on this machine holds (the home remembers it).
     */
    public static Cluster cluster(Home home, int nodes) {
        checkNodes(nodes);
        AddressBlockClaim claim = claimFor(home, AddressPlan.configuredBlock());
        try {
            home.writeAddressBlock(claim.block());
            return Cluster.start(home, host -> started(host, nodes, claim));
        } catch (IOException e) {
            claim.close();
            throw new UncheckedIOException("writing " + home.addressBlockFile(), e);
        } catch (RuntimeException e) {
            claim.close();
            throw e;
        }
    }

    /** As {@link #cluster(Home, int)}, on the addresses of {@code addressBlock}, so several clusters share a machine. */
    public static Cluster cluster(Home home, int nodes, int addressBlock) {
        return Cluster.start(home, factory(nodes, addressBlock));
    }

    /** The block a cluster of {@code home} runs on: see {@link #cluster(Home, int)}; it is held when this returns. */
    static AddressBlockClaim claimFor(Home home, OptionalInt asked) {
        OptionalInt made = home.addressBlock();
        if (asked.isPresent() && made.isPresent() && asked.getAsInt() != made.getAsInt()) {
            throw new IllegalArgumentException("SOURCEMESH_ADDRESS_BLOCK is " + asked.getAsInt() + ", but the state in "
                    + home.path() + " was made on address block " + made.getAsInt() + " (its services' ClusterIPs are 127.96."
                    + made.getAsInt() + ".x): unset it, or use another home");
        }
        if (asked.isEmpty() && made.isEmpty()) {
            return AddressBlockClaim.claimFirstFree();
        }
        int block = asked.isPresent() ? asked.getAsInt() : made.getAsInt();
        return AddressBlockClaim.claim(block, asked.isPresent()
                ? "set SOURCEMESH_ADDRESS_BLOCK to another block, or stop that cluster"
                : "the state in " + home.path() + " was made on it; stop that cluster (`sourcemesh down` with its home),"
                        + " or start this one from another home");
    }

    public AddressPlan addresses() {
        return addresses;
    }

    /** The north-south components (node ports, load balancers), for tests and the CLI. */
    public NorthSouth northSouth() {
        return northSouth;
    }

    private List<String> nodeNames() {
        return nodes.stream().map(Node::name).toList();
    }

    @Override
    public String name() {
        return "embedded";
    }

    @Override
    public List<Node> nodes() {
        return nodes;
    }

    @Override
    public AddressPool serviceAddresses() {
        return addresses.services();
    }

    @Override
    public XdsServer controlPlane() {
        return xds;
    }

    @Override
    public RunningPod startPod(KubeObject pod, String node) {
        InetAddress ip = addresses.allocatePod(nodeNames().indexOf(node));
        boolean started = false;
        try {
            boolean gateway = pod.labels().getOrDefault("istio", "").endsWith("gateway");
            // The probes' exec runs as `kubectl exec` into this pod does.
            SocketProber prober = SocketProber.of(ip, command -> startExec(ip, pod.namespace(), command, new ExecProcess.Mode(false, false)));
            EmbeddedPod p = new EmbeddedPod(PodRuntime.start(pod, ip, node, kubeletEnv(), gateway, host::wake, prober), host::wake);
            pods.put(ip, p);
            started = true;
            return p;
        } finally {
            if (!started) {
                addresses.releasePod(ip);
            }
        }
    }

    @Override
    public String startFailureReason() {
        return "RunContainerError"; // the app's program failed as it started (e.g. its port was taken)
    }

    @Override
    public void stopPod(RunningPod pod) {
        EmbeddedPod p = (EmbeddedPod) pod;
        pods.remove(p.address());
        p.containers().close();
        addresses.releasePod(p.address());
    }

    private KubeletEnv kubeletEnv() {
        return new KubeletEnv(transport, conntrack, this::intercepted, vips::serves, xds.address(), host.home().logsDir(), backOff,
                node -> store.get(ResourceKind.NODE, null, node).map(KubeObject::labels).orElse(Map.of()));
    }

    /** Whether an address belongs to a pod whose sidecar captures its inbound traffic. */
    private boolean intercepted(InetAddress ip) {
        EmbeddedPod p = pods.get(ip);
        return p != null && p.intercepted();
    }

    private Optional<EmbeddedPod> endpoint(InetAddress ip) {
        return Optional.ofNullable(pods.get(ip));
    }

    /** Ready pods with their node, for kube-proxy and the load balancer. */
    private List<Endpoint> endpoints() {
        return pods.values().stream().filter(EmbeddedPod::ready).map(p -> new Endpoint(p.pod(), p.address(), p.node())).toList();
    }

    @Override
    public void syncServices(List<KubeObject> services, Collection<RunningPod> running) {
        vips.sync(services);
    }

    @Override
    public boolean startSidecars(Map<RunningPod, String> nodeIds) {
        return false; // an embedded sidecar starts with its pod and fetches its config itself
    }

    @Override
    public void syncNorthSouth(List<KubeObject> services, List<RunningPod> ready) {
        northSouth.sync(services);
    }

    @Override
    public ExecResult exec(RunningPod pod, List<String> command, byte[] stdin) {
        try {
            Path work = host.home().path().resolve("exec");
            Files.createDirectories(work);
            return PodExec.run(((EmbeddedPod) pod).address(), names(pod.pod().namespace()), work, command, stdin);
        } catch (IOException e) {
            throw new ClusterApiException(500, e.getMessage());
        }
    }

    @Override
    public ExecProcess start(RunningPod pod, List<String> command,
            ExecProcess.Mode mode) {
        return startExec(((EmbeddedPod) pod).address(), pod.pod().namespace(), command, mode);
    }

    private ExecProcess startExec(InetAddress ip, String namespace, List<String> command, ExecProcess.Mode mode) {
        try {
            Path work = host.home().path().resolve("exec");
            Files.createDirectories(work);
            return PodExec.start(ip, names(namespace), work, command, mode);
        } catch (IOException e) {
            throw new ClusterApiException(500, e.getMessage());
        }
    }

    /** Every service name a pod in {@code namespace} can resolve, with every port, to its VIP. */
    private PodExec.NameTable names(String namespace) {
        Map<String, InetAddress> out = new LinkedHashMap<>();
        for (KubeObject svc : store.list(ResourceKind.SERVICE, null)) {
            String ip = svc.spec().path("clusterIP").asText("");
            if (ip.isEmpty() || ip.equals("None")) {
                continue;
            }
            List<String> hosts = new ArrayList<>(List.of(svc.name() + "." + svc.namespace(),
                    svc.name() + "." + svc.namespace() + ".svc", svc.name() + "." + svc.namespace() + ".svc." + Cluster.DOMAIN));
            if (svc.namespace().equals(namespace)) {
                hosts.add(0, svc.name());
            }
            for (JsonNode port : svc.spec().path("ports")) {
                for (String h : hosts) {
                    out.put(h + ":" + port.path("port").asInt(), AddressPlan.ip(ip));
                }
            }
        }
        return new PodExec.NameTable(out);
    }

    @Override
    public Optional<String> gatewayAddress() {
        return northSouth.gatewayAddress().map(InetAddress::getHostAddress);
    }

    @Override
    public void close() {
        try {
            northSouth.close();
            vips.close();
        } catch (RuntimeException e) {
            LOG.warning("stopping the service addresses: " + e.getMessage());
        } finally {
            try {
                xds.close();
            } finally {
                try {
                    transport.close();
                } finally {
                    claim.close();
                }
            }
        }
    }
}
