package io.sourcemesh.api.support;

import static io.sourcemesh.api.support.FieldSupport.refused;
import static io.sourcemesh.api.support.FieldSupport.supported;
import static io.sourcemesh.api.support.FieldSupport.warned;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The Istio kinds' part of {@link SupportTable}: networking.istio.io and security.istio.io. */
final class IstioSupport {
    /** A file path in the proxy's container, as the control plane reads it (control's translate.PodFiles). */
    private static final String POD_FILE = "a file path in the proxy's container, under the mountPath of a secret volume "
            + "the pod's sidecar.istio.io/userVolume and sidecar.istio.io/userVolumeMount annotations mount (as Istio's "
            + "injection), or its istio-proxy container's own volumeMounts: the Secret's key it names (its items' key→path mapping when listed), read from the pod's "
            + "namespace and inlined; a path no mount covers, another volume type, a Secret or key missing leave the "
            + "part out, named in the resource's status and apply's warnings";

    /** A file path in a Gateway's gateway pod (control's translate.PodFiles and GatewayBuilder). */
    private static final String GATEWAY_POD_FILE = "without credentialName (which wins when both are set, as Istio's "
            + "buildGatewayListenerTLSContext): a file path in the gateway pod, under the mountPath of a secret volume its "
            + "istio-proxy container mounts — the gateway Deployment's volumes and volumeMounts, as the istio-ingressgateway "
            + "chart's secretVolumes (the installed gateway mounts Secrets istio-ingressgateway-certs and "
            + "istio-ingressgateway-ca-certs at /etc/istio/ingressgateway-certs and /etc/istio/ingressgateway-ca-certs), or "
            + "the pod's sidecar.istio.io/userVolume and userVolumeMount annotations: the Secret's key it names, read from the "
            + "pod's namespace and inlined. A file the pod does not have (no mount, another volume type, a Secret or key "
            + "missing, not PEM) is named on the Gateway's status with its server, field and path, and the port keeps "
            + "serving its last good listener (as Envoy keeps one whose new certificate cannot be loaded), or, with none, "
            + "the server is left out";

    private IstioSupport() {}

