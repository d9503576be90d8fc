package io.sourcemesh.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.sourcemesh.api.codec.ManifestWriter;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.cluster.daemon.ClusterApi;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code proxy-config listeners|clusters|routes|endpoints|all POD|deploy/NAME}, as istioctl: the pod's
 * proxy config dump as istioctl's tables, or the resources as JSON/YAML.
 */
@Command(name = "proxy-config", aliases = "pc", description = "Show a pod's proxy configuration, as istioctl proxy-config.")
final class ProxyConfigCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TYPE", description = "listeners, clusters, routes, endpoints or all.")
    String type;

    @Parameters(index = "1", paramLabel = "POD[.NS]|deploy/NAME")
    String target;

    @Option(names = {"-o", "--output"}, defaultValue = "short", description = "short (tables), json or yaml.")
    String output;

    @Option(names = "--level", description = "For `log`: set every logger (debug, info, warning, …) or name:level pairs "
            + "(istioctl's form, e.g. rbac:debug; name=level too), comma-separated.")
    String level;

    @Override
    public Integer call() {
        String section = switch (type) {
            case "listener", "listeners", "l" -> "listeners";
            case "cluster", "clusters", "c" -> "clusters";
            case "route", "routes", "r" -> "routes";
            case "endpoint", "endpoints", "ep" -> "endpoints";
            case "all" -> "all";
            case "log" -> "log";
            default -> throw CliException.error("unknown proxy-config type \"" + type + "\": use listeners, clusters, routes, endpoints, all or log");
        };
        if (!List.of("short", "json", "yaml").contains(output)) {
            throw CliException.error("output format \"" + output + "\" not supported");
        }
        String namespace = cluster.namespace();
        String pod = target;
        // istioctl's POD.NAMESPACE form
        if (!target.contains("/") && target.contains(".") && !cluster.explicitNamespace()) {
            namespace = target.substring(target.lastIndexOf('.') + 1);
            pod = target.substring(0, target.lastIndexOf('.'));
        }
        ClusterApi api = cluster.api();
        KubeObject p = Pods.resolve(api, namespace, pod);
        if (section.equals("log")) {
            String query = level == null ? "" : "?" + loggingQuery(level);
            spec.commandLine().getOut().print(api.proxyAdmin(namespace, p.name(), "/logging" + query));
            return 0;
        }
        ConfigDump dump = ConfigDump.parse(api.proxyConfig(namespace, p.name()));
        PrintWriter out = spec.commandLine().getOut();
        switch (section) {
            case "listeners" -> print(out, dump.listeners(), ProxyConfigTables.listeners(dump.listeners()));
            case "clusters" -> print(out, dump.clusters(), ProxyConfigTables.clusters(dump.clusters()));
            case "routes" -> print(out, dump.routes(), ProxyConfigTables.routes(dump.routes()));
            case "endpoints" -> print(out, dump.endpoints(), ProxyConfigTables.endpoints(dump.endpoints()));
            default -> {
                if (!output.equals("short")) {
                    throw CliException.error("-o json|yaml with all: ask for one type at a time");
                }
                out.print(ProxyConfigTables.clusters(dump.clusters()));
                out.println();
                out.print(ProxyConfigTables.listeners(dump.listeners()));
                out.println();
                out.print(ProxyConfigTables.routes(dump.routes()));
                out.println();
                out.print(ProxyConfigTables.endpoints(dump.endpoints()));
            }
        }
        return 0;
    }

    private void print(PrintWriter out, List<JsonNode> resources, String table) {
        if (output.equals("short")) {
            out.print(table);
            return;
        }
        ArrayNode array = JsonNodeFactory.instance.arrayNode();
        resources.forEach(array::add);
        out.print(output.equals("json") ? ManifestWriter.jsonOf(array) : ManifestWriter.yamlOf(array));
    }

    /** Envoy's /logging query: {@code level=L} for a bare level, else {@code name=level&…} from istioctl's {@code name:level,…}. */
    static String loggingQuery(String level) {
        if (!level.contains(":") && !level.contains("=")) {
            return "level=" + level;
        }
        return String.join("&", java.util.Arrays.stream(level.split(",")).map(p -> p.trim().replaceFirst("[:=]", "=")).toList());
    }
}
