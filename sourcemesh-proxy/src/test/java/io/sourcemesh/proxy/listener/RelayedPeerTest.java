package io.sourcemesh.proxy.listener;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.channel.Channel;
import io.sourcemesh.l4.embedded.Interception;
import io.sourcemesh.l4.embedded.OriginalDestinations;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.ProxyOptions;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.Origin;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
    private static final ObjectMapper JSON = new ObjectMapper();
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
        proxy = Proxy.start(proxy(List.of(listener("gateway", "127.0.0.1", List.of(), chain(tcp("backend",
                List.of(fileLog(log, Map.of("remote", "%DOWNSTREAM_REMOTE_ADDRESS%",
                        "direct", "%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%"))))))),
                List.of(staticCluster("backend", origin.address()))),
                ProxyOptions.defaults(1).withInterception(relays, Interception.NONE));
        String url = "http://127.0.0.1:" + proxy.listenerAddress("gateway").getPort() + "/";
        assertEquals(200, Curl.run("--local-port", "43100-43199", url).status());
        assertEquals(200, Curl.run("--local-port", "43200-43299", url).status());
        List<String> lines = LogFiles.awaitLines(log, 2);
        JsonNode relayed = JSON.readTree(lines.get(0));
        assertEquals("127.0.0.77:4242", relayed.path("remote").asText(), "the relayed client as the peer: " + relayed);
        assertEquals("127.0.0.77:4242", relayed.path("direct").asText(), "and as the direct peer: " + relayed);
        JsonNode own = JSON.readTree(lines.get(1));
        String peer = own.path("remote").asText();
        assertEquals(peer, own.path("direct").asText(), own.toString());
        int port = Integer.parseInt(peer.substring(peer.lastIndexOf(':') + 1));
        assertEquals(true, peer.startsWith("127.0.0.1:") && port >= 43200 && port <= 43299,
                "nothing on record: the socket's own peer, curl's: " + own);
    }
}