    static Map<String, KindSupport> rows() {
        Map<String, KindSupport> k = new LinkedHashMap<>();
        k.put("Gateway", fields(
                supported("spec.selector", null),
                supported("spec.servers[].port.number", null),
                supported("spec.servers[].port.protocol", "read whatever its case, as Istio: HTTP, HTTP2, GRPC, GRPC-WEB and "
                        + "HTTPS through a connection manager; TCP, MONGO, REDIS, MYSQL (plain TCP servers, as Istio) and TLS "
                        + "through tcp_proxy to the VirtualServices' tcp routes (PASSTHROUGH: their tls routes, by SNI); UDP "
                        + "and HTTP_PROXY leave the server out, named on the Gateway's status")
                        .warning("UDP", "HTTP_PROXY").ignoringCase(),
                supported("spec.servers[].port.name", null),
                refused("spec.servers[].port.targetPort", "targetPort has no impact on Gateways (Istio's validation "
                        + "refuses it)"),
                supported("spec.servers[].hosts", "as Istio: ns/host binds only VirtualServices of namespace ns, ./host the "
                        + "Gateway's, */host (or host) any; a server with tls naming a host an earlier server with tls of the "
                        + "port names (or an SNI name an earlier filter chain of the port matches) is left out, named on the "
                        + "Gateway's status"),
                supported("spec.servers[].name", "a name only"),
                warned("spec.servers[].bind", null), warned("spec.servers[].defaultEndpoint", null),
                supported("spec.servers[].tls.mode", "SIMPLE, MUTUAL (a client certificate required) and OPTIONAL_MUTUAL "
                        + "(verified when sent): the clients' CA from Secret <credentialName>-cacert, else the credential's own "
                        + "(cacert or ca.crt, with crl or ca.crl); on a TLS server TLS is terminated, then tcp_proxy (tls on a TCP "
                        + "server is refused, as Istio: only HTTPS and TLS servers take tls settings); "
                        + "PASSTHROUGH (HTTPS or TLS; Istio's default when tls is set without a mode): no TLS context, a filter "
                        + "chain per VirtualService tls route match on its sniHosts, certificates ignored (apply warns, as "
                        + "Istio's validation); ISTIO_MUTUAL: the gateway's own mesh certificate served, a client certificate "
                        + "of the mesh CA required (subjectAltNames matched), left out, named on the Gateway's status, while "
                        + "the mesh has no CA; AUTO_PASSTHROUGH leaves the server out, named on the Gateway's status")
                        .warning("AUTO_PASSTHROUGH"),
                supported("spec.servers[].tls.credentialName", "a kubernetes.io/tls or generic Secret in the gateway's "
                        + "namespace, for SIMPLE, MUTUAL and OPTIONAL_MUTUAL (set the mode: unset is PASSTHROUGH)"),
                supported("spec.servers[].tls.httpsRedirect", "Envoy require_tls: ALL, a 301 to https"),
                supported("spec.servers[].tls.serverCertificate", "SIMPLE, MUTUAL and OPTIONAL_MUTUAL's key pair with "
                        + "privateKey, " + GATEWAY_POD_FILE),
                supported("spec.servers[].tls.privateKey", "the key of serverCertificate, " + GATEWAY_POD_FILE),
                supported("spec.servers[].tls.caCertificates", "MUTUAL and OPTIONAL_MUTUAL: the clients' CA (with SIMPLE "
                        + "not used, named on the Gateway's status), " + GATEWAY_POD_FILE),
                supported("spec.servers[].tls.caCrl", "MUTUAL and OPTIONAL_MUTUAL: the clients' CRL beside caCertificates "
                        + "(refused with credentialName or SIMPLE, as Istio), " + GATEWAY_POD_FILE),
                supported("spec.servers[].tls.credentialNames", "every key pair served (e.g. RSA and ECDSA), chosen per "
                        + "handshake by SNI and the key types the client accepts; not together with credentialName"),
                warned("spec.servers[].tls.tlsCertificates", null),
                supported("spec.servers[].tls.subjectAltNames", "a client certificate must carry one of them (Envoy's "
                        + "match_subject_alt_names, exact)"),
                supported("spec.servers[].tls.verifyCertificateSpki", "MUTUAL and OPTIONAL_MUTUAL: the client's key pinned "
                        + "(with SIMPLE or ISTIO_MUTUAL, named on the Gateway's status as unused, as Istio ignores it)"),
                supported("spec.servers[].tls.verifyCertificateHash", "MUTUAL and OPTIONAL_MUTUAL: the client's certificate "
                        + "pinned (with SIMPLE or ISTIO_MUTUAL, named on the Gateway's status as unused, as Istio ignores it)"),
                supported("spec.servers[].tls.minProtocolVersion", "Envoy tls_params; the proxy speaks TLS 1.2 and 1.3 only, "
                        + "so TLSV1_0 and TLSV1_1 serve from TLS 1.2").warning("TLSV1_0", "TLSV1_1"),
                supported("spec.servers[].tls.maxProtocolVersion", "Envoy tls_params; TLSV1_0 and TLSV1_1 would serve no "
                        + "client, so the server is left out, named on the Gateway's status").warning("TLSV1_0", "TLSV1_1"),
                supported("spec.servers[].tls.cipherSuites", "Envoy tls_params.cipher_suites after Istio's filter (invalid "
                        + "and duplicate suites dropped, apply warns): the TLS 1.2 suites offered, TLS 1.3's kept; a suite "
                        + "the proxy cannot offer (RSA key exchange and 3DES, which the JDK's TLS disables, or an operator "
                        + "such as !, -, + or ALL) leaves the server out, named on the Gateway's status")));
        k.put("VirtualService", fields(virtualService()));
        k.put("DestinationRule", fields(destinationRule()));
        k.put("EnvoyFilter", fields(envoyFilter()));
        k.put("Sidecar", fields(
                supported("spec.workloadSelector", null),
                supported("spec.ingress[].port.number", "as Istio's buildInboundChainConfigs: with any ingress listener "
                        + "the sidecar's inbound chains are these only (its Services' ports no longer make chains; traffic "
                        + "to other ports takes the inbound passthrough); each is a chain of virtualInbound for its "
                        + "destination port, whose cluster is inbound|<number>||"),
                supported("spec.ingress[].port.protocol", "HTTP, HTTP2, GRPC, GRPC-WEB: a connection manager (its "
                        + "decorator names the Service whose port targets the number, else <sidecar>.<namespace>, as "
                        + "Istio); HTTP2 and GRPC upstream as h2; the others tcp_proxy; UDP leaves the listener out, named "
                        + "in the proxy's warnings").warning("UDP").ignoringCase(),
                supported("spec.ingress[].port.name", "a name only"),
                supported("spec.ingress[].defaultEndpoint", "as Istio's buildInboundClusters: 127.0.0.1:<port> or "
                        + "[::1]:<port> a STATIC cluster to that address; 0.0.0.0:<port> to the pod's IP, from 127.0.0.6 "
                        + "(so interception does not bring it back); [::]:<port> [::1] (the pods have no IPv6 address, "
                        + "Istio's fallback); unset or :<port> the original destination; unix:// is refused (the sidecars "
                        + "connect over TCP only)"),
                warned("spec.ingress[].bind", "the chain is on virtualInbound (captured traffic) whatever the bind"),
                warned("spec.ingress[].captureMode", "captured as the pod's interception mode says"),
                supported("spec.ingress[].connectionPool", "the connection pool of the listener's inbound cluster "
                        + "inbound|<port>||, over spec.inboundConnectionPool (which it replaces whole, as Istio's "
                        + "InboundConnectionPoolForPort); on a TCP port only its tcp settings bite (apply warns of http ones)"),
                supported("spec.ingress[].tls.mode", "SIMPLE, MUTUAL (a client certificate required) and OPTIONAL_MUTUAL "
                        + "terminate TLS on the port's inbound chain (plaintext to the port matches no chain), then the port "
                        + "as Istio's AfterTLSTermination: HTTPS through a connection manager, TLS through tcp_proxy, to the "
                        + "defaultEndpoint; as Istio's buildInboundListeners, only where the port's PeerAuthentication mode "
                        + "is DISABLE (or the mesh has no CA): else the mesh's mTLS serves the port and the tls is named as "
                        + "not applied in the Sidecar's status; an HTTPS or TLS port only, ISTIO_MUTUAL and AUTO_PASSTHROUGH "
                        + "refused (Istio's ValidateSidecar); PASSTHROUGH (tls without a mode) terminates nothing: the listener "
                        + "is left out, named in the Sidecar's status").warning("PASSTHROUGH"),
                supported("spec.ingress[].tls.serverCertificate", POD_FILE),
                supported("spec.ingress[].tls.privateKey", POD_FILE),
                supported("spec.ingress[].tls.caCertificates", "MUTUAL and OPTIONAL_MUTUAL: the clients' CA; " + POD_FILE),
                supported("spec.ingress[].tls.caCrl", "the CRL beside the clients' CA; " + POD_FILE),
                supported("spec.ingress[].tls.verifyCertificateSpki", "MUTUAL and OPTIONAL_MUTUAL: the client's key pinned, "
                        + "as a Gateway server's"),
                supported("spec.ingress[].tls.verifyCertificateHash", "MUTUAL and OPTIONAL_MUTUAL: the client's "
                        + "certificate pinned, as a Gateway server's"),
                supported("spec.ingress[].tls.minProtocolVersion", "as a Gateway server's").warning("TLSV1_0", "TLSV1_1"),
                supported("spec.ingress[].tls.maxProtocolVersion", "as a Gateway server's (TLSV1_0 and TLSV1_1 leave the "
                        + "listener out, named in the Sidecar's status)").warning("TLSV1_0", "TLSV1_1"),
                supported("spec.ingress[].tls.cipherSuites", "as a Gateway server's (a suite the proxy cannot offer leaves "
                        + "the listener out, named in the Sidecar's status)"),
                refused("spec.ingress[].tls.subjectAltNames", "sidecar: subjectAltNames is not supported in ingress tls "
                        + "(Istio's ValidateSidecar)"),
                refused("spec.ingress[].tls.httpsRedirect", "sidecar: httpsRedirect is not supported (Istio's ValidateSidecar)"),
                refused("spec.ingress[].tls.credentialName", "sidecar: credentialName is not currently supported (Istio's "
                        + "ValidateSidecar): mount the Secret with the pod's sidecar.istio.io/userVolume annotations and name "
                        + "its files"),
                refused("spec.ingress[].tls.credentialNames", "sidecar: credentialNames is not currently supported (Istio's "
                        + "ValidateSidecar)"),
                refused("spec.ingress[].tls.tlsCertificates", "sidecar: tls_certificates is not currently supported (Istio's "
                        + "ValidateSidecar)"),
                supported("spec.egress[].hosts", "as Istio: namespace/host (namespace *, . or a name; ~ns/host and ~/host "
                        + "exclude); services outside them get no listener or route, nor a cluster unless an imported "
                        + "VirtualService sends to its port; a VirtualService is imported when an egress host of its "
                        + "namespace, or of *, matches one of its hosts"),
                supported("spec.egress[].port.number", "as Istio's buildSidecarOutboundListeners: on this port only the "
                        + "listener's hosts' services that have the port (and its VirtualServices) are reachable, and only "
                        + "their clusters of this port exist; the listener without a port (the last, at most one) takes every "
                        + "other port and adds nothing to a listener the others made"),
                supported("spec.egress[].port.protocol", "HTTP, HTTP2, GRPC, GRPC-WEB: the port's 0.0.0.0 listener and route "
                        + "config; TCP, TLS, HTTPS, MONGO, REDIS, MYSQL: a listener on each service's address; unset, each "
                        + "service's own port protocol (Istio sniffs; named in the proxy's warnings); UDP has no listener "
                        + "(as Istio) and HTTP_PROXY is left out, both named in the proxy's warnings")
                        .warning("UDP", "HTTP_PROXY").ignoringCase(),
                supported("spec.egress[].port.name", "a name only"),
                warned("spec.egress[].bind", "the outbound listeners take captured traffic, whatever the bind"),
                warned("spec.egress[].captureMode", "captured as the pod's interception mode says"),
                supported("spec.outboundTrafficPolicy.mode", "REGISTRY_ONLY (the default when the policy is written without a mode, as Istio's proto) answers 502 from BlackHoleCluster; ALLOW_ANY "
                        + "passes through"),
                supported("spec.outboundTrafficPolicy.egressProxy", "under ALLOW_ANY (required, as "
                        + "Istio's validation), traffic to an unknown destination goes to outbound|<port>|<subset>|<host> "
                        + "(the host as written, as Istio's GetDestinationCluster) instead of the PassthroughCluster: the "
                        + "allow_any route, virtualOutbound's catch-all and each port listener's fallthrough; the service "
                        + "must be in the Sidecar's egress hosts for its cluster to exist, as in Istio"), 
                supported("spec.inboundConnectionPool", "as Istio's buildInboundCluster: the connection pool of every inbound "
                        + "cluster inbound|<port>|| without an ingress listener's own, translated as a DestinationRule's "
                        + "(circuit breakers: overflow is 503 with flag UO; connectTimeout, tcpKeepalive, idleTimeout, "
                        + "maxRequestsPerConnection, maxConnectionDuration, useClientProtocol; h2UpgradePolicy is outbound only, "
                        + "as Istio's applyH2Upgrade); without either, Istio's inbound defaults (every limit max uint32); "
                        + "validated as Istio's validateConnectionPool")));
        k.put("ServiceEntry", fields(
                supported("spec.hosts", "each host is a service of every proxy's registry, as Istio's convertServices: on "
                        + "each HTTP port a virtual host <host>:<port> in the port's route config (so REGISTRY_ONLY lets it "
                        + "through), on another port a listener on each address (without addresses Istio's 0.0.0.0_<port>: "
                        + "for TLS and HTTPS a chain per host by SNI, wildcards as Envoy's server names; for TCP one chain "
                        + "taking the port, the oldest entry's, a newer one's left out and named), and a cluster "
                        + "outbound|<port>||<host>, which VirtualServices and DestinationRules naming the host shape; a host "
                        + "a Service or an older entry has, or a chain an older service's matches alike, is left out and "
                        + "named at apply"),
                supported("spec.addresses", "IP addresses: further domains of the host's virtual hosts (Istio's "
                        + "generateVirtualHostDomains) and a listener <address>_<port> for each non-HTTP port; a CIDR range "
                        + "(a /32 or /128 is its address) a chain of 0.0.0.0_<port> matching it (prefix_ranges), TLS ports "
                        + "also by SNI"),
                supported("spec.ports[].number", null), supported("spec.ports[].name", "endpoints name their ports by it"),
                supported("spec.ports[].protocol", "HTTP, HTTP2, GRPC and GRPC-WEB ports are translated as routes; TCP, "
                        + "HTTPS, TLS, MONGO, REDIS and MYSQL as listeners (tcp_proxy, or SNI chains for HTTPS and TLS, as a "
                        + "Service's port); such a port without addresses where HTTP services listen on the same number is "
                        + "left out, named (Istio sniffs the protocol there, the proxy cannot); unset, UDP or HTTP_PROXY: the "
                        + "port has no listener or cluster (apply and the status say so)"),
                supported("spec.ports[].targetPort", "an endpoint's port when it names none of its own; with resolution "
                        + "NONE the port is not translated (apply and the status say so)"),
                supported("spec.location", "as Istio's buildUpstreamTLSSettings: MESH_INTERNAL hosts get auto mTLS (per "
                        + "endpoint: mTLS to those with a sidecar — the security.istio.io/tlsMode: istio label, else a "
                        + "serviceAccount, or a selected pod's injector label — and whose policy does not DISABLE it, "
                        + "plaintext to the rest; a resolution NONE entry only when every endpoint has a sidecar); "
                        + "MESH_EXTERNAL (the default) none, unless a DestinationRule says ISTIO_MUTUAL; no per-location "
                        + "telemetry"),
                supported("spec.resolution", "STATIC: the endpoints inline in each cluster (Istio's EDS); DNS: a STRICT_DNS "
                        + "cluster of the endpoints (without endpoints, the host), translated only when each of those names "
                        + "is an IP literal or localhost, since the proxy resolves no other name; NONE (the default): "
                        + "ORIGINAL_DST clusters, the connection goes where the client sent it; DNS_ROUND_ROBIN: a LOGICAL_DNS "
                        + "cluster of its one name (the same names only)"),
                supported("spec.endpoints[].address", "an IP address (a unix socket is left out, named on the status); with "
                        + "DNS, localhost too"),
                supported("spec.endpoints[].ports", "the endpoint's port for the entry's port of that name"),
                supported("spec.endpoints[].labels", "DestinationRule subsets select endpoints by them"),
                supported("spec.endpoints[].weight", "Envoy's load_balancing_weight (0: 1)"),
                warned("spec.endpoints[].network", null), supported("spec.endpoints[].locality", "region/zone/subzone (else "
                        + "an istio-locality label): the endpoint's locality for locality load balancing"),
                supported("spec.endpoints[].serviceAccount", "marks the endpoint as having a sidecar (without a tlsMode "
                        + "label) and is one of the identities auto mTLS and ISTIO_MUTUAL verify, as Istio"),
                supported("spec.workloadSelector", "the ready pods of the entry's namespace with these labels are its "
                        + "endpoints (at the port's targetPort, else its number), each with its sidecar's TLS mode, then "
                        + "its namespace's WorkloadEntries with these labels (by name; an IP address only; with the "
                        + "proxy.istio.io/health-checks-enabled annotation only while their Healthy condition is True, "
                        + "as Istio); the pods' sidecars get no inbound config from the entry"),
                supported("spec.exportTo", "as Istio's service index: unset or * every namespace's proxies, ~ none, else "
                        + "those of the namespaces named (. the entry's own) see the hosts (routes, listeners, clusters); "
                        + "still one service per host mesh-wide, the oldest entry's (Istio keeps one per namespace)"),
                supported("spec.subjectAltNames", "the identities auto mTLS and ISTIO_MUTUAL verify, with the endpoints' "
                        + "and selected pods' and WorkloadEntries' service accounts (Istio's ServiceAccounts of the host)")));
        k.put("WorkloadEntry", fields(
                supported("spec.address", "an IP address: an endpoint of each ServiceEntry of its namespace whose "
                        + "workloadSelector its labels match (Istio's convertWorkloadInstanceToServiceInstance), and of each "
                        + "Kubernetes Service of its namespace whose selector they match, not headless (Istio's Kubernetes "
                        + "registry; the mesh's endpoints only, not Kubernetes' Endpoints); a host name or unix socket is "
                        + "not translated (apply and the status say so) and the entry is left out"),
                supported("spec.ports", "the endpoint's port for the ServiceEntry port of that name; else the port's "
                        + "targetPort, else its number, as Istio; for a Kubernetes Service's port: its port of that port's "
                        + "name, else the numeric targetPort; a named targetPort only by its port of that name (without "
                        + "one it is no endpoint of that port); none for UDP ports, as Istio"),
                supported("spec.labels", "the ServiceEntries' workloadSelectors, Kubernetes Services' selectors and "
                        + "DestinationRule subsets select by them; security.istio.io/tlsMode is the endpoint's auto mTLS "
                        + "mode (Istio's getTLSModeFromWorkloadEntry)"),
                supported("spec.weight", "Envoy's load_balancing_weight (0: 1)"),
                supported("spec.serviceAccount", "marks the endpoint as having a sidecar (without a tlsMode label) and is "
                        + "one of the identities auto mTLS and ISTIO_MUTUAL verify (spiffe://<trust domain>/ns/<its "
                        + "namespace>/sa/<account>), as Istio"),
                warned("spec.network", "SourceMesh has one network: no cross-network gateway is used"),
                supported("spec.locality", "region/zone/subzone (else an istio-locality label): the endpoint's locality "
                        + "for locality load balancing")));
        k.put("AuthorizationPolicy", new KindSupport.OwnValidator("the AuthorizationPolicy validator (AuthorizationPolicyRules)"));
        k.put("PeerAuthentication", fields(
                supported("spec.selector", null),
                supported("spec.mtls.mode", "as Istio, on each sidecar's inbound chains (precedence: the workload's "
                        + "policy, its namespace's, the root namespace's; UNSET inherits; PERMISSIVE by default): STRICT mTLS "
                        + "only, a client certificate from the mesh CA required; PERMISSIVE mTLS for Istio's ALPNs and "
                        + "plaintext; DISABLE plaintext only. Clients send mTLS by auto mTLS (per endpoint, as Istio's "
                        + "transport_socket_matches: to each pod with a sidecar whose policy on the port does not DISABLE it; "
                        + "none to a service whose namespace's policy DISABLEs it; off with meshConfig enableAutoMtls: false) or "
                        + "DestinationRule ISTIO_MUTUAL"),
                supported("spec.portLevelMtls.*.mode", "a workload port's mode over the policy's (UNSET: the policy's), on "
                        + "a policy with a selector, as Istio")));
        String j = "spec.jwtRules[]";
        k.put("RequestAuthentication", fields(
                supported("spec.selector", "as Istio: the root namespace's policies and the workload's namespace's whose "
                        + "matchLabels the pod has; their rules become one envoy.filters.http.jwt_authn before RBAC on sidecar "
                        + "inbound and gateway connection managers"),
                refused("spec.targetRef", "SourceMesh has no Kubernetes Gateway API Gateways or waypoints to target"),
                refused("spec.targetRefs", "SourceMesh has no Kubernetes Gateway API Gateways or waypoints to target"),
                supported(j + ".issuer", "a token's iss must be it; a token of another issuer is 401, a request without "
                        + "a token passes to the AuthorizationPolicies (requestPrincipals refuse it)"),
                supported(j + ".audiences", "one of the token's aud must be listed (scheme and trailing / ignored); else 403"),
                supported(j + ".jwksUri", "fetched by the control plane and inlined (Istio's default): once on the first "
                        + "push that needs it (pushes at the same time share the fetch), then re-fetched in the background every "
                        + "20 minutes (a minute after a failure) and pushed again when the keys changed; a URI that never "
                        + "answered inlines Istio's key nobody can sign for, so every token is refused, and the "
                        + "RequestAuthentication's status says so; a failed refresh keeps the last keys, as istiod"),
                supported(j + ".jwks", "inline; RSA (RS*, PS*), EC P-256/384/521 (ES*), Ed25519 (EdDSA) and HMAC "
                        + "(kty oct: HS256/384/512, the MAC compared in constant time) keys"),
                supported(j + ".fromHeaders", "name and prefix; none and no fromParams: Authorization: Bearer and the "
                        + "access_token parameter, as Envoy"),
                supported(j + ".fromParams", null),
                supported(j + ".fromCookies", "Envoy's from_cookies: after headers and parameters; a cookie token is "
                        + "never removed, as Envoy"),
                supported(j + ".outputPayloadToHeader", "the payload, base64url as in the token"),
                supported(j + ".forwardOriginalToken", "else a token from a header is removed before the app (from a "
                        + "parameter it stays, as Envoy)"),
                supported(j + ".outputClaimToHeaders", "string, integer and boolean claims (dots into nested claims)"),
                supported(j + ".timeout", "the control plane's jwksUri fetch (5s by default)"),
                supported(j + ".spaceDelimitedClaims", "with permission and scope always (Istio's buildSpaceDelimitedClaims): "
                        + "a string claim split at spaces into a list in the payload RBAC reads")));
        k.put("Telemetry", fields(telemetry()));
        return k;
    }

