package io.sourcemesh.proxy.rbac;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** An {@link RbacRequest} with every input spelled out, for engine tests. */
record TestRequest(InetSocketAddress directRemoteAddress, InetSocketAddress connectionRemoteAddress,
        InetSocketAddress remoteAddress, InetSocketAddress localAddress, String requestedServerName,
        Map<String, String> headers, Optional<String> path, boolean tls, List<String> peerPrincipals) implements RbacRequest {

    static InetSocketAddress addr(String ip, int port) {
        return new InetSocketAddress(io.sourcemesh.proxy.address.CidrRange.literal(ip), port);
    }

    /** A plain HTTP request from 10.0.0.1 (no PROXY header, no XFF) to 10.0.0.9:8080. */
    static TestRequest http(String path, Map<String, String> headers) {
        return new TestRequest(addr("10.0.0.1", 40000), addr("10.0.0.1", 40000), addr("10.0.0.1", 40000),
                addr("10.0.0.9", 8080), "", headers, Optional.of(path), false, List.of(""));
    }

    static TestRequest tcp(String direct, String proxied, String local, int port, String sni) {
        return new TestRequest(addr(direct, 40000), addr(proxied, 40001), addr(proxied, 40001), addr(local, port), sni, Map.of(),
                Optional.empty(), false, List.of(""));
    }

    TestRequest withAddresses(String direct, String source, String remote) {
        return new TestRequest(addr(direct, 1), addr(source, 2), addr(remote, 3), localAddress, requestedServerName, headers, path,
                tls, peerPrincipals);
    }

    /** The same request over TLS the proxy terminated, with the client certificate's names (none: {@code ""} only). */
    TestRequest overTls(String... principals) {
        return new TestRequest(directRemoteAddress, connectionRemoteAddress, remoteAddress, localAddress, requestedServerName,
                headers, path, true, principals.length == 0 ? List.of("") : List.of(principals));
    }

    @Override
    public Optional<String> header(String name) {
        if (name.equals(":path")) {
            return path;
        }
        return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
    }
}
