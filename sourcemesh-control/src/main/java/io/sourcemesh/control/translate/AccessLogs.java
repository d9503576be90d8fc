package io.sourcemesh.control.translate;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.sourcemesh.proxy.accesslog.IstioFormats;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Istio's default access log with meshConfig.accessLogEncoding JSON (EnvoyJSONLogFormatIstio). */
public final class AccessLogs {
    public static final String FILE_LOGGER = "envoy.access_loggers.file";

    /** Key → Envoy command, in Istio's order. Values are Istio's own format strings. */
    public static final Map<String, String> ISTIO_JSON_FORMAT = istioFormat();

    private AccessLogs() {}

    /** The proxy's copy of Istio's format is the one source: both sides print the same keys. */
    private static Map<String, String> istioFormat() {
        Map<String, String> f = new LinkedHashMap<>();
        IstioFormats.DEFAULT_JSON.forEach((k, v) -> f.put(k, String.valueOf(v)));
        return Collections.unmodifiableMap(f);
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
