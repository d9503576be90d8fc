package io.sourcemesh.control.integration;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.sourcemesh.control.translate.EnvoyTypes;
import io.sourcemesh.control.translate.ProxyResources;
import io.sourcemesh.proxy.config.ConfigTranslator;
import io.sourcemesh.proxy.config.NodeInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every config the control plane produces (its golden files) is accepted whole by our proxy's config loader. */
class TranslatedConfigLoadsInProxyTest {
    static Stream<Path> goldens() throws Exception {
        // golden/ and golden/authz/ (the RBAC filters); golden/envoyfilter/ holds patch cases, not whole configs
        return Stream.concat(Files.list(Path.of("src/test/resources/golden")), Files.list(Path.of("src/test/resources/golden/authz")))
                .filter(p -> p.toString().endsWith(".json")).sorted();
    }

    @ParameterizedTest
    @MethodSource("goldens")
    void proxyAcceptsTranslatedConfig(Path golden) throws Exception {
        JsonNode root = new ObjectMapper().readTree(golden.toFile());
        List<Listener> listeners = new ArrayList<>();
        for (JsonNode n : root.path("listeners")) {
            Listener.Builder b = Listener.newBuilder();
            EnvoyTypes.parser().merge(n.toString(), b);
            listeners.add(b.build());
        }
        List<Cluster> clusters = new ArrayList<>();
        for (JsonNode n : root.path("clusters")) {
            Cluster.Builder b = Cluster.newBuilder();
            EnvoyTypes.parser().merge(n.toString(), b);
            clusters.add(b.build());
        }
        List<RouteConfiguration> routes = new ArrayList<>();
        for (JsonNode n : root.path("routes")) {
            RouteConfiguration.Builder b = RouteConfiguration.newBuilder();
            EnvoyTypes.parser().merge(n.toString(), b);
            routes.add(b.build());
        }
        ProxyResources inline = ProxyResources.of(listeners, clusters, routes, List.of()).withInlineRoutes();
        assertDoesNotThrow(() -> ConfigTranslator.fromResources(inline.listeners(), inline.clusters(), "v1", NodeInfo.unnamed()));
    }
}