    private static List<FieldSupport> telemetry() {
        String a = "spec.accessLogging[]";
        String noTargets = "SourceMesh has no Kubernetes Gateway API Gateways or waypoints to target";
        return List.of(
                supported("spec.selector", "as Istio's telemetry merge (pilot/pkg/model/telemetry.go): the root namespace's "
                        + "oldest Telemetry without a selector (mesh-wide), then the proxy's namespace's oldest without one, "
                        + "then every one of its namespace whose matchLabels the pod has, oldest first; a later level's "
                        + "accessLogging entries override an earlier one's"),
                refused("spec.targetRef", noTargets),
                refused("spec.targetRefs", noTargets),
                supported(a + ".providers", "envoy (Istio's built-in file provider, matched ignoring case): the proxies' "
                        + "JSON access log to /dev/stdout, the format meshConfig's log has; any other name is refused (it would "
                        + "be a meshConfig.extensionProviders entry, which the mesh config does not take). An entry without "
                        + "providers takes the level above's, as Istio; when no level names one, the mesh's log stays as it "
                        + "is (Istio falls back to meshConfig.accessLogFile), named on the Telemetry's status"),
                supported(a + ".disabled", "the selected proxies write no access log (for the match's mode)"),
                supported(a + ".match.mode", "CLIENT: outbound listeners and gateways (Istio counts a gateway as a client); "
                        + "SERVER: sidecars' inbound listeners; CLIENT_AND_SERVER (default): both"),
                supported(a + ".filter.expression", "Envoy's CEL access-log filter, as Istio writes it; the proxies evaluate "
                        + "comparisons (== != < <= > >=) of response.code, request.method, request.host, request.path, "
                        + "request.url_path, request.scheme, connection.mtls, source.address, source.port, "
                        + "destination.address, destination.port and xds.cluster_name with int, string and bool literals, "
                        + "&&, ||, ! and parentheses; any other expression is refused. As Envoy: a stream without the "
                        + "attribute (response.code on TCP) is not logged unless || makes it true"),
                warned("spec.tracing", "SourceMesh has no tracer: the proxies report no spans (not a security setting, so "
                        + "accepted, warned and named on the status)"),
                warned("spec.metrics", "SourceMesh has no Istio stats filter (istio_requests_total and the rest): overrides, "
                        + "providers and reportingInterval change nothing"));
    }

