package io.sourcemesh.cluster.kubeproxy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.LabelSelector;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** Reading a Service spec the way kube-proxy and the cloud provider do. */
public final class ServiceSpecs {
    public static final String LOAD_BALANCER = "LoadBalancer";
    public static final String NODE_PORT = "NodePort";
    public static final String LOCAL = "Local";

    private ServiceSpecs() {}

    public static String type(KubeObject svc) {
        return svc.spec().path("type").asText("ClusterIP");
    }

    /** NodePort and LoadBalancer services are served on every node's address. */
    public static boolean exposedOnNodes(KubeObject svc) {
        String type = type(svc);
        return type.equals(NODE_PORT) || type.equals(LOAD_BALANCER);
    }

    public static boolean loadBalancer(KubeObject svc) {
        return type(svc).equals(LOAD_BALANCER);
    }

    /** externalTrafficPolicy: Local keeps the client's address and serves only node-local endpoints. */
    public static boolean local(KubeObject svc) {
        return svc.spec().path("externalTrafficPolicy").asText("Cluster").equals(LOCAL);
    }

    /**
     * Whether {@code pod} is one of the service's cluster IP endpoints: selected, and ready unless the service publishes
     * not-ready addresses (the endpoints controller's publishNotReadyAddresses: every selected pod with an address).
     */
    public static boolean endpoint(KubeObject svc, KubeObject pod, boolean ready) {
        return selects(svc, pod) && (ready || svc.spec().path("publishNotReadyAddresses").asBoolean(false));
    }

    /** internalTrafficPolicy: Local sends cluster IP traffic from inside the cluster only to the client's node's endpoints. */
    public static boolean internalLocal(KubeObject svc) {
        return svc.spec().path("internalTrafficPolicy").asText("Cluster").equals(LOCAL);
    }

    /**
     * sessionAffinity ClientIP's timeout (sessionAffinityConfig.clientIP.timeoutSeconds, the API server's default 10800 s);
     * empty without ClientIP affinity.
     */
    public static Optional<Duration> clientIpAffinity(KubeObject svc) {
        if (!svc.spec().path("sessionAffinity").asText("None").equals("ClientIP")) {
            return Optional.empty();
        }
        long seconds = svc.spec().path("sessionAffinityConfig").path("clientIP").path("timeoutSeconds").asLong(0);
        return Optional.of(Duration.ofSeconds(seconds > 0 ? seconds : 10800));
    }

    public static int healthCheckNodePort(KubeObject svc) {
        return svc.spec().path("healthCheckNodePort").asInt(0);
    }

    public static LabelSelector selector(KubeObject svc) {
        Map<String, String> out = new LinkedHashMap<>();
        svc.spec().path("selector").fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return LabelSelector.fromMap(out);
    }

    /** Whether a pod backs the service: same namespace, matched by a non-empty selector. */
    public static boolean selects(KubeObject svc, KubeObject pod) {
        LabelSelector s = selector(svc);
        return !s.isEverything() && pod.namespace().equals(svc.namespace()) && s.matches(pod.labels());
    }

    /** TCP service port → its node port, for the ports that have one. */
    public static Map<Integer, Integer> nodePorts(KubeObject svc) {
        Map<Integer, Integer> out = new LinkedHashMap<>();
        for (JsonNode p : svc.spec().path("ports")) {
            if (tcp(p) && p.path("nodePort").asInt(0) > 0) {
                out.put(p.path("port").asInt(), p.path("nodePort").asInt());
            }
        }
        return out;
    }

    /** Every TCP port has its nodePort (the API server's pass may not have run yet). */
    public static boolean nodePortsAllocated(KubeObject svc) {
        for (JsonNode p : svc.spec().path("ports")) {
            if (tcp(p) && p.path("nodePort").asInt(0) <= 0) {
                return false;
            }
        }
        return true;
    }

    public static boolean tcp(JsonNode port) {
        return port.path("protocol").asText("TCP").equals("TCP");
    }

    /** The pod port a service port sends to: a number, a named container port, or the service port. */
    public static int targetPort(JsonNode servicePort, KubeObject pod) {
        JsonNode tp = servicePort.path("targetPort");
        if (tp.isInt()) {
            return tp.asInt();
        }
        if (tp.isTextual() && !tp.asText().isEmpty()) {
            if (tp.asText().chars().allMatch(Character::isDigit)) {
                return Integer.parseInt(tp.asText());
            }
            for (JsonNode c : pod.spec().path("containers")) {
                for (JsonNode p : c.path("ports")) {
                    if (p.path("name").asText().equals(tp.asText())) {
                        return p.path("containerPort").asInt();
                    }
                }
            }
        }
        return servicePort.path("port").asInt();
    }
}
