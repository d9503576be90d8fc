package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Bootstraps.HCM;
import static io.sourcemesh.proxy.config.Bootstraps.hcm;
import static io.sourcemesh.proxy.config.Bootstraps.loadHcm;
import static io.sourcemesh.proxy.config.Bootstraps.loadTcp;
import static io.sourcemesh.proxy.config.Bootstraps.rejects;
import static io.sourcemesh.proxy.config.Bootstraps.tcp;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AccessLogTranslationTest {

    static final String FILE = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog";
    static final String STDOUT = "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog";
    static final String STDERR = "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog";

    static final String ENVOY_DEFAULT = "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
            + "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "
            + "\"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n";

    static AccessLogConfig one(String accessLogItem) {
        return loadHcm(hcm("access_log:\n" + accessLogItem.indent(0))).accessLogs().get(0);
    }

    static AccessLogConfig.Sink sink(AccessLogConfig.Sink.Kind kind) {
        return new AccessLogConfig.Sink(kind, Optional.empty());
    }

    @Test
    void fileWithoutFormatUsesEnvoysDefault() {
        assertEquals(new AccessLogConfig("envoy.access_loggers.file",
                new AccessLogConfig.Sink(AccessLogConfig.Sink.Kind.FILE, Optional.of("/var/log/access.log")),
                Optional.of(ENVOY_DEFAULT), Optional.empty()),
                one("- name: envoy.access_loggers.file\n  typed_config: {\"@type\": " + FILE + ", path: /var/log/access.log}"));
    }

    @Test
    void devStdoutAndStderrAreStreams() {
        assertEquals(sink(AccessLogConfig.Sink.Kind.STDOUT),
                one("- name: a\n  typed_config: {\"@type\": " + FILE + ", path: /dev/stdout}").sink());
        assertEquals(sink(AccessLogConfig.Sink.Kind.STDERR),
                one("- name: a\n  typed_config: {\"@type\": " + FILE + ", path: /dev/stderr}").sink());
        AccessLogConfig out = one("- name: envoy.access_loggers.stdout\n  typed_config: {\"@type\": " + STDOUT + "}");
        assertEquals(new AccessLogConfig("envoy.access_loggers.stdout", sink(AccessLogConfig.Sink.Kind.STDOUT), Optional.of(ENVOY_DEFAULT),
                Optional.empty()), out);
        AccessLogConfig err = one("- name: envoy.access_loggers.stderr");
        assertEquals(sink(AccessLogConfig.Sink.Kind.STDERR), err.sink());
    }

    @Test
    void textFormats() {
        assertEquals(Optional.of("%DOWNSTREAM_REMOTE_ADDRESS%\n"), one("""
                - name: a
                  typed_config: {"@type": %s, path: /dev/stdout, log_format: {text_format_source: {inline_string: "%%DOWNSTREAM_REMOTE_ADDRESS%%\\n"}}}
                """.formatted(FILE)).textFormat());
        assertEquals(Optional.of("%UPSTREAM_HOST%"), one("""
                - name: a
                  typed_config: {"@type": %s, path: /dev/stdout, format: "%%UPSTREAM_HOST%%"}
                """.formatted(FILE)).textFormat());
        assertEquals(Optional.of("%PROTOCOL%"), one("""
                - name: a
                  typed_config: {"@type": %s, log_format: {text_format: "%%PROTOCOL%%"}}
                """.formatted(STDERR)).textFormat());
    }

    @Test
    void jsonFormatsKeepOrderAndNesting() {
        AccessLogConfig log = one("""
                - name: a
                  typed_config:
                    "@type": %s
                    log_format:
                      json_format:
                        start_time: "%%START_TIME%%"
                        downstream_remote_address: "%%DOWNSTREAM_REMOTE_ADDRESS%%"
                        upstream: {host: "%%UPSTREAM_HOST%%", local: "%%UPSTREAM_LOCAL_ADDRESS%%"}
                        authority: "%%REQ(:AUTHORITY)%%"
                """.formatted(STDOUT));
        Map<String, Object> upstream = new LinkedHashMap<>();
        upstream.put("host", "%UPSTREAM_HOST%");
        upstream.put("local", "%UPSTREAM_LOCAL_ADDRESS%");
        Map<String, Object> json = log.jsonFormat().orElseThrow();
        assertEquals(List.of("start_time", "downstream_remote_address", "upstream", "authority"), List.copyOf(json.keySet()));
        assertEquals(upstream, json.get("upstream"));
        assertEquals(Optional.empty(), log.textFormat());
        Map<String, Object> legacy = one("""
                - name: a
                  typed_config: {"@type": %s, path: /dev/stdout, json_format: {b: "%%PROTOCOL%%", a: "%%DURATION%%"}}
                """.formatted(FILE)).jsonFormat().orElseThrow();
        assertEquals(List.of("b", "a"), List.copyOf(legacy.keySet()));
    }

    static final String CEL = "type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter";

    @Test
    void celFilterAsIstioWritesIt() {
        AccessLogConfig c = one("- name: a\n  typed_config: {\"@type\": " + STDOUT + "}\n  filter: {extension_filter: "
                + "{name: envoy.access_loggers.extension_filters.cel, typed_config: {\"@type\": " + CEL
                + ", expression: \"response.code >= 400\"}}}");
        assertEquals(Optional.of("response.code >= 400"), c.celFilter());
        assertEquals(Optional.empty(), one("- name: a\n  typed_config: {\"@type\": " + STDOUT + "}").celFilter());
    }

    @Test
    void tcpProxyAccessLog() {
        TcpProxyConfig t = loadTcp(tcp("access_log:\n- name: envoy.access_loggers.stdout\n"));
        assertEquals(List.of(new AccessLogConfig("envoy.access_loggers.stdout", sink(AccessLogConfig.Sink.Kind.STDOUT),
                Optional.of(ENVOY_DEFAULT), Optional.empty())), t.accessLogs());
    }

    @Test
    void rejections() {
        rejects(hcm("access_log:\n- name: envoy.access_loggers.file\n  filter: {status_code_filter: {}}\n"),
                HCM + ".access_log[0].filter.status_code_filter: field is not supported");
        rejects(hcm("access_log:\n- name: a\n  typed_config: {\"@type\": " + STDOUT + "}\n  filter: {extension_filter: "
                        + "{name: envoy.access_loggers.extension_filters.cel, typed_config: {\"@type\": " + CEL
                        + ", expression: \"request.url_path.contains('x')\"}}}\n"),
                HCM + ".access_log[0].filter.extension_filter.typed_config.expression: CEL expression \"request.url_path"
                        + ".contains('x')\": \"request.url_path.contains(\": functions, macros and indexing are not supported; "
                        + "SourceMesh evaluates comparisons (== != < <= > >=) of attributes and int, string or bool literals, "
                        + "with && || ! and parentheses");
        rejects(hcm("access_log:\n- name: a\n  typed_config: {\"@type\": " + STDOUT + "}\n  filter: {extension_filter: "
                        + "{name: x, typed_config: {\"@type\": " + STDOUT + "}}}\n"),
                HCM + ".access_log[0].filter.extension_filter.typed_config: " + STDOUT + " is not an access-log filter the proxy "
                        + "implements (only " + CEL + ", envoy.access_loggers.extension_filters.cel)");
        rejects(hcm("access_log:\n- name: envoy.access_loggers.file\n"), HCM + ".access_log[0].typed_config.path: is required");
        rejects(hcm("access_log:\n- name: a\n  typed_config: {\"@type\": " + STDOUT + ", log_format: {json_format: {a: 1}}}\n"),
                HCM + ".access_log[0].typed_config.log_format.json_format.a: only format strings and nested objects are supported");
        rejects(hcm("access_log:\n- name: a\n  typed_config: {\"@type\": " + STDOUT
                        + ", log_format: {text_format: x, omit_empty_values: true}}\n"),
                HCM + ".access_log[0].typed_config.log_format.omit_empty_values: field is not supported");
        rejects(hcm("access_log:\n- name: envoy.access_loggers.open_telemetry\n"),
                HCM + ".access_log[0].name: envoy.access_loggers.open_telemetry is not supported");
        rejects(hcm("access_log:\n- name: a\n  typed_config: {\"@type\": " + Bootstraps.ROUTER_TYPE + "}\n"),
                HCM + ".access_log[0].typed_config: " + Bootstraps.ROUTER_TYPE + " is not an access logger");
    }
}