    private static List<FieldSupport> virtualService() {
        String h = "spec.http[]";
        String m = h + ".match[]";
        List<FieldSupport> rows = new ArrayList<>(List.of(
                supported("spec.hosts", null), supported("spec.gateways", null),
                supported(h + ".name", null),
                supported(m + ".name", null), supported(m + ".uri", null), supported(m + ".ignoreUriCase", null),
                supported(m + ".headers", null),
                supported(m + ".scheme", null), supported(m + ".method", null), supported(m + ".authority", null),
                supported(m + ".port", "the route is built only for that listener port"),
                supported(m + ".sourceLabels", "the route is built only for proxies whose workload has these labels"),
                supported(m + ".gateways", "the route is built only for those gateways (mesh: the sidecars)"),
                supported(m + ".queryParams", null), supported(m + ".withoutHeaders", null),
                supported(m + ".sourceNamespace", "the route is built only for proxies in that namespace"),
                warned(m + ".statPrefix", null),
                supported(h + ".route[].destination", null), supported(h + ".route[].weight", null),
                supported(h + ".route[].headers", "with a single destination; on one of several weighted destinations "
                        + "the translation warns and leaves them out"),
                supported(h + ".redirect", null), supported(h + ".directResponse", null),
                supported(h + ".delegate", "as Istio's VirtualService merge: the delegate (a VirtualService without hosts "
                        + "in namespace delegate.namespace, else the root's) is seen by no proxy itself; its http routes "
                        + "replace the root's route, each match narrowed into one of the root's (a route none fits is left "
                        + "out), the root route's name prefixed and its rewrite, timeout, retries, fault, mirrors, corsPolicy "
                        + "and headers taken where the delegate's route sets none; a delegate that is missing, not exported "
                        + "to the root's namespace, or that delegates again leaves the route out, named in the warnings"),
                supported(h + ".rewrite", null),
                supported(h + ".rewrite.uriRegexRewrite", "Envoy's regex_rewrite: every RE2 match of match in the path (not "
                        + "the query) replaced by rewrite (\\1 a group), as Istio; not together with uri (apply refuses it)"),
                supported(h + ".timeout", "0s disables the route timeout"),
                supported(h + ".retries", "Istio's default policy when unset; attempts: 0 disables retries"),
                supported(h + ".retries.perTryTimeout", "each attempt's timeout once the request went up (Envoy's "
                        + "per_try_timeout); a timed-out attempt is retried when retryOn has reset, 5xx or gateway-error, else "
                        + "504 UT; none when not below the route timeout"),
                supported(h + ".retries.retryRemoteLocalities", "Envoy's retry_priority previous_priorities with Istio's "
                        + "update_frequency 2: from the third attempt on, the locality priorities already tried take no load "
                        + "(locality failover gives a cluster its priorities; with one, retries stay where they were)"),
                supported(h + ".fault", "envoy.filters.http.fault: delay (fixedDelay) and abort (httpStatus, grpcStatus), "
                        + "each for its percentage (unset: none)"),
                warned(h + ".fault.delay.exponentialDelay", "left out with a warning, as in Istio"),
                warned(h + ".fault.abort.http2Error", "left out with a warning, as in Istio"),
                supported(h + ".mirror", "the shadow's host gets -shadow, its answer is dropped"),
                supported(h + ".mirrorPercentage", null), supported(h + ".mirrorPercent", null), supported(h + ".mirrors", null),
                supported(h + ".corsPolicy", "envoy.filters.http.cors in every connection manager: a preflight from an "
                        + "allowed origin is answered by the proxy, other responses to one get its Access-Control-Allow-Origin; "
                        + "unmatchedPreflights IGNORE answers other origins' preflights too"),
                supported(h + ".headers", "values with %-format specifiers are refused by the proxy"),
                supported("spec.exportTo", "as Istio: only the sidecars and gateways of the namespaces named see it (. its "
                        + "own, * all, ~ none); a sidecar takes one in its own namespace before one exported to it by name, "
                        + "before a public one")));
        rows.addAll(l4Routes("spec.tcp[]", false));
        rows.addAll(l4Routes("spec.tls[]", true));
        return rows;
    }

