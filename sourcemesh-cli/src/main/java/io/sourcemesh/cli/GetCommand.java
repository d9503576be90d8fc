package io.sourcemesh.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.codec.ManifestWriter;
import io.sourcemesh.api.jsonpath.JsonPath;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.LabelSelector;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.printers.ResourceColumns;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code get KIND [NAME...]}: kubectl's tables, or the objects as yaml, json, names or a JSONPath template. */
@Command(name = "get", description = "Display one or many resources.")
final class GetCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "KIND", description = "A kind (pods, svc, deploy, all, ...), a comma list, or KIND/NAME.")
    String what;

    @Parameters(index = "1..*", paramLabel = "NAME")
    List<String> names = new ArrayList<>();

    @Option(names = {"-A", "--all-namespaces"}, description = "List across all namespaces.")
    boolean allNamespaces;

    @Option(names = {"-l", "--selector"}, description = "Label selector, as -l app=httpbin.")
    String selector = "";

    @Option(names = {"-o", "--output"}, description = "wide, yaml, json, name, jsonpath=TEMPLATE.")
    String output = "";

    @Option(names = "--no-headers", description = "Leave out the header row.")
    boolean noHeaders;

    @Override
    public Integer call() {
        return run(spec.commandLine().getOut(), spec.commandLine().getErr(), Main.clock(spec));
    }

    /** The verb, once its command line is parsed (by picocli or by {@link QuickVerbs}). */
    int run(PrintWriter out, PrintWriter err, Clock clock) {
        Output format = Output.parse(output);
        try {
            LabelSelector.parse(selector);
        } catch (IllegalArgumentException e) {
            throw CliException.error(e.getMessage());
        }
        ClusterApi api = cluster.api();
        Map<ResourceKind, List<KubeObject>> found = new LinkedHashMap<>();
        List<String> errors = new ArrayList<>();
        boolean named = fetch(api, found, errors);
        List<KubeObject> everything = found.values().stream().flatMap(List::stream).toList();
        boolean multipleKinds = found.size() > 1 || what.equals("all");
        switch (format.kind) {
            case TABLE, WIDE -> {
                List<String> sections = new ArrayList<>();
                found.forEach((kind, objects) -> {
                    if (!objects.isEmpty()) {
                        sections.add(table(kind, objects, format.kind == Output.Kind.WIDE, multipleKinds, clock));
                    }
                });
                out.print(String.join("\n", sections));
            }
            case NAME -> everything.forEach(o -> out.println(o));
            case YAML -> {
                if (!everything.isEmpty() || !named) {
                    out.print(single(named, everything) ? ManifestWriter.yaml(everything.getFirst()) : ManifestWriter.yamlOf(list(everything)));
                }
            }
            case JSON -> {
                if (!everything.isEmpty() || !named) {
                    out.print(single(named, everything) ? ManifestWriter.json(everything.getFirst()) : ManifestWriter.jsonOf(list(everything)));
                }
            }
            case JSONPATH -> {
                JsonPath template;
                try {
                    template = JsonPath.parse(format.template);
                } catch (IllegalArgumentException e) {
                    throw CliException.error(e.getMessage());
                }
                if (!everything.isEmpty() || !named) {
                    out.print(template.execute(single(named, everything) ? everything.getFirst().node() : list(everything)));
                }
            }
        }
        out.flush();
        if (everything.isEmpty() && !named && format.kind != Output.Kind.YAML && format.kind != Output.Kind.JSON
                && format.kind != Output.Kind.JSONPATH) {
            boolean clusterScoped = found.keySet().stream().noneMatch(ResourceKind::namespaced);
            err.println(allNamespaces || clusterScoped ? "No resources found" : "No resources found in " + cluster.namespace() + " namespace.");
        }
        errors.forEach(err::println);
        return errors.isEmpty() ? 0 : 1;
    }

    /** Fills {@code found} per kind, in the order asked; returns whether names were given. */
    private boolean fetch(ClusterApi api, Map<ResourceKind, List<KubeObject>> found, List<String> errors) {
        String namespace = allNamespaces ? null : cluster.namespace();
        ResourceArgs args = ResourceArgs.parse("get", what, names);
        if (args.named()) {
            args.refs().forEach(ref -> getOne(api, ref.kind(), ref.name(), found, errors));
            return true;
        }
        for (ResourceKind kind : args.kinds()) {
            found.put(kind, api.list(kind, kind.namespaced() ? namespace : null, selector));
        }
        return false;
    }

    private void getOne(ClusterApi api, ResourceKind kind, String name, Map<ResourceKind, List<KubeObject>> found, List<String> errors) {
        Optional<KubeObject> o = api.get(kind, cluster.namespace(), name);
        found.computeIfAbsent(kind, k -> new ArrayList<>());
        if (o.isPresent()) {
            found.get(kind).add(o.get());
        } else {
            errors.add(Errors.notFound(kind, name).getMessage());
        }
    }

    private String table(ResourceKind kind, List<KubeObject> objects, boolean wide, boolean prefixed, Clock clock) {
        Table t = Table.kubectl();
        List<String> header = new ArrayList<>();
        if (allNamespaces && kind.namespaced()) {
            header.add("NAMESPACE");
        }
        header.addAll(ResourceColumns.header(kind, wide));
        if (!noHeaders) {
            t.row(header);
        }
        for (KubeObject o : objects) {
            List<String> row = new ArrayList<>();
            if (allNamespaces && kind.namespaced()) {
                row.add(o.namespace());
            }
            row.add(prefixed ? kind.qualifiedSingular() + "/" + o.name() : o.name());
            row.addAll(ResourceColumns.cells(o, kind, wide, clock));
            t.row(row);
        }
        return t.render();
    }

    private static boolean single(boolean named, List<KubeObject> objects) {
        return named && objects.size() == 1;
    }

    private static ObjectNode list(List<KubeObject> objects) {
        ObjectNode list = JsonNodeFactory.instance.objectNode();
        list.put("apiVersion", "v1");
        var items = list.putArray("items");
        objects.forEach(o -> items.add(o.node()));
        list.put("kind", "List");
        list.putObject("metadata").put("resourceVersion", "");
        return list;
    }

    /** The -o value: a format, and for jsonpath its template. */
    record Output(Kind kind, String template) {
        enum Kind { TABLE, WIDE, YAML, JSON, NAME, JSONPATH }

        static Output parse(String o) {
            String v = o.strip();
            if (v.startsWith("jsonpath=") || v.startsWith("jsonpath:")) {
                return new Output(Kind.JSONPATH, unquote(v.substring("jsonpath=".length())));
            }
            return switch (v) {
                case "" -> new Output(Kind.TABLE, "");
                case "wide" -> new Output(Kind.WIDE, "");
                case "yaml" -> new Output(Kind.YAML, "");
                case "json" -> new Output(Kind.JSON, "");
                case "name" -> new Output(Kind.NAME, "");
                default -> throw CliException.error("unable to match a printer suitable for the output format \"" + v
                        + "\", allowed formats are: json,jsonpath,name,wide,yaml");
            };
        }

        // A template written with its shell quotes still inside (e.g. passed through a script) means the same.
        private static String unquote(String t) {
            if (t.length() >= 2 && (t.startsWith("'") && t.endsWith("'") || t.startsWith("\"") && t.endsWith("\""))) {
                return t.substring(1, t.length() - 1);
            }
            return t;
        }
    }
}
