package io.sourcemesh.control.translate;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import java.util.LinkedHashMap;
import java.util.Map;

/** Istio's default access log with meshConfig.accessLogEncoding JSON (EnvoyJSONLogFormatIstio). */
public final class AccessLogs {
    public static final String FILE_LOGGER = "envoy.access_loggers.file";

    /** Key → Envoy command, in Istio's order. Values are Istio's own format strings. */
    public static final Map<String, String> ISTIO_JSON_FORMAT = istioFormat();

    private AccessLogs() {}

    private static Map<String, String> istioFormat() {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("start_time", "%START_TIME%");
        f.put("route_name", "%ROUTE_NAME%");
        f.put("method", "%REQ(:METHOD)%");
        f.put("path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%");
        f.put("protocol", "%PROTOCOL%");
        f.put("response_code", "%RESPONSE_CODE%");
        f.put("response_flags", "%RESPONSE_FLAGS%");
        f.put("response_code_details", "%RESPONSE_CODE_DETAILS%");
        f.put("connection_termination_details", "%CONNECTION_TERMINATION_DETAILS%");
        f.put("upstream_transport_failure_reason", "%UPSTREAM_TRANSPORT_FAILURE_REASON%");
        f.put("bytes_received", "%BYTES_RECEIVED%");
        f.put("bytes_sent", "%BYTES_SENT%");
        f.put("duration", "%DURATION%");
        f.put("upstream_service_time", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%");
        f.put("x_forwarded_for", "%REQ(X-FORWARDED-FOR)%");
        f.put("user_agent", "%REQ(USER-AGENT)%");
        f.put("request_id", "%REQ(X-REQUEST-ID)%");
        f.put("authority", "%REQ(:AUTHORITY)%");
        f.put("upstream_host", "%UPSTREAM_HOST%");
        f.put("upstream_cluster", "%UPSTREAM_CLUSTER%");
        f.put("upstream_local_address", "%UPSTREAM_LOCAL_ADDRESS%");
        f.put("downstream_local_address", "%DOWNSTREAM_LOCAL_ADDRESS%");
        f.put("downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%");
        f.put("requested_server_name", "%REQUESTED_SERVER_NAME%");
        return java.util.Collections.unmodifiableMap(f);
    }

    public static AccessLog istioJson(String path) {
        Struct.Builder json = Struct.newBuilder();
        ISTIO_JSON_FORMAT.forEach((k, v) -> json.putFields(k, Value.newBuilder().setStringValue(v).build()));
        FileAccessLog file = FileAccessLog.newBuilder()
                .setPath(path)
                .setLogFormat(SubstitutionFormatString.newBuilder().setJsonFormat(json))
                .build();
        return AccessLog.newBuilder().setName(FILE_LOGGER).setTypedConfig(Any.pack(file)).build();
    }
}
