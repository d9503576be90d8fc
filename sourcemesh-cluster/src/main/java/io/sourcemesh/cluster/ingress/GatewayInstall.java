package io.sourcemesh.cluster.ingress;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.controller.Admission;
import io.sourcemesh.cluster.store.ObjectStore;
import java.util.List;
import java.util.Map;

/**
 * The ingress gateway a mesh install brings (Istio's istio-ingressgateway chart, the ports the
 * user's document uses): a Deployment in istio-system running the proxy as a router, and a
 * LoadBalancer Service 80→8080 (http2), 443→8443 (https), externalTrafficPolicy Cluster. Its istio-proxy mounts the
 * chart's secretVolumes (optional Secrets istio-ingressgateway-certs and istio-ingressgateway-ca-certs).
 * Created when absent, never overwritten: the user's patches to it stay.
 */
public final class GatewayInstall {
    public static final String NAMESPACE = "istio-system";
    public static final String NAME = "istio-ingressgateway";
    /** Gateway server port → the port the gateway pod binds (the chart's targetPorts). */
    public static final Map<Integer, Integer> TARGET_PORTS = Map.of(80, 8080, 443, 8443);
    /**
     * The chart's secretVolumes: volume NAME is optional Secret istio-NAME, mounted into istio-proxy at /etc/istio/NAME,
     * where a Gateway server's serverCertificate, privateKey, caCertificates and caCrl may name files.
     */
    public static final List<String> SECRET_VOLUMES = List.of("ingressgateway-certs", "ingressgateway-ca-certs");

    private GatewayInstall() {}

    public static void ensure(ObjectStore store) {
        if (store.get(ResourceKind.DEPLOYMENT, NAMESPACE, NAME).isEmpty()) {
            store.create(KubeObject.of(deployment()));
        }
        if (store.get(ResourceKind.SERVICE, NAMESPACE, NAME).isEmpty()) {
            store.create(KubeObject.of(service()));
        }
    }

    static ObjectNode deployment() {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        d.put("apiVersion", "apps/v1").put("kind", "Deployment");
        ObjectNode meta = d.putObject("metadata");
        meta.put("name", NAME).put("namespace", NAMESPACE);
        labels(meta.putObject("labels"));
        ObjectNode spec = d.putObject("spec");
        spec.put("replicas", 1);
        labels(spec.putObject("selector").putObject("matchLabels"));
        ObjectNode template = spec.putObject("template");
        labels(template.putObject("metadata").putObject("labels"));
        ObjectNode podSpec = template.putObject("spec");
        ObjectNode proxy = podSpec.putArray("containers").addObject();
        proxy.put("name", "istio-proxy").put("image", Admission.PROXY_IMAGE);
        proxy.putArray("args").add("proxy").add("router");
        ArrayNode ports = proxy.putArray("ports");
        ports.addObject().put("containerPort", 8080).put("name", "http2").put("protocol", "TCP");
        ports.addObject().put("containerPort", 8443).put("name", "https").put("protocol", "TCP");
        // The chart's secretVolumes: Gateways name these files (Istio's "secure gateways (file mount)" task).
        ArrayNode mounts = proxy.putArray("volumeMounts");
        ArrayNode volumes = podSpec.putArray("volumes");
        for (String name : SECRET_VOLUMES) {
            mounts.addObject().put("name", name).put("mountPath", "/etc/istio/" + name).put("readOnly", true);
            volumes.addObject().put("name", name).putObject("secret").put("secretName", "istio-" + name).put("optional", true);
        }
        return d;
    }

    static ObjectNode service() {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("apiVersion", "v1").put("kind", "Service");
        ObjectNode meta = s.putObject("metadata");
        meta.put("name", NAME).put("namespace", NAMESPACE);
        labels(meta.putObject("labels"));
        ObjectNode spec = s.putObject("spec");
        spec.put("type", "LoadBalancer");
        labels(spec.putObject("selector"));
        ArrayNode ports = spec.putArray("ports");
        ports.addObject().put("name", "http2").put("port", 80).put("protocol", "TCP").put("targetPort", 8080);
        ports.addObject().put("name", "https").put("port", 443).put("protocol", "TCP").put("targetPort", 8443);
        spec.put("externalTrafficPolicy", "Cluster");
        return s;
    }

    private static void labels(ObjectNode labels) {
        labels.put("app", NAME).put("istio", "ingressgateway");
    }
}
