package io.sourcemesh.control.envoyfilter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.sourcemesh.control.translate.EnvoyTypes;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** One entry of EnvoyFilter.spec.configPatches, validated and with its value parsed to the Envoy type. */
record ConfigPatch(int index, ApplyTo applyTo, Operation operation, Context context, Pattern proxyVersion,
        JsonNode match, Message value) {

    enum ApplyTo {
        LISTENER(Listener.getDefaultInstance()),
        LISTENER_FILTER(ListenerFilter.getDefaultInstance()),
        FILTER_CHAIN(FilterChain.getDefaultInstance()),
        NETWORK_FILTER(Filter.getDefaultInstance()),
        HTTP_FILTER(HttpFilter.getDefaultInstance()),
        ROUTE_CONFIGURATION(RouteConfiguration.getDefaultInstance()),
        VIRTUAL_HOST(VirtualHost.getDefaultInstance()),
        HTTP_ROUTE(Route.getDefaultInstance()),
        CLUSTER(Cluster.getDefaultInstance());

        final Message prototype;

        ApplyTo(Message prototype) {
            this.prototype = prototype;
        }
    }

    enum Operation { MERGE, ADD, REMOVE, INSERT_BEFORE, INSERT_AFTER, INSERT_FIRST, REPLACE }

    enum Context { ANY, SIDECAR_INBOUND, SIDECAR_OUTBOUND, GATEWAY }

    /** Operations Istio accepts per applyTo (pilot/pkg/networking/core/envoyfilter and its validation). */
    private static final Map<ApplyTo, Set<Operation>> SUPPORTED = Map.of(
            ApplyTo.LISTENER, Set.of(Operation.MERGE, Operation.ADD, Operation.REMOVE),
            ApplyTo.LISTENER_FILTER, Set.of(Operation.values()),
            ApplyTo.FILTER_CHAIN, Set.of(Operation.MERGE, Operation.ADD, Operation.REMOVE),
            ApplyTo.NETWORK_FILTER, Set.of(Operation.values()),
            ApplyTo.HTTP_FILTER, Set.of(Operation.values()),
            ApplyTo.ROUTE_CONFIGURATION, Set.of(Operation.MERGE),
            ApplyTo.VIRTUAL_HOST, Set.of(Operation.MERGE, Operation.ADD, Operation.REMOVE),
            ApplyTo.HTTP_ROUTE, Set.of(Operation.MERGE, Operation.ADD, Operation.REMOVE, Operation.INSERT_BEFORE,
                    Operation.INSERT_AFTER, Operation.INSERT_FIRST),
            ApplyTo.CLUSTER, Set.of(Operation.MERGE, Operation.ADD, Operation.REMOVE));

    private static final ObjectMapper JSON = new ObjectMapper();

    static ConfigPatch parse(int index, JsonNode node) {
        ApplyTo applyTo = enumOf(ApplyTo.class, node.path("applyTo").asText(""), index, "applyTo");
        JsonNode patch = node.path("patch");
        Operation op = enumOf(Operation.class, patch.path("operation").asText(""), index, "patch.operation");
        if (!SUPPORTED.get(applyTo).contains(op)) {
            throw new PatchException(index, "operation " + op + " is not supported for " + applyTo);
        }
        JsonNode match = node.path("match");
        String ctx = match.path("context").asText("ANY");
        Context context = enumOf(Context.class, ctx.isEmpty() ? "ANY" : ctx, index, "match.context");
        refuseBroadening(index, applyTo, context, match);
        Pattern version = null;
        String pv = match.path("proxy").path("proxyVersion").asText("");
        if (!pv.isEmpty()) {
            try {
                version = Pattern.compile(pv);
            } catch (PatternSyntaxException e) {
                // Istio compiles it with Go's regexp (RE2 syntax), as RE2/J does
                throw new PatchException(index, "bad proxyVersion regex '" + pv + "': " + e.getMessage());
            }
        }
        Message value = null;
        if (op != Operation.REMOVE) {
            JsonNode v = patch.path("value");
            if (!v.isObject()) {
                throw new PatchException(index, "patch.value is required for " + op);
            }
            value = parseValue(index, applyTo, v);
        }
        return new ConfigPatch(index, applyTo, op, context, version, match, value);
    }

    /**
     * Match fields Istio accepts but never reads where they are set here: ignoring them would apply the patch
     * more widely than asked, so the EnvoyFilter is refused instead.
     */
    private static void refuseBroadening(int index, ApplyTo applyTo, Context context, JsonNode match) {
        if (!match.path("listener").path("portName").asText("").isEmpty()) {
            // istio/api: "Not implemented"; Istio's listenerMatch never reads it.
            throw new PatchException(index, "match.listener.portName '" + match.path("listener").path("portName")
                    .asText() + "' is not implemented by Istio (it would match every port); use match.listener"
                    + ".portNumber");
        }
        if (!match.path("listener").path("listenerFilter").asText("").isEmpty() && applyTo != ApplyTo.LISTENER_FILTER) {
            // Istio reads it only for LISTENER_FILTER patches; elsewhere it would match every listener.
            throw new PatchException(index, "match.listener.listenerFilter only selects the listener filter of a "
                    + "LISTENER_FILTER patch, not a " + applyTo + " patch (Istio ignores it there)");
        }
        if (!match.path("routeConfiguration").path("portName").asText("").isEmpty()
                && (context == Context.SIDECAR_INBOUND || context == Context.SIDECAR_OUTBOUND)) {
            throw new PatchException(index, "match.routeConfiguration.portName applies only to the GATEWAY context, "
                    + "not " + context);
        }
    }

    /** YAML → JSON → protobuf JSON parser with our Envoy types: unknown fields and @types are errors. */
    private static Message parseValue(int index, ApplyTo applyTo, JsonNode value) {
        Message.Builder b = applyTo.prototype.newBuilderForType();
        try {
            EnvoyTypes.parser().merge(JSON.writeValueAsString(value), b);
            return b.build();
        } catch (InvalidProtocolBufferException | JsonProcessingException e) {
            throw new PatchException(index, "patch.value is not a valid " + b.getDescriptorForType().getFullName()
                    + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new PatchException(index, "patch.value cannot be converted: " + e, e);
        }
    }

    private static <E extends Enum<E>> E enumOf(Class<E> type, String value, int index, String field) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new PatchException(index, field + " '" + value + "' is not supported");
        }
    }

    JsonNode listenerMatch() {
        return match.path("listener");
    }

    JsonNode routeMatch() {
        return match.path("routeConfiguration");
    }

    JsonNode clusterMatch() {
        return match.path("cluster");
    }
}
