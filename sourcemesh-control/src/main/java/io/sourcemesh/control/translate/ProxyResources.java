package io.sourcemesh.control.translate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.io.IOException;
import java.io.OutputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The Envoy v3 resources for one proxy: what LDS, CDS and RDS serve. The version is a digest of the
 * content, so equal config gives an equal version and any change gives a new one.
 */
public record ProxyResources(String version, List<Listener> listeners, List<Cluster> clusters,
        List<RouteConfiguration> routes, List<TranslationWarning> warnings) {

    public ProxyResources {
        listeners = List.copyOf(listeners);
        clusters = List.copyOf(clusters);
        routes = List.copyOf(routes);
        warnings = List.copyOf(warnings);
    }

    public static ProxyResources of(List<Listener> listeners, List<Cluster> clusters,
            List<RouteConfiguration> routes, List<TranslationWarning> warnings) {
        return new ProxyResources(digest(listeners, clusters, routes), listeners, clusters, routes, warnings);
    }

    /** New resources with the same warnings; the version is recomputed from the content. */
    public ProxyResources with(List<Listener> listeners, List<Cluster> clusters, List<RouteConfiguration> routes) {
        return of(listeners, clusters, routes, warnings);
    }

    public Optional<Listener> listener(String name) {
        return listeners.stream().filter(l -> l.getName().equals(name)).findFirst();
    }

    public Optional<Cluster> cluster(String name) {
        return clusters.stream().filter(c -> c.getName().equals(name)).findFirst();
    }

    public Optional<RouteConfiguration> route(String name) {
        return routes.stream().filter(r -> r.getName().equals(name)).findFirst();
    }

    /**
     * The same config with every RDS reference replaced by its route configuration inline, for a
     * static bootstrap (no management server to answer RDS). Names are kept, so logs match Istio's.
     */
    public ProxyResources withInlineRoutes() {
        Map<String, RouteConfiguration> byName = routes.stream()
                .collect(Collectors.toMap(RouteConfiguration::getName, Function.identity(), (a, b) -> a));
        List<Listener> inlined = new ArrayList<>();
        for (Listener l : listeners) {
            Listener.Builder lb = l.toBuilder();
            for (FilterChain.Builder fc : lb.getFilterChainsBuilderList()) {
                for (Filter.Builder f : fc.getFiltersBuilderList()) {
                    Any any = f.getTypedConfig();
                    if (!any.is(HttpConnectionManager.class)) {
                        continue;
                    }
                    HttpConnectionManager hcm = unpack(any, HttpConnectionManager.class);
                    if (hcm.hasRds() && byName.containsKey(hcm.getRds().getRouteConfigName())) {
                        f.setTypedConfig(Any.pack(hcm.toBuilder()
                                .setRouteConfig(byName.get(hcm.getRds().getRouteConfigName())).build()));
                    }
                }
            }
            inlined.add(lb.build());
        }
        return new ProxyResources(version, inlined, clusters, List.of(), warnings);
    }

    /**
     * A config_dump-like JSON document: version, listeners, clusters, routes (Envoy's snake_case JSON)
     * and warnings. Stable for equal input, so it serves as a golden file and for `proxy-config` output.
     */
    public String toJson() {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("version_info", version);
        try {
            var ls = root.putArray("listeners");
            for (Listener l : listeners) {
                ls.add(mapper.readTree(EnvoyTypes.json(l)));
            }
            var cs = root.putArray("clusters");
            for (Cluster c : clusters) {
                cs.add(mapper.readTree(EnvoyTypes.json(c)));
            }
            var rs = root.putArray("routes");
            for (RouteConfiguration r : routes) {
                rs.add(mapper.readTree(EnvoyTypes.json(r)));
            }
            var w = root.putArray("warnings");
            warnings.forEach(x -> w.add(x.toString()));
            return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static <T extends Message> T unpack(Any any, Class<T> type) {
        try {
            return any.unpack(type);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("bad " + type.getSimpleName() + " in " + any.getTypeUrl(), e);
        }
    }

    /**
     * SHA-256 over each message's deterministic wire form (map entries in key order), not its JSON: every push
     * digests every proxy's resources, and protobuf's JSON printer walks them by reflection (it was most of the
     * control plane's printing CPU in the demo). Equal content, equal bytes; an Any carries its packed bytes as built.
     */
    static String digest(List<Listener> listeners, List<Cluster> clusters, List<RouteConfiguration> routes) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            CodedOutputStream out = CodedOutputStream.newInstance(new DigestOutputStream(OutputStream.nullOutputStream(), md), 4096);
            out.useDeterministicSerialization();
            for (List<? extends Message> group : List.of(listeners, clusters, routes)) {
                out.writeUInt32NoTag(group.size()); // counted and delimited: a listener never passes for a cluster
                for (Message m : group) {
                    out.writeUInt32NoTag(m.getSerializedSize());
                    m.writeTo(out);
                }
            }
            out.flush();
            return HexFormat.of().formatHex(md.digest(), 0, 8);
        } catch (NoSuchAlgorithmException | IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
