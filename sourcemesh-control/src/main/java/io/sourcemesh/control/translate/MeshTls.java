package io.sourcemesh.control.translate;

import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.sourcemesh.control.ca.MeshCa;
import io.sourcemesh.control.ca.WorkloadCertificate;
import io.sourcemesh.control.ca.WorkloadCertificates;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.Pod;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.model.Secret;
import io.sourcemesh.control.model.Service;
import io.sourcemesh.control.model.WorkloadEndpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One proxy's side of the mesh's mutual TLS: its workload certificate (issued by the mesh CA for its pod's
 * {@code spiffe://<trustDomain>/ns/<ns>/sa/<serviceAccount>}) and the root, written into the TLS contexts Istio writes
 * (pilot/pkg/networking/core: the inbound mTLS context of mtls.go/authn's policy applier, the ISTIO_MUTUAL client
 * context of cluster_tls.go buildIstioMutualTLS). Istio's proxies get both by SDS ("default", "ROOTCA"); ours inline,
 * and the proxy's admin redacts the key from /config_dump as Envoy does. Absent when the mesh has no CA Secret.
 */
final class MeshTls {
    /** Istio's ALPNs of in-mesh mTLS (util.ALPNInMeshWithMxc and the istio.alpn filter's istio-http/*, istio-h2). */
    static final List<String> CLIENT_ALPN = List.of("istio-peer-exchange", "istio");
    /**
     * An HTTP/2 cluster's (util.ALPNInMeshH2WithMxc): with "h2" the server's [h2, http/1.1] negotiates h2, so its
     * codec AUTO speaks HTTP/2 — without it no protocol is agreed and the server reads the stream as HTTP/1.
     */
    static final List<String> CLIENT_H2_ALPN = List.of("istio-peer-exchange", "istio", "h2");
    static final List<String> MESH_ALPN = List.of("istio-peer-exchange", "istio", "istio-http/1.0", "istio-http/1.1",
            "istio-h2");
    /** Istio's inbound server ALPN (util.ALPNHttp; ALPNDownstreamWithMxc on a TCP chain). */
    private static final List<String> SERVER_HTTP_ALPN = List.of("h2", "http/1.1");
    private static final List<String> SERVER_TCP_ALPN = List.of("istio-peer-exchange", "h2", "http/1.1");

    private final WorkloadCertificate certificate;
    private final String rootPem;
    private final OfModel mesh;

    private MeshTls(WorkloadCertificate certificate, String rootPem, OfModel mesh) {
        this.certificate = certificate;
        this.rootPem = rootPem;
        this.mesh = mesh;
    }

    /**
     * What the translations keep between proxies: the workload certificates issued so far, and the last model's
     * {@link OfModel} (a push translates every proxy from one model, so its CA is read and each destination's
     * identities and auto mTLS worked out once a push, not once a proxy).
     */
    static final class Issuer {
        private final WorkloadCertificates certificates = WorkloadCertificates.create();
        private volatile OfModel last;

        private OfModel of(MeshModel model) {
            OfModel m = last;
            if (m == null || m.model != model) {
                m = new OfModel(model);
                last = m;
            }
            return m;
        }
    }

    /** The mesh TLS of one model that is the same for every proxy: its CA and what each destination takes. */
    private static final class OfModel {
        private final MeshModel model;
        private final List<TranslationWarning> problems = new ArrayList<>();
        private final Optional<MeshCa> ca;
        private final Map<Service, List<String>> identities = new ConcurrentHashMap<>();
        private final Map<Service, Boolean> autoMtls = new ConcurrentHashMap<>();
        private final Map<Map.Entry<Pod, Integer>, Boolean> endpoints = new ConcurrentHashMap<>();

        private OfModel(MeshModel model) {
            this.model = model;
            this.ca = ca(model, problems);
        }
    }

    /**
     * The mesh CA of {@code model} (the root namespace's {@code cacerts}, else {@code istio-ca-secret}, as istiod picks
     * them); empty when neither is there, and a warning when one is there but cannot sign.
     */
    private static Optional<MeshCa> ca(MeshModel model, List<TranslationWarning> warnings) {
        String ns = model.meshConfig().rootNamespace();
        for (boolean plugin : new boolean[] {true, false}) {
            Optional<Secret> secret = model.secret(ns, plugin ? MeshCa.PLUGIN_SECRET : MeshCa.SELF_SIGNED_SECRET);
            if (secret.isEmpty()) {
                continue;
            }
            MeshCa.Result r = MeshCa.of(secret.get().data(), plugin);
            if (r.ca().isPresent()) {
                return r.ca();
            }
            warnings.add(new TranslationWarning("Secret " + ns + "/" + secret.get().name(), r.problem()
                    + "; no mesh CA from it"));
        }
        return Optional.empty();
    }

    /** The proxy's mesh TLS, when the mesh has a CA. */
    static Optional<MeshTls> of(MeshModel model, ProxyIdentity proxy, Issuer issuer, List<TranslationWarning> warnings) {
        OfModel mesh = issuer.of(model);
        warnings.addAll(mesh.problems);
        Optional<MeshCa> ca = mesh.ca;
        if (ca.isEmpty()) {
            return Optional.empty();
        }
        String account = model.pod(proxy.namespace(), proxy.podName()).map(Pod::serviceAccount).orElse("default");
        String td = model.meshConfig().trustDomain();
        WorkloadCertificate cert = issuer.certificates.of(ca.get(), MeshCa.spiffeId(td, proxy.namespace(), account));
        return Optional.of(new MeshTls(cert, ca.get().rootPem(), mesh));
    }

    /** The inbound mTLS socket: the workload certificate, a client certificate required and verified against the root. */
    TransportSocket downstream(boolean http) {
        DownstreamTlsContext ctx = DownstreamTlsContext.newBuilder()
                .setCommonTlsContext(common()
                        .setValidationContext(CertificateValidationContext.newBuilder().setTrustedCa(inline(rootPem)))
                        .addAllAlpnProtocols(http ? SERVER_HTTP_ALPN : SERVER_TCP_ALPN))
                .setRequireClientCertificate(Protos.bool(true))
                .build();
        return TransportSocket.newBuilder().setName(Names.TLS_TRANSPORT_SOCKET).setTypedConfig(EnvoyTypes.pack(ctx)).build();
    }

    /**
     * ISTIO_MUTUAL toward a destination: the workload certificate, the root, the SANs (the DestinationRule's
     * subjectAltNames, else the destination's service-account identities; none: the root alone, as Istio) and
     * Istio's sni and ALPN (with h2 on an HTTP/2 cluster).
     */
    UpstreamTlsContext upstream(List<String> sans, String sni, boolean http2) {
        CertificateValidationContext.Builder v = CertificateValidationContext.newBuilder().setTrustedCa(inline(rootPem));
        sans.forEach(san -> v.addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(san)));
        return UpstreamTlsContext.newBuilder()
                .setCommonTlsContext(common().setValidationContext(v).addAllAlpnProtocols(http2 ? CLIENT_H2_ALPN : CLIENT_ALPN))
                .setSni(sni)
                .build();
    }

    /** The identities of the pods behind a service (Istio's service accounts of its endpoints), sorted. */
    List<String> identities(Service service) {
        return mesh.identities.computeIfAbsent(service, s -> identities(mesh.model, s));
    }

    private static List<String> identities(MeshModel model, Service service) {
        String trustDomain = model.meshConfig().trustDomain();
        TreeSet<String> ids = new TreeSet<>();
        if (service.fromEntry()) {
            // Istio's ServiceAccounts of an entry's host: its subjectAltNames, and its workloads' accounts (an endpoint's
            // serviceAccount in the entry's namespace, conversion.go convertWorkloadEntryToWorkloadInstance; a selected
            // pod's).
            Service.Entry entry = service.entry();
            ids.addAll(entry.subjectAltNames());
            entry.endpoints().stream().filter(e -> !e.serviceAccount().isEmpty())
                    .forEach(e -> ids.add(MeshCa.spiffeId(trustDomain, service.namespace(), e.serviceAccount())));
            model.pods().stream().filter(p -> entry.selects(p, service.namespace()))
                    .forEach(p -> ids.add(MeshCa.spiffeId(trustDomain, p.namespace(), p.serviceAccount())));
            return List.copyOf(ids);
        }
        model.pods().stream().filter(service::selects)
                .forEach(p -> ids.add(MeshCa.spiffeId(trustDomain, p.namespace(), p.serviceAccount())));
        // and the accounts of the WorkloadEntries it selects (Istio's ServiceAccounts come from all its endpoints)
        service.workloads().stream().filter(w -> !w.endpoint().serviceAccount().isEmpty())
                .forEach(w -> ids.add(MeshCa.spiffeId(trustDomain, w.namespace(), w.endpoint().serviceAccount())));
        return List.copyOf(ids);
    }

    /** {@link #autoMtls(MeshModel, Service)} of this proxy's model. */
    boolean autoMtls(Service service) {
        return mesh.autoMtls.computeIfAbsent(service, s -> autoMtls(mesh.model, s));
    }

    /**
     * Whether auto mTLS applies to a service's clusters when its DestinationRule has no tls (Istio's
     * buildUpstreamTLSSettings): meshConfig enableAutoMtls, not a MESH_EXTERNAL ServiceEntry's host (Istio's
     * meshExternal), and the service's mode — BestEffortInferServiceMTLSMode: a resolution NONE entry (passthrough) only
     * when it has endpoints and each has a sidecar; then the PeerAuthentication of its namespace, else the mesh's,
     * PERMISSIVE by default — not DISABLE. The cluster then chooses per endpoint ({@link #meshEndpoint}) through Istio's
     * transport_socket_matches.
     */
    private static boolean autoMtls(MeshModel model, Service service) {
        if (!model.meshConfig().enableAutoMtls() || service.fromEntry() && !service.entry().meshInternal()) {
            return false;
        }
        if (service.fromEntry() && service.entry().resolution().equals("NONE")) {
            Service.Entry entry = service.entry();
            List<Pod> pods = model.pods().stream().filter(p -> p.ready() && entry.selects(p, service.namespace())).toList();
            boolean any = !entry.endpoints().isEmpty() || !pods.isEmpty();
            if (!any || entry.endpoints().stream().anyMatch(e -> !e.istioTlsMode())
                    || pods.stream().anyMatch(p -> !ISTIO_TLS_MODE.equals(p.labels().get(TLS_MODE_LABEL)))) {
                return false;
            }
        }
        return PeerAuthentications.forWorkload(model, service.namespace(), Map.of()).mode() != PeerAuthentications.Mode.DISABLE;
    }

    /**
     * Whether a pod behind a service port takes mTLS (Istio's mtlsChecker.checkMtlsEnabled without a DestinationRule tls
     * mode): the injector's {@code security.istio.io/tlsMode: istio} label (Istio's endpoint TLSMode), and its
     * PeerAuthentication on the target port not DISABLE. Its endpoint then carries {@code tlsMode: istio} metadata.
     */
    boolean meshEndpoint(Pod pod, int targetPort) {
        return mesh.endpoints.computeIfAbsent(Map.entry(pod, targetPort), k -> meshEndpoint(mesh.model, pod, targetPort));
    }

    private static boolean meshEndpoint(MeshModel model, Pod pod, int targetPort) {
        return ISTIO_TLS_MODE.equals(pod.labels().get(TLS_MODE_LABEL))
                && PeerAuthentications.forWorkload(model, pod.namespace(), pod.labels()).at(targetPort)
                        != PeerAuthentications.Mode.DISABLE;
    }

    /**
     * Whether a ServiceEntry endpoint takes mTLS (mtlsChecker.checkMtlsEnabled): its Istio TLS mode
     * ({@link WorkloadEndpoint#istioTlsMode}), and the PeerAuthentication of the entry's namespace for its labels on
     * {@code port} not DISABLE.
     */
    boolean meshEndpoint(WorkloadEndpoint endpoint, String namespace, int port) {
        return endpoint.istioTlsMode() && PeerAuthentications.forWorkload(mesh.model, namespace, endpoint.labels()).at(port)
                != PeerAuthentications.Mode.DISABLE;
    }

    /**
     * A Gateway server's ISTIO_MUTUAL (Istio's BuildListenerTLSContext: ApplyToCommonTLSContext with the proxy's own
     * SDS "default" certificate and "ROOTCA"): this proxy's workload certificate, served.
     */
    TlsCertificate certificate() {
        return TlsCertificate.newBuilder().setCertificateChain(inline(certificate.chainPem()))
                .setPrivateKey(inline(certificate.keyPem())).build();
    }

    /** The mesh root as a client's validation, its SAN matched against {@code sans} when there are any. */
    CertificateValidationContext rootValidation(List<String> sans) {
        CertificateValidationContext.Builder v = CertificateValidationContext.newBuilder().setTrustedCa(inline(rootPem));
        sans.forEach(san -> v.addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(san)));
        return v.build();
    }

    /** The injector's label on a pod with a sidecar (Istio's TLSModeLabelName), and its value for one. */
    static final String TLS_MODE_LABEL = "security.istio.io/tlsMode";
    static final String ISTIO_TLS_MODE = "istio";

    /**
     * Istio's SNI for an in-mesh cluster (BuildDNSSrvSubsetKey): {@code outbound_.<port>_.<subset>_.<host>}; not sent
     * (the JDK's TLS refuses underscores in a server name), kept to say what Istio would send.
     */
    static String sni(String clusterName) {
        String[] parts = clusterName.split("\\|", -1);
        return parts.length != 4 ? clusterName : parts[0] + "_." + parts[1] + "_." + parts[2] + "_." + parts[3];
    }

    private CommonTlsContext.Builder common() {
        return CommonTlsContext.newBuilder()
                .setTlsParams(TlsParameters.newBuilder()
                        .setTlsMinimumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_2)
                        .setTlsMaximumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_3))
                .addTlsCertificates(certificate());
    }

    private static DataSource inline(String pem) {
        return DataSource.newBuilder().setInlineString(pem).build();
    }
}
