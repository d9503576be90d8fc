package io.sourcemesh.api.codec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.sourcemesh.api.resource.FieldError;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.api.resource.Validator;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads manifests as {@code kubectl apply -f} does: multi-document YAML or JSON, {@code List} objects
 * unwrapped, from a file, a directory ({@code *.yaml}, {@code *.yml}, {@code *.json}, sorted by name) or
 * stdin. Every object is validated. Reading is all-or-nothing: one bad document anywhere and nothing is
 * returned; the exception lists every problem with its file, line and column.
 */
public final class ManifestReader {

    /** The source name kubectl uses for {@code -f -}. */
    public static final String STDIN = "STDIN";

    private static final YAMLFactory YAML = new YAMLFactory();
    private static final JsonFactory JSON = new JsonFactory();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private ManifestReader() {
    }

    /** Reads a file, or every manifest file directly inside a directory. */
    public static List<KubeObject> read(Path fileOrDirectory) {
        List<Path> files;
        if (Files.isDirectory(fileOrDirectory)) {
            try (Stream<Path> s = Files.list(fileOrDirectory)) {
                files = s.filter(ManifestReader::isManifest).sorted().toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        } else {
            files = List.of(fileOrDirectory);
        }
        return readAll(files);
    }

    /** Reads several files or directories as one all-or-nothing set, in the order given. */
    public static List<KubeObject> readAll(List<Path> paths) {
        List<KubeObject> objects = new ArrayList<>();
        List<ManifestProblem> problems = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                try {
                    objects.addAll(read(p));
                } catch (ManifestException e) {
                    problems.addAll(e.problems());
                }
                continue;
            }
            String content;
            try {
                content = Files.readString(p, StandardCharsets.UTF_8);
            } catch (IOException e) {
                problems.add(new ManifestProblem(p.toString(), 0, 0, "the path \"" + p + "\" does not exist or cannot be read"));
                continue;
            }
            parse(p.toString(), content, objects, problems);
        }
        if (!problems.isEmpty()) {
            throw new ManifestException(problems);
        }
        return objects;
    }

    /** Reads everything from a stream, such as stdin, named {@code source} in messages. */
    public static List<KubeObject> read(String source, InputStream in) {
        try {
            return read(source, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads manifests from text, named {@code source} in messages. */
    public static List<KubeObject> read(String source, String content) {
        List<KubeObject> objects = new ArrayList<>();
        List<ManifestProblem> problems = new ArrayList<>();
        parse(source, content, objects, problems);
        if (!problems.isEmpty()) {
            throw new ManifestException(problems);
        }
        return objects;
    }

    /**
     * Places objects as {@code kubectl apply -n} does: objects without a namespace go to {@code namespace};
     * an object naming another namespace is an error when the namespace was given explicitly with
     * {@code -n}, and keeps its own otherwise. Cluster-scoped kinds never get one.
     */
    public static List<KubeObject> inNamespace(List<KubeObject> objects, String namespace, boolean explicit) {
        List<KubeObject> out = new ArrayList<>();
        for (KubeObject o : objects) {
            boolean namespaced = o.resourceKind().map(ResourceKind::namespaced).orElse(true);
            if (!namespaced) {
                out.add(o.namespace().isEmpty() ? o : o.withNamespace(""));
            } else if (o.namespace().isEmpty()) {
                out.add(o.withNamespace(namespace));
            } else if (explicit && !o.namespace().equals(namespace)) {
                throw new ManifestException(List.of(new ManifestProblem(o.toString(), 0, 0,
                        "the namespace from the provided object \"" + o.namespace() + "\" does not match the namespace \""
                                + namespace + "\". You must pass '--namespace=" + o.namespace() + "' to perform this operation.")));
            } else {
                out.add(o);
            }
        }
        return out;
    }

    private static boolean isManifest(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(p) && (n.endsWith(".yaml") || n.endsWith(".yml") || n.endsWith(".json"));
    }

    private static void parse(String source, String content, List<KubeObject> objects, List<ManifestProblem> problems) {
        String trimmed = content.stripLeading();
        boolean json = source.toLowerCase(Locale.ROOT).endsWith(".json") || trimmed.startsWith("{") || trimmed.startsWith("[");
        List<Document> documents = new ArrayList<>();
        try (JsonParser p = json ? JSON.createParser(content) : YAML.createParser(content)) {
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                if (t == JsonToken.VALUE_NULL) {
                    continue; // an empty document between two "---"
                }
                Document d = new Document(p.currentTokenLocation());
                d.root = d.value(p, "", source, problems);
                documents.add(d);
            }
        } catch (JsonProcessingException e) {
            problems.add(syntaxError(source, e, json));
            return;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Document d : documents) {
            if (!d.root.isObject()) {
                problems.add(d.problem(source, "", "expected a mapping (an object) at the top of the document, got "
                        + d.root.getNodeType().toString().toLowerCase(Locale.ROOT)));
                continue;
            }
            String kind = d.root.path("kind").asText("");
            if (d.root.path("items").isArray() && (kind.equals("List") || kind.endsWith("List"))) {
                JsonNode items = d.root.path("items");
                for (int i = 0; i < items.size(); i++) {
                    accept(d, "items[" + i + "]", items.get(i), source, objects, problems);
                }
            } else {
                accept(d, "", d.root, source, objects, problems);
            }
        }
    }

    private static void accept(Document d, String prefix, JsonNode node, String source, List<KubeObject> objects,
                               List<ManifestProblem> problems) {
        List<FieldError> errors = Validator.validate(node);
        if (errors.isEmpty()) {
            objects.add(KubeObject.of((ObjectNode) node));
            return;
        }
        for (FieldError e : errors) {
            String path = prefix.isEmpty() ? e.path() : e.path().isEmpty() ? prefix : prefix + "." + e.path();
            problems.add(d.problem(source, path, e.message()));
        }
    }

    private static ManifestProblem syntaxError(String source, JsonProcessingException e, boolean json) {
        Throwable cause = e;
        while (cause != null) {
            if (cause instanceof MarkedYAMLException m && m.getProblemMark() != null) {
                var mark = m.getProblemMark();
                return new ManifestProblem(source, mark.getLine() + 1, mark.getColumn() + 1,
                        "error converting YAML to JSON: yaml: " + m.getProblem());
            }
            cause = cause.getCause();
        }
        JsonLocation loc = e.getLocation();
        String message = e.getOriginalMessage();
        int newline = message.indexOf('\n');
        message = newline < 0 ? message : message.substring(0, newline);
        return new ManifestProblem(source, loc == null ? 0 : loc.getLineNr(), loc == null ? 0 : loc.getColumnNr(),
                (json ? "error parsing JSON: " : "error converting YAML to JSON: yaml: ") + message);
    }

    /** One document's tree with where each field's key (or each list item) starts, by field path. */
    private static final class Document {
        final JsonLocation start;
        final Map<String, JsonLocation> locations = new HashMap<>();
        JsonNode root;

        Document(JsonLocation start) {
            this.start = start;
        }

        JsonNode value(JsonParser p, String path, String source, List<ManifestProblem> problems) throws IOException {
            JsonToken t = p.currentToken();
            switch (t) {
                case START_OBJECT -> {
                    ObjectNode o = NODES.objectNode();
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String name = p.currentName();
                        String child = path.isEmpty() ? name : path + "." + name;
                        locations.put(child, p.currentTokenLocation());
                        if (o.has(name)) {
                            problems.add(problem(source, child, "error converting YAML to JSON: yaml: duplicate field \"" + child + "\""));
                        }
                        p.nextToken();
                        o.set(name, value(p, child, source, problems));
                    }
                    return o;
                }
                case START_ARRAY -> {
                    ArrayNode a = NODES.arrayNode();
                    int i = 0;
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        String child = path + "[" + i++ + "]";
                        locations.put(child, p.currentTokenLocation());
                        a.add(value(p, child, source, problems));
                    }
                    return a;
                }
                case VALUE_STRING -> {
                    return NODES.textNode(p.getText());
                }
                case VALUE_NUMBER_INT -> {
                    return switch (p.getNumberType()) {
                        case INT -> NODES.numberNode(p.getIntValue());
                        case LONG -> NODES.numberNode(p.getLongValue());
                        default -> NODES.numberNode(p.getBigIntegerValue());
                    };
                }
                case VALUE_NUMBER_FLOAT -> {
                    return NODES.numberNode(p.getDoubleValue());
                }
                case VALUE_TRUE -> {
                    return NODES.booleanNode(true);
                }
                case VALUE_FALSE -> {
                    return NODES.booleanNode(false);
                }
                case VALUE_EMBEDDED_OBJECT -> {
                    Object o = p.getEmbeddedObject();
                    return o instanceof byte[] b ? NODES.textNode(Base64.getEncoder().encodeToString(b)) : NODES.textNode(String.valueOf(o));
                }
                default -> {
                    return NODES.nullNode();
                }
            }
        }

        /** The problem placed at the nearest located field on the path, or at the document's start. */
        ManifestProblem problem(String source, String path, String message) {
            String p = path;
            while (!p.isEmpty()) {
                JsonLocation loc = locations.get(p);
                if (loc != null) {
                    return new ManifestProblem(source, loc.getLineNr(), loc.getColumnNr(), message);
                }
                int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
                p = cut < 0 ? "" : p.substring(0, cut);
            }
            return new ManifestProblem(source, start.getLineNr(), start.getColumnNr(), message);
        }
    }
}
