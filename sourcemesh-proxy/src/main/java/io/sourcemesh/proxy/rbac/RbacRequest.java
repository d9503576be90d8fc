package io.sourcemesh.proxy.rbac;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;

/**
 * What a policy is evaluated against: the addresses of a connection, and for HTTP the request's
 * headers and path. A network filter's request has no headers and no path.
 */
public interface RbacRequest {

    /** The TCP peer ({@code direct_remote_ip}). */
    InetSocketAddress directRemoteAddress();

    /** The connection's remote address: the peer or a PROXY protocol source ({@code source_ip}). */
    InetSocketAddress connectionRemoteAddress();

    /** The client after XFF handling ({@code remote_ip}); for a connection, its remote address. */
    InetSocketAddress remoteAddress();

    /** The destination ({@code destination_ip}, {@code destination_port}). */
    InetSocketAddress localAddress();

    /** SNI; Envoy matches an absent one as the empty string. */
    String requestedServerName();

    /**
     * Every value of a header joined with "," (Envoy's {@code getAllOfHeaderAsString}); the pseudo
     * headers {@code :path}, {@code :method}, {@code :authority} and {@code :scheme} included.
     */
    Optional<String> header(String name);

    /** {@code :path}, when this is an HTTP request. */
    Optional<String> path();

    /** Whether the proxy terminated TLS on the connection: {@code authenticated} needs it. */
    boolean tls();

    /**
     * The names {@code authenticated.principal_name} is tried against, in Envoy's order: the client certificate's URI
     * SANs, its DNS SANs, then its subject (RFC 2253) — just "" when the client presented no certificate.
     */
    List<String> peerPrincipals();

    /**
     * The stream's dynamic metadata struct of namespace {@code filter} (what an earlier filter set), or null; a
     * connection has none.
     */
    default ObjectNode dynamicMetadata(String filter) {
        return null;
    }

    /** {@link #peerPrincipals} from a certificate's parts (null: none presented). */
    static List<String> principals(List<String> uriSans, List<String> dnsSans, String subject) {
        List<String> all = new java.util.ArrayList<>(uriSans.size() + dnsSans.size() + 1);
        all.addAll(uriSans);
        all.addAll(dnsSans);
        all.add(subject == null ? "" : subject);
        return all;
    }
}
