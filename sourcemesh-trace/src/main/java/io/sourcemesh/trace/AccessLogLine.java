package io.sourcemesh.trace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One access-log line in Istio's default JSON encoding or its default TEXT format
 * (pilot/pkg/model/telemetry_logging.go, EnvoyTextLogFormat): the fields a trace compares.
 */
public record AccessLogLine(String requestId, String userAgent, String upstreamCluster, String downstreamRemote, String upstreamLocal, String xff) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Istio's TEXT format, field by field: quoted fields may hold spaces, the others do not. */
    private static final Pattern TEXT = Pattern.compile("^\\[[^\\]]*\\] \"[^\"]*\" \\S+ \\S+ \\S+ \\S+ \"[^\"]*\" \\S+ \\S+ \\S+ \\S+ "
            + "\"([^\"]*)\" \"([^\"]*)\" \"([^\"]*)\" \"[^\"]*\" \"[^\"]*\" (\\S+) (\\S+) \\S+ (\\S+)");

    public static Optional<AccessLogLine> parse(String line) {
        String l = line.strip();
        if (l.startsWith("{")) {
            try {
                JsonNode j = JSON.readTree(l);
                return Optional.of(new AccessLogLine(text(j, "request_id"), text(j, "user_agent"), text(j, "upstream_cluster"), text(j, "downstream_remote_address"),
                        text(j, "upstream_local_address"), text(j, "x_forwarded_for")));
            } catch (java.io.IOException e) {
                return Optional.empty();
            }
        }
        Matcher m = TEXT.matcher(l);
        if (!m.find()) {
            return Optional.empty();
        }
        return Optional.of(new AccessLogLine(dash(m.group(3)), dash(m.group(2)), dash(m.group(4)), dash(m.group(6)), dash(m.group(5)), dash(m.group(1))));
    }

    private static String text(JsonNode j, String f) {
        JsonNode v = j.path(f);
        return v.isMissingNode() || v.isNull() ? null : v.asText();
    }

    private static String dash(String s) {
        return s.equals("-") ? null : s;
    }

    /** The IP of an {@code ip:port} (IPv6 in brackets as Envoy prints it). */
    public static String host(String address) {
        if (address == null) {
            return null;
        }
        if (address.startsWith("[")) {
            return address.substring(1, address.indexOf(']'));
        }
        int colon = address.lastIndexOf(':');
        return colon < 0 ? address : address.substring(0, colon);
    }
}
