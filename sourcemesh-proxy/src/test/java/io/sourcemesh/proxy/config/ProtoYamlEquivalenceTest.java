package io.sourcemesh.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The one YAML-to-proto reader ({@link ProtoYaml}) reads what the old Jackson + {@code JsonFormat} path
 * read, to equal messages, and refuses what it refused at the same field: every bootstrap in the
 * repository (samples, the bench's, the CLI's training one, test fixtures, and the bootstraps inside
 * the Istio config dumps the trace tests keep), then edge cases of the JSON mapping and malformed input.
 * (Every translator test's bootstrap is compared the same way, in {@code Bootstraps.load}.)
 */
class ProtoYamlEquivalenceTest {

    private static final Pattern BOOTSTRAP = Pattern.compile("static_resources|staticResources|(?m)^node:");

    @TestFactory
    Stream<DynamicTest> everyBootstrapInTheRepository() throws IOException {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(repo)) {
            files = walk.filter(Files::isRegularFile)
                    .filter(p -> p.toString().matches(".*\\.(yaml|yml|json)$"))
                    .filter(p -> !repo.relativize(p).toString().matches("(.*/)?(target|\\.git|node_modules)/.*"))
                    .filter(p -> BOOTSTRAP.matcher(read(p)).find())
                    .sorted().toList();
        }
        assertTrue(files.size() >= 20, "the repository's bootstraps: " + files);
        List<DynamicTest> tests = new ArrayList<>();
        for (Path file : files) {
            String text = read(file);
            String name = repo.relativize(file).toString();
            List<String> bootstraps = configDumpBootstraps(text);
            if (bootstraps.isEmpty()) {
                tests.add(DynamicTest.dynamicTest(name, () -> LegacyEquivalence.check(text)));
            }
            for (int i = 0; i < bootstraps.size(); i++) {
                String b = bootstraps.get(i);
                tests.add(DynamicTest.dynamicTest(name + " bootstrap " + i, () -> LegacyEquivalence.check(b)));
            }
        }
        return tests.stream();
    }

    /** A config dump's bootstraps (BootstrapConfigDump.bootstrap), as JSON; none for a plain bootstrap. */
    private static List<String> configDumpBootstraps(String text) throws IOException {
        if (!text.stripLeading().startsWith("{")) {
            return List.of();
        }
        JsonNode tree = new ObjectMapper().readTree(text);
        List<String> out = new ArrayList<>();
        for (JsonNode config : tree.path("configs")) {
            if (config.has("bootstrap")) {
                out.add(config.get("bootstrap").toString());
            }
        }
        return out;
    }

    @Test
    void scalarsAreTypedAsJacksonTypedThem() {
        for (String node : List.of(
                "{id: yes, cluster: 0x1F}", "{id: 1.50, cluster: 1e5}", "{id: 0777, cluster: +5}", "{id: 1_000, cluster: '1_000'}",
                "{id: on, cluster: 'on'}", "{id: ~, cluster: ''}", "{id: 2001-12-14, cluster: 1:30}", "{id: -0, cluster: 12345678901234567890}",
                "{id: !!str 12, cluster: \"a\\tb\"}", "{metadata: {a: yes, b: 0x10, c: 1.5, d: ~, e: [1, x, null, {f: g}], h: '3'}}",
                "{metadata: {}}", "{metadata: ~}", "{user_agent_name: x, user_agent_version: y}",
                "{user_agent_name: x, user_agent_version: ~, user_agent_build_version: {version: {major_number: 1}}}")) {
            LegacyEquivalence.check("node: " + node + "\n");
        }
    }

    @Test
    void theJsonMappingOfTheWellKnownTypes() {
        for (String cluster : List.of(
                "{name: c, connect_timeout: 1.5s}", "{name: c, connect_timeout: \"-0.000000001s\"}", "{name: c, connect_timeout: 3.s}",
                "{name: c, per_connection_buffer_limit_bytes: 32768}", "{name: c, per_connection_buffer_limit_bytes: '32768'}",
                "{name: c, per_connection_buffer_limit_bytes: 1.0e3}", "{name: c, perConnectionBufferLimitBytes: 5}",
                "{name: c, respect_dns_ttl: 'true'}", "{name: c, type: 4}", "{name: c, type: ORIGINAL_DST}", "{name: c, type: 4.0}",
                "{name: c, metadata: {filter_metadata: {istio: {a: 1, b: [true, ~], c: {d: x}}}}}",
                "{name: c, common_lb_config: {healthy_panic_threshold: {value: 50.5}}}",
                "{name: c, common_lb_config: {healthy_panic_threshold: {value: 50}}}",
                "{name: c, common_lb_config: {healthy_panic_threshold: {value: 0x1F}}}",
                "{name: c, common_lb_config: {healthy_panic_threshold: {value: '50.25'}}}",
                "{name: c, common_lb_config: {healthy_panic_threshold: {value: 1.0e-3}}}",
                "{name: c, common_lb_config: {healthy_panic_threshold: {value: 123456789012345678901234567890}}}",
                "{name: c, max_requests_per_connection: 0b101}", "{name: c, max_requests_per_connection: 0017}",
                "{name: c, max_requests_per_connection: -0}", "{name: c, max_requests_per_connection: 4294967295}",
                "{name: c, max_requests_per_connection: 7}", "{name: c, max_requests_per_connection: '7'}",
                "{name: c, dns_lookup_family: V4_ONLY, dns_refresh_rate: 5s}", "{name: c, lb_subset_config: {subset_selectors: []}}",
                "{name: c, typed_extension_protocol_options: {}}", "{name: c, circuit_breakers: {thresholds: [{max_connections: 10}, {}]}}",
                "{name: c, outlier_detection: {consecutive_5xx: 3, interval: 10s, max_ejection_percent: 100}}")) {
            LegacyEquivalence.check("static_resources: {clusters: [" + cluster + "]}\n");
        }
    }

    @Test
    void malformedInputIsRefusedAtTheSameField() {
        for (String text : List.of(
                "node: {id: a}\nnode: {id: b}\n", "{\"node\": {\"id\": \"a\", \"id\": \"b\"}}", "a: [1,\n", "{\"node\": }", "{\"node\": {\"id\": \"a\",}}", "{\"node\": {id: a}}", "{\"node\": {\"id\": 'a'}}", "- a\n", "just text\n", "",
                "node: {idd: x}\n", "node: {id: {a: b}}\n", "node: {id: [a]}\n", "node: [a]\n", "node: {metadata: [1]}\n",
                "static_resources: {clusters: [{name: c, connect_timeout: 5}]}\n",
                "static_resources: {clusters: [{name: c, connect_timeout: 5m}]}\n",
                "static_resources: {clusters: [{name: c, type: BOGUS}]}\n", "static_resources: {clusters: [{name: c, type: 9}]}\n",
                "static_resources: {clusters: [{name: c, type: true}]}\n", "static_resources: {clusters: {name: c}}\n",
                "static_resources: {clusters: [{name: c, per_connection_buffer_limit_bytes: -1}]}\n",
                "static_resources: {clusters: [{name: c, per_connection_buffer_limit_bytes: 4294967296}]}\n",
                "static_resources: {clusters: [{name: c, per_connection_buffer_limit_bytes: x}]}\n",
                "static_resources: {clusters: [{name: c, max_requests_per_connection: 4294967296}]}\n",
                "static_resources: {clusters: [{name: c, max_requests_per_connection: 1.5}]}\n",
                "static_resources: {clusters: [{name: c, common_lb_config: {healthy_panic_threshold: {value: '0x10'}}}]}\n",
                "static_resources: {clusters: [{name: c, respect_dns_ttl: yes please}]}\n",
                "static_resources: {clusters: [{name: c, type: STATIC, cluster_type: {name: x}}]}\n",
                "static_resources: {clusters: [{name: c, common_lb_config: {healthy_panic_threshold: {value: x}}}]}\n",
                "static_resources: {clusters: [{name: c, typed_extension_protocol_options: {a: {b: c}}}]}\n",
                "static_resources: {listeners: [{name: l, filter_chains: [{filters: [{name: envoy.filters.network.echo}]}]}]}\n",
                "static_resources: {listeners: [{name: l, filter_chains: [{filters: [{name: x, typed_config: {\"@type\": type.googleapis.com/nope.Nope}}]}]}]}\n",
                "static_resources: {listeners: [{name: l, filter_chains: [{filters: [{name: envoy.filters.network.tcp_proxy, typed_config: {a: b}}]}]}]}\n",
                Bootstraps.hcm("codec_type: HTTP4\n"), Bootstraps.hcm("use_remote_adress: true\n"), Bootstraps.hcm("xff_num_trusted_hops: 1.5\n"))) {
            LegacyEquivalence.check(text);
        }
    }

    @Test
    void jsonReadsAsYamlDoes() {
        String json = "{\n\t\"node\": {\"id\": \"a\\/b \\u00e9\", \"cluster\": \"c\", \"metadata\": {\"n\": 1.25e2, \"t\": true, \"z\": null}},\n"
                + "\t\"staticResources\": {\"clusters\": [{\"name\": \"c\", \"connectTimeout\": \"0.25s\", \"type\": \"STATIC\"}]}\n}\n";
        LegacyEquivalence.check(json);
        Bootstrap b = BootstrapLoader.parse(json);
        assertEquals("a/b \u00e9", b.getNode().getId());
        assertEquals(250_000_000, b.getStaticResources().getClusters(0).getConnectTimeout().getNanos());
    }

    @Test
    void whereTheNewReaderIsStricterOrNamesAPathJsonFormatDidNot() {
        // Jackson read the first JSON value and ignored what followed it.
        ConfigException e = assertThrows(ConfigException.class, () -> BootstrapLoader.parse("{\"node\": {\"id\": \"a\"}} {\"node\": 1}"));
        assertEquals("bootstrap is not valid YAML or JSON: Unexpected character ('{'): expected end of input (line 1, column 23)", e.getMessage());
        e = assertThrows(ConfigException.class, () -> BootstrapLoader.parse(
                "static_resources: {clusters: [{name: c, type: STATIC, cluster_type: {name: x}}]}\n"));
        assertEquals("clusters[0].cluster_type: cannot be set together with type (oneof cluster_discovery_type)", e.getMessage());
        e = assertThrows(ConfigException.class, () -> BootstrapLoader.parse(
                "static_resources: {clusters: [{name: c, connect_timeout: 1s, connectTimeout: 2s}]}\n"));
        assertEquals("clusters[0].connectTimeout: is set twice (as connect_timeout and connectTimeout)", e.getMessage());
        e = assertThrows(ConfigException.class, () -> BootstrapLoader.parse(
                "static_resources: {clusters: [{name: c, per_connection_buffer_limit_bytes: {value: 1.5}}]}\n"));
        assertEquals("clusters[0].per_connection_buffer_limit_bytes: expected a int, not a mapping", e.getMessage());
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }
}