    private static final String SIDECAR_ONLY = "the sidecars' outbound listeners only (the client's workload); a "
            + "gateway ignores it, as Istio";

    /**
     * VirtualService tcp and tls routes: at a Gateway's servers (Istio's gateway match: port, gateways) and, bound to
     * the mesh (no gateways, or mesh), on the sidecars' outbound listener of the host's TCP or TLS ports (matchTCP,
     * matchTLS: port, gateways, sourceLabels, sourceNamespace all fit), tcp_proxy to the destinations.
     */
    private static List<FieldSupport> l4Routes(String at, boolean tls) {
        String m = at + ".match[]";
        List<FieldSupport> rows = new ArrayList<>(List.of(
                supported(at.substring(0, at.length() - 2), tls
                        ? "at a Gateway, each fitting match is an SNI filter chain of a PASSTHROUGH server (TLS or HTTPS); "
                                + "on the sidecars, of the host's tls- or https- service ports (what no chain matches "
                                + "passes through, or is black-holed under REGISTRY_ONLY); tcp_proxy to the route's "
                                + "destinations"
                        : "the first tcp route that fits a Gateway's TCP server (or a TLS server that terminates), or a "
                                + "sidecar's outbound listener of the host's other non-HTTP ports, is its tcp_proxy; at a "
                                + "Gateway, none: no filter chain, as Istio; on a sidecar, none: the service itself; a sidecar "
                                + "reads every VirtualService matching the host, wildcards too, in its order (no most "
                                + "specific host, as Istio), and names a later one's fitting route in apply's warnings"),
                supported(m + ".port", "the route serves only the server or service port of that number"),
                supported(m + ".gateways", "the route serves only those gateways' servers (mesh: the sidecars)"),
                supported(m + ".sourceLabels", SIDECAR_ONLY), supported(m + ".sourceNamespace", SIDECAR_ONLY),
                supported(m + ".destinationSubnets", SIDECAR_ONLY + "; the filter chain's prefix_ranges (an address is its "
                        + "/32)"),
                supported(at + ".route[].destination", "Istio's cluster: the destination's port, else the service's only "
                        + "port, else the listener's port"),
                supported(at + ".route[].weight", "several destinations: tcp_proxy weighted_clusters (zero weights left out)")));
        if (tls) {
            rows.add(supported(m + ".sniHosts", "the filter chain's server_names (* matches any); each must be covered by "
                    + "the VirtualService's hosts, else apply refuses it with Istio's message; a host an earlier chain of the "
                    + "port has is left out, named on the Gateway's status or in apply's warnings"));
        }
        return rows;
    }

