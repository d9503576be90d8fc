package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import com.google.protobuf.Descriptors.Descriptor;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter;
import io.envoyproxy.envoy.config.accesslog.v3.ExtensionFilter;
import io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter;
import io.sourcemesh.cel.CelExpression;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StderrAccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Access loggers: file (incl. /dev/stdout, /dev/stderr), stdout and stderr, text or JSON format. */
final class AccessLogs {

    /** Envoy's default access-log format, used when none is configured. */
    static final String DEFAULT_FORMAT = "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
            + "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
            + "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
            + "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n";

    /** Envoy's name of the CEL access-log filter, as Istio names it. */
    static final String CEL_FILTER = "envoy.access_loggers.extension_filters.cel";

    private AccessLogs() {}

    static List<AccessLogConfig> accessLogs(List<AccessLog> logs, String parentPath) {
        List<AccessLogConfig> out = new ArrayList<>();
        for (int i = 0; i < logs.size(); i++) {
            out.add(accessLog(logs.get(i), at(parentPath, "access_log", i)));
        }
        return out;
    }

    private static AccessLogConfig accessLog(AccessLog log, String path) {
        only(log, path, "name", "typed_config", "filter");
        Optional<String> filter = log.hasFilter() ? Optional.of(celFilter(log.getFilter(), at(path, "filter"))) : Optional.empty();
        return logger(log, path).withCelFilter(filter);
    }

    /**
     * Envoy's CEL filter ({@code extension_filter} {@code envoy.access_loggers.extension_filters.cel}, Istio's Telemetry
     * filter), its expression checked here so a config with one the proxy cannot evaluate is refused; no other filter is
     * implemented.
     */
    private static String celFilter(AccessLogFilter filter, String path) {
        only(filter, path, "extension_filter");
        ExtensionFilter ext = filter.getExtensionFilter();
        String at = at(path, "extension_filter");
        only(ext, at, "name", "typed_config");
        String celType = "type.googleapis.com/" + ExpressionFilter.getDescriptor().getFullName();
        if (!ext.getTypedConfig().getTypeUrl().equals(celType)) {
            throw new ConfigException(at(at, "typed_config"), (ext.hasTypedConfig() ? ext.getTypedConfig().getTypeUrl() : "(none)")
                    + " is not an access-log filter the proxy implements (only " + celType + ", " + CEL_FILTER + ")");
        }
        ExpressionFilter cel = Protos.unpack(ext.hasTypedConfig(), ext.getTypedConfig(), ExpressionFilter.getDefaultInstance(), at);
        only(cel, at(at, "typed_config"), "expression");
        try {
            return CelExpression.parse(cel.getExpression()).source();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(at(at(at, "typed_config"), "expression"), e.getMessage());
        }
    }

    private static AccessLogConfig logger(AccessLog log, String path) {
        Descriptor type = Protos.extension(log.getName(), log.hasTypedConfig(), log.getTypedConfig(), path);
        String name = log.getName().isEmpty() ? EnvoyTypes.nameOf(type) : log.getName();
        String config = at(path, "typed_config");
        if (type.equals(Protos.type(FileAccessLog.class))) {
            FileAccessLog file = Protos.unpack(log.hasTypedConfig(), log.getTypedConfig(), FileAccessLog.getDefaultInstance(), path);
            only(file, config, "path", "log_format", "format", "json_format");
            if (file.getPath().isEmpty()) {
                throw new ConfigException(at(config, "path"), "is required");
            }
            AccessLogConfig.Sink sink = switch (file.getPath()) {
                case "/dev/stdout" -> new AccessLogConfig.Sink(AccessLogConfig.Sink.Kind.STDOUT, Optional.empty());
                case "/dev/stderr" -> new AccessLogConfig.Sink(AccessLogConfig.Sink.Kind.STDERR, Optional.empty());
                default -> new AccessLogConfig.Sink(AccessLogConfig.Sink.Kind.FILE, Optional.of(file.getPath()));
            };
            return switch (file.getAccessLogFormatCase()) {
                case FORMAT -> new AccessLogConfig(name, sink, Optional.of(file.getFormat()), Optional.empty());
                case JSON_FORMAT -> new AccessLogConfig(name, sink, Optional.empty(),
                        Optional.of(jsonFormat(file.getJsonFormat(), at(config, "json_format"))));
                case LOG_FORMAT -> format(name, sink, file.getLogFormat(), at(config, "log_format"));
                default -> new AccessLogConfig(name, sink, Optional.of(DEFAULT_FORMAT), Optional.empty());
            };
        }
        if (type.equals(Protos.type(StdoutAccessLog.class))) {
            StdoutAccessLog out = Protos.unpack(log.hasTypedConfig(), log.getTypedConfig(), StdoutAccessLog.getDefaultInstance(), path);
            only(out, config, "log_format");
            var sink = new AccessLogConfig.Sink(AccessLogConfig.Sink.Kind.STDOUT, Optional.empty());
            return out.hasLogFormat() ? format(name, sink, out.getLogFormat(), at(config, "log_format"))
                    : new AccessLogConfig(name, sink, Optional.of(DEFAULT_FORMAT), Optional.empty());
        }
        if (type.equals(Protos.type(StderrAccessLog.class))) {
            StderrAccessLog err = Protos.unpack(log.hasTypedConfig(), log.getTypedConfig(), StderrAccessLog.getDefaultInstance(), path);
            only(err, config, "log_format");
            var sink = new AccessLogConfig.Sink(AccessLogConfig.Sink.Kind.STDERR, Optional.empty());
            return err.hasLogFormat() ? format(name, sink, err.getLogFormat(), at(config, "log_format"))
                    : new AccessLogConfig(name, sink, Optional.of(DEFAULT_FORMAT), Optional.empty());
        }
        throw new ConfigException(config, EnvoyTypes.typeUrl(type) + " is not an access logger");
    }

    private static AccessLogConfig format(String name, AccessLogConfig.Sink sink, SubstitutionFormatString format, String path) {
        only(format, path, "text_format", "text_format_source", "json_format");
        return switch (format.getFormatCase()) {
            case TEXT_FORMAT -> new AccessLogConfig(name, sink, Optional.of(format.getTextFormat()), Optional.empty());
            case TEXT_FORMAT_SOURCE -> new AccessLogConfig(name, sink,
                    Optional.of(Protos.text(format.getTextFormatSource(), at(path, "text_format_source"))), Optional.empty());
            case JSON_FORMAT -> {
                Map<String, Object> json = jsonFormat(format.getJsonFormat(), at(path, "json_format"));
                yield new AccessLogConfig(name, sink, Optional.empty(), Optional.of(json));
            }
            default -> throw new ConfigException(path, "one of text_format_source, json_format is required");
        };
    }

    /** Struct → ordered map of strings and nested maps, as the access log's json_format wants. */
    private static Map<String, Object> jsonFormat(Struct struct, String path) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Value> e : struct.getFieldsMap().entrySet()) {
            Value v = e.getValue();
            out.put(e.getKey(), switch (v.getKindCase()) {
                case STRING_VALUE -> v.getStringValue();
                case STRUCT_VALUE -> jsonFormat(v.getStructValue(), path + "." + e.getKey());
                default -> throw new ConfigException(path + "." + e.getKey(), "only format strings and nested objects are supported");
            });
        }
        return out;
    }
}
