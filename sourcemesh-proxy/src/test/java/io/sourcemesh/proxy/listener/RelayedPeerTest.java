package io.sourcemesh.proxy.listener;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.Channel;
import io.sourcemesh.l4.embedded.Interception;
import io.sourcemesh.l4.embedded.OriginalDestinations;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.ProxyOptions;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.Origin;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A connection the embedded runtime relayed (a service VIP, its load balancer, kube-proxy) arrives from the relay's own
 * socket; on a node REDIRECT and DNAT leave the client's. The proxy takes the peer the relay put on record
 * ({@link OriginalDestinations#relayedPeer}) as the connection's peer at accept, on any listener, direct peer included.
 */
class RelayedPeerTest {
    @TempDir
    Path dir;
    private Origin origin;
    private Proxy proxy;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    @Test
    void aRelayedPeerIsTheConnectionsPeerDirectOneIncluded() throws Exception {
        origin = Origin.start();
        Path log = dir.resolve("tcp.log");
        InetSocketAddress client = new InetSocketAddress("127.0.0.77", 4242);
        AtomicReference<InetSocketAddress> onRecord = new AtomicReference<>(client);
        OriginalDestinations relays = new OriginalDestinations() {
            @Override
            public Optional<InetSocketAddress> lookup(Channel accepted) {
                return Optional.empty();
            }

            @Override
            public Optional<InetSocketAddress> relayedPeer(Channel accepted) {
                return Optional.ofNullable(onRecord.getAndSet(null)); // taken off the record, as Conntrack does
            }
        };
        String yaml = """
                static_resources:
                  listeners:
                  - name: gateway
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.tcp_proxy
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                          stat_prefix: gateway
                          cluster: backend
                          access_log:
                          - name: envoy.access_loggers.file
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                              path: LOG_PATH
                              log_format: {text_format_source: {inline_string: "%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_DIRECT_REMOTE_ADDRESS%\\n"}}
                  clusters:
                  - name: backend
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: backend
                      endpoints:
                      - lb_endpoints:
                        - endpoint:
                            address: {socket_address: {address: 127.0.0.1, port_value: ORIGIN_PORT}}
                """.replace("LOG_PATH", log.toString()).replace("ORIGIN_PORT", Integer.toString(origin.port()));
        proxy = Proxy.start(BootstrapLoader.loadText(yaml), ProxyOptions.defaults(1).withInterception(relays, Interception.NONE));
        String url = "http://127.0.0.1:" + proxy.listenerAddress("gateway").getPort() + "/";
        assertEquals(200, Curl.run("--local-port", "43100-43199", url).status());
        assertEquals(200, Curl.run("--local-port", "43200-43299", url).status());
        List<String> lines = LogFiles.awaitLines(log, 2);
        assertEquals("127.0.0.77:4242 127.0.0.77:4242", lines.get(0), "the relayed client, as the peer and the direct peer");
        String[] own = lines.get(1).split(" ");
        assertEquals(own[0], own[1], lines.get(1));
        int port = Integer.parseInt(own[0].substring(own[0].lastIndexOf(':') + 1));
        assertEquals(true, own[0].startsWith("127.0.0.1:") && port >= 43200 && port <= 43299,
                "nothing on record: the socket's own peer, curl's: " + lines.get(1));
    }
}