    private static final String TUNNEL = "as Istio's tunnelingconfig.Apply: a sidecar's tcp_proxy to this host (one destination of a TCP or TLS route, or the "
                + "service's own port) tunnels over HTTP/1.1 CONNECT to targetHost:targetPort (the subset's tunnel first); gateways "
                + "and weighted routes send no tunnel, as Istio; protocol POST is refused (CONNECT only)";

    private static List<FieldSupport> destinationRule() {
        List<FieldSupport> rows = new ArrayList<>(List.of(supported("spec.host", null)));
        rows.addAll(trafficPolicy("spec.trafficPolicy"));
        rows.addAll(portLevelSettings("spec.trafficPolicy"));
        rows.add(supported("spec.trafficPolicy.tunnel", TUNNEL));
        rows.add(supported("spec.trafficPolicy.proxyProtocol", PROXY_PROTOCOL));
        rows.add(supported("spec.subsets[].name", null));
        rows.add(supported("spec.subsets[].labels", null));
        rows.addAll(trafficPolicy("spec.subsets[].trafficPolicy"));
        rows.addAll(portLevelSettings("spec.subsets[].trafficPolicy"));
        rows.add(supported("spec.subsets[].trafficPolicy.tunnel", TUNNEL));
        rows.add(supported("spec.subsets[].trafficPolicy.proxyProtocol", PROXY_PROTOCOL));
        rows.add(supported("spec.exportTo", "as Istio: the rule applies to the proxies of the namespaces named (. its own, * "
                + "all; unset: all); a proxy takes a rule its own namespace keeps for itself before one the service's "
                + "namespace exports to it, before one the root namespace exports; several for one host there are merged "
                + "(the oldest's trafficPolicy, every subset)"));
        rows.add(supported("spec.workloadSelector", "as Istio: the rule (never exported) applies only to the sidecars and "
                + "gateways of its namespace whose labels it selects, over a rule without a selector"));
        return rows;
    }

    private static final String PROXY_PROTOCOL = "upstream_proxy_protocol transport socket around the cluster's (raw_buffer, the "
            + "tls of SIMPLE, MUTUAL or ISTIO_MUTUAL, and auto mTLS's socket matches), as Istio's: the header goes first, then "
            + "the TLS handshake; no version is V1";

    /** Istio reads these files in the proxy's pod (through its agent's SDS); SourceMesh's pods mount no volumes. */

    /**
     * A policy's portLevelSettings, as Istio's GetPortLevelTrafficPolicy and MergeSubsetTrafficPolicy (pilot/pkg/networking/
     * util/util.go): each entry holds the fields a policy has, supported and warned alike.
     */
    private static List<FieldSupport> portLevelSettings(String at) {
        String p = at + ".portLevelSettings";
        List<FieldSupport> rows = new ArrayList<>(List.of(
                supported(p, "on the clusters of the port the entry names (the first entry for it), its loadBalancer, "
                        + "connectionPool, outlierDetection and tls replace the policy's whole: what it omits is the "
                        + "default, not inherited, and the policy's proxyProtocol does not apply there; a subset's entry "
                        + "replaces those four over the rule's; a route's hash policy is the port's consistentHash when it "
                        + "has one (a VirtualService destination with a port.number), as Istio"),
                supported(p + "[].port.number", null)));
        rows.addAll(trafficPolicy(p + "[]"));
        return rows;
    }

