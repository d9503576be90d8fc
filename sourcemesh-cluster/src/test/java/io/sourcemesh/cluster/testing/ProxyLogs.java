package io.sourcemesh.cluster.testing;

import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import io.sourcemesh.cluster.daemon.ClusterApi;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** A pod's istio-proxy JSON access log, read through the cluster's logs verb, as `kubectl logs -c istio-proxy` would. */
public final class ProxyLogs {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ProxyLogs() {
    }

    /**
     * The newest line {@code selects} picks, once {@code expected} holds for it: the line of a request
     * is written a moment after its response. Fails after 3 s, naming the newest line.
     */
    public static JsonNode await(ClusterApi cluster, String namespace, String pod, Predicate<JsonNode> selects,
            Predicate<JsonNode> expected) throws Exception {
        long deadline = System.currentTimeMillis() + 3000;
        JsonNode last;
        do {
            last = newest(cluster, namespace, pod, selects);
            // A line not written yet is no match, whatever expected takes (the log is written off the event loop).
            if (!last.isMissingNode() && expected.test(last)) {
                return last;
            }
            Thread.sleep(20);
        } while (System.currentTimeMillis() < deadline);
        throw new AssertionError("no matching access-log line of " + pod + "; the newest is " + last);
    }

    /**
     * The newest line {@code selects} picks, or a missing node. The last line may be one the proxy is still writing
     * (the file read mid-write ends inside it): cut short, it is not there yet; any other line must parse.
     */
    public static JsonNode newest(ClusterApi cluster, String namespace, String pod, Predicate<JsonNode> selects) throws Exception {
        List<String> lines = new ArrayList<>();
        cluster.logs(namespace, pod, "istio-proxy", false, -1, lines::add);
        for (int i = lines.size() - 1; i >= 0; i--) {
            String line = lines.get(i);
            if (line.startsWith("{")) {
                JsonNode json;
                try {
                    json = JSON.readTree(line);
                } catch (JsonEOFException partial) {
                    if (i == lines.size() - 1) {
                        continue;
                    }
                    throw partial;
                }
                if (selects.test(json)) {
                    return json;
                }
            }
        }
        return MissingNode.getInstance();
    }
}