    private static List<FieldSupport> trafficPolicy(String at) {
        String lb = at + ".loadBalancer";
        return List.of(
                supported(lb + ".simple", "LEAST_CONN and UNSPECIFIED are LEAST_REQUEST, as in Istio").warning("PASSTHROUGH"),
                supported(lb + ".consistentHash.useSourceIp", null),
                supported(lb + ".consistentHash.httpHeaderName", null),
                supported(lb + ".consistentHash.httpCookie", "route hash_policy cookie: with a ttl, a request without the "
                        + "cookie gets one made up, sent back as Envoy's Set-Cookie (name=\"value\"; Max-Age unless the ttl "
                        + "is 0s; Path; the attributes; HttpOnly); without a ttl such a request goes to a random endpoint"),
                supported(lb + ".consistentHash.httpQueryParameterName", "the first value of that query parameter, not "
                        + "decoded"),
                supported(lb + ".consistentHash.ringHash.minimumRingSize", "the cluster's ring_hash_lb_config "
                        + "minimum_ring_size (0: Envoy's default); above Envoy's limit 8388608, the limit and a warning"),
                supported(lb + ".consistentHash.minimumRingSize", "as ringHash.minimumRingSize; without either, 1024 "
                        + "is written, as Istio"),
                supported(lb + ".consistentHash.maglev", "the cluster's lb_policy MAGLEV: Envoy's Maglev table, so a key "
                        + "reaches the endpoint Envoy's would; tableSize its maglev_lb_config table_size (0: Envoy's default "
                        + "65537; 1, which Istio's validation takes and no table can use, is warned and left out)"),
                supported(lb + ".localityLbSetting", "as Istio's locality load balancing (loadbalancer.go): the cluster's "
                        + "endpoints grouped by locality (a pod's from its Node's topology.kubernetes.io/region and zone and "
                        + "topology.istio.io/subzone labels, or its istio-locality label; an entry's or WorkloadEntry's "
                        + "locality); with outlierDetection each group's priority from the client's locality (same subzone 0, "
                        + "zone 1, region 2, else 3), refined by failover and failoverPriority, as applyLocalityFailover and "
                        + "applyFailoverPriorities; distribute sets the groups' weights and locality_weighted_lb_config, as "
                        + "applyLocalityWeights; enabled false turns it off. Without the setting, locality failover still "
                        + "applies with outlierDetection (Istio's mesh default), or meshConfig.localityLbSetting does (validated "
                        + "alike); nothing changes while no locality is known"),
                supported(lb + ".warmupDurationSecs", "deprecated: the cluster's slow_start_config slow_start_window "
                        + "(round_robin_lb_config, least_request_lb_config), as Istio, when warmup is not set; an endpoint "
                        + "that joins after the cluster's first endpoints takes a share ramping up from 10% over the window "
                        + "(Envoy's slow start, in the proxy); only with ROUND_ROBIN, LEAST_REQUEST (LEAST_CONN) or no "
                        + "simple: with RANDOM, PASSTHROUGH or consistentHash it has no effect, which apply warns of"),
                supported(lb + ".warmup", "the cluster's slow_start_config, as Istio's setWarmup: duration the window, "
                        + "minimumPercent its min_weight_percent (10 unset), aggression its aggression (1 unset); a joining "
                        + "endpoint's weight is scaled by max(minimumPercent/100, (t/duration)^(1/aggression)), as Envoy's; "
                        + "while every endpoint is in its window they share alike; with ROUND_ROBIN, LEAST_REQUEST "
                        + "(LEAST_CONN) or no simple only, as warmupDurationSecs"),
                supported(at + ".connectionPool", "Envoy circuit breakers: overflow is 503 with flag UO; a TCP service's "
                        + "connection past maxConnections waits for one to close (a pending request, up to "
                        + "http1MaxPendingRequests) or is closed (URX), as Envoy's TCP pool; the HTTP settings in the "
                        + "cluster's typed_extension_protocol_options (HttpProtocolOptions), as Istio; on the clients' "
                        + "outbound clusters and, as Istio's buildInboundCluster, the inbound clusters of the service's pods "
                        + "(under a Sidecar's inbound pool)"),
                supported(at + ".connectionPool.http.h2UpgradePolicy", "as Istio's applyH2Upgrade: UPGRADE makes the "
                        + "outbound cluster HTTP/2 (explicit http2_protocol_options; ALPN h2 under tls SIMPLE or MUTUAL), "
                        + "DO_NOT_UPGRADE keeps the port's protocol, DEFAULT follows the mesh config's h2UpgradePolicy for "
                        + "HTTP ports; http2, grpc and grpc-web ports are HTTP/2 clusters anyway, inbound too"),
                supported(at + ".connectionPool.http.useClientProtocol", "the cluster's use_downstream_protocol_config, as Istio: "
                        + "the client's protocol upstream (HTTP/2 for an HTTP/2 request, else HTTP/1.1)"),
                supported(at + ".connectionPool.http.maxConcurrentStreams", "the http2_protocol_options max_concurrent_streams "
                        + "of an http2 or grpc port's cluster, as Istio (not of one h2UpgradePolicy upgrades, which Istio "
                        + "upgrades after the connection pool): streams one upstream connection carries at once"),
                supported(at + ".connectionPool.http.http2KeepAlive", "the http2_protocol_options connection_keepalive "
                        + "(interval, timeout) of an http2 or grpc port's cluster, as Istio's applyConnectionPool (not of one "
                        + "h2UpgradePolicy upgrades, as maxConcurrentStreams): a PING every interval, the connection closed "
                        + "when one is not answered within the timeout"),
                supported(at + ".connectionPool.tcp.tcpKeepalive", "the cluster's upstream_connection_options.tcp_keepalive, "
                        + "as Istio: SO_KEEPALIVE on every upstream connection, probes, time and interval (whole seconds) as "
                        + "TCP_KEEPCNT, TCP_KEEPIDLE and TCP_KEEPINTVL, each unset one the kernel's default; a time or interval "
                        + "under a second, or beyond the kernel's bounds, is warned and left to the kernel"),
                supported(at + ".connectionPool.tcp.maxConnectionDuration",
                        "HTTP upstream connections are drained at that age (the cluster's max_connection_duration); the "
                        + "top-level trafficPolicy's also ends TCP connections (tcp_proxy's max_downstream_connection_duration),"
                        + " as Istio"),
                supported(at + ".outlierDetection", "consecutive 5xx and gateway-error ejection"),
                supported(at + ".outlierDetection.splitExternalLocalOriginErrors", "the cluster's "
                        + "split_external_local_origin_errors, as Istio: a failed connect, reset or timeout then counts only "
                        + "toward consecutive local-origin failures (each request's getting a connection resets them), the "
                        + "upstream's responses only toward the 5xx and gateway counts"),
                supported(at + ".outlierDetection.consecutiveLocalOriginFailures", "the cluster's "
                        + "consecutive_local_origin_failure, enforced at 100%, as Istio (Envoy's default 5 when unset); "
                        + "refused without splitExternalLocalOriginErrors, as Istio's validation"),
                supported(at + ".tls.mode", "DISABLE: plaintext; SIMPLE and MUTUAL: the cluster's UpstreamTlsContext (TLS "
                        + "1.2 to 1.3), as Istio's constructUpstreamTLS; a cluster whose TLS cannot be built (its Secret "
                        + "missing in the proxy's namespace) is left out, named in the warnings, so its requests fail rather "
                        + "than go out unverified; ISTIO_MUTUAL: the proxy's workload certificate from the mesh CA, the "
                        + "root, the subjectAltNames else the destination pods' service-account identities, sni "
                        + "outbound_.<port>_.<subset>_.<host> unless set, as Istio's buildIstioMutualTLS; without tls, auto "
                        + "mTLS per endpoint as Istio's transport_socket_matches (mTLS to each pod with a sidecar whose "
                        + "policy does not DISABLE it, plaintext to the others; meshConfig enableAutoMtls: false turns it off)"),
                supported(at + ".tls.credentialName", "Secrets in each client proxy's namespace, where Istio's SDS reads "
                        + "them, inlined: MUTUAL's key pair from <credentialName> (tls.crt/tls.key or cert/key), the server's "
                        + "CA from <credentialName>-cacert, else <credentialName> (cacert or ca.crt, with crl or ca.crl). "
                        + "Gateways take it from any rule; a sidecar, as Istio's buildUpstreamClusterTLSContext, only from a "
                        + "DestinationRule with a workloadSelector: from another its cluster sends no TLS, named in the "
                        + "rule's warnings; without it, the files the client proxy's pod mounts (caCertificates and the "
                        + "others below), and SIMPLE without caCertificates needs insecureSkipVerify (Istio would verify "
                        + "against the pod's system CA bundle, which SourceMesh's pods do not have: the cluster is left out, "
                        + "named in the rule's warnings); a configmap:// name is refused"),
                supported(at + ".tls.sni", "the SNI sent; without it, as Istio, each request's host (without its port) "
                        + "is the SNI (none for an IP address) and, unless subjectAltNames or insecureSkipVerify are set, a "
                        + "SAN the server's certificate must carry (Envoy's auto_sni and auto_san_validation; connections "
                        + "are pooled per host)"),
                supported(at + ".tls.subjectAltNames", "the server's certificate must carry one of them (exact, Envoy's "
                        + "match_subject_alt_names)"),
                supported(at + ".tls.insecureSkipVerify", "the server's certificate is not verified"),
                supported(at + ".tls.caCertificates", "the server's CA, per client proxy: " + POD_FILE
                        + " (the cluster, on that proxy)"),
                supported(at + ".tls.clientCertificate", "MUTUAL's client certificate, per client proxy: " + POD_FILE
                        + " (the cluster, on that proxy)"),
                supported(at + ".tls.privateKey", "MUTUAL's client key, per client proxy: " + POD_FILE
                        + " (the cluster, on that proxy)"),
                supported(at + ".tls.caCrl", "the CRL beside caCertificates, per client proxy: " + POD_FILE
                        + " (the cluster, on that proxy)"));
    }

    private static List<FieldSupport> envoyFilter() {
        String p = "spec.configPatches[]";
        String l = p + ".match.listener";
        String r = p + ".match.routeConfiguration";
        return List.of(
                supported("spec.workloadSelector", null), supported("spec.priority", null),
                refused("spec.targetRefs", "SourceMesh has no Kubernetes Gateway API Gateways or waypoints to target "
                        + "(Istio applies an EnvoyFilter with targetRefs to nothing else)"),
                supported(p + ".applyTo", "a patch the proxy cannot take is refused on the EnvoyFilter's status"),
                supported(p + ".match.context", null), supported(p + ".match.proxy.proxyVersion", null),
                supported(p + ".match.proxy.metadata", null),
                supported(l + ".portNumber", null), supported(l + ".name", null), supported(l + ".filterChain", null),
                refused(l + ".portName", "Istio does not implement it (its listener match never reads it, so the "
                        + "patch would apply to every port); use portNumber"),
                supported(l + ".listenerFilter", "as Istio: the listener filter (by exact name) a LISTENER_FILTER patch "
                        + "acts on; on any other applyTo, where Istio ignores it, the EnvoyFilter is refused on its status"),
                supported(r + ".portNumber", null), supported(r + ".name", null), supported(r + ".gateway", null),
                supported(r + ".vhost.name", null), supported(r + ".vhost.route", null),
                supported(r + ".portName", "as Istio on gateways: the Gateway server port name an HTTPS server's "
                        + "route configuration is named for (https.PORT.PORTNAME.GATEWAY.NAMESPACE); an http.PORT one never "
                        + "matches. Unlike Istio, which ignores it on sidecars, it never matches a sidecar's route "
                        + "configuration, and with a SIDECAR_* context the EnvoyFilter is refused on its status"),
                supported(r + ".vhost.domainName", "as Istio: one of the virtual host's domains, exactly"),
                supported(p + ".match.cluster", null),
                supported(p + ".patch.operation", null), supported(p + ".patch.value", "checked against Envoy's API when pushed"),
                warned(p + ".patch.filterClass", "as Istio, whose istiod never reads it: operation and match alone "
                        + "place the filter"));
    }

    private static KindSupport fields(FieldSupport... rows) {
        return fields(List.of(rows));
    }

    private static KindSupport fields(List<FieldSupport> rows) {
        List<FieldSupport> all = new ArrayList<>(SupportTable.envelope());
        all.addAll(rows);
        return new KindSupport.Fields(all);
    }
}
