package io.sourcemesh.api.patch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;

/**
 * JSON patch, RFC 6902: add, remove, replace, move, copy and test, applied in order to a copy, so a failing
 * operation leaves nothing half-done. Errors name the operation and the pointer.
 */
public final class JsonPatch {

    private JsonPatch() {
    }

    public static JsonNode apply(JsonNode target, JsonNode patch) {
        if (!patch.isArray()) {
            throw new PatchException("a JSON patch must be an array of operations");
        }
        JsonNode doc = target.deepCopy();
        for (int i = 0; i < patch.size(); i++) {
            JsonNode op = patch.get(i);
            if (!op.isObject()) {
                throw new PatchException("operation " + i + " is not an object");
            }
            doc = applyOne(doc, op, i);
        }
        return doc;
    }

    private static JsonNode applyOne(JsonNode doc, JsonNode op, int index) {
        String name = op.path("op").asText("");
        String path = member(op, "path", name, index);
        return switch (name) {
            case "add" -> add(doc, path, value(op, name, index));
            case "remove" -> {
                get(doc, path, name);
                yield remove(doc, path);
            }
            case "replace" -> {
                get(doc, path, name);
                yield add(remove(doc, path), path, value(op, name, index));
            }
            case "move" -> {
                String from = member(op, "from", name, index);
                if (path.startsWith(from + "/")) {
                    throw new PatchException("move operation: cannot move \"" + from + "\" into its own child \"" + path + "\"");
                }
                JsonNode moved = get(doc, from, name);
                yield add(remove(doc, from), path, moved);
            }
            case "copy" -> add(doc, path, get(doc, member(op, "from", name, index), name).deepCopy());
            case "test" -> {
                JsonNode actual = get(doc, path, name);
                JsonNode expected = value(op, name, index);
                if (!actual.equals(expected)) {
                    throw new PatchException("test operation failed at \"" + path + "\": expected " + expected + ", found " + actual);
                }
                yield doc;
            }
            case "" -> throw new PatchException("operation " + index + " has no \"op\"");
            default -> throw new PatchException("operation " + index + ": unknown op \"" + name + "\"");
        };
    }

    private static String member(JsonNode op, String field, String name, int index) {
        JsonNode v = op.get(field);
        if (v == null || !v.isTextual()) {
            throw new PatchException("operation " + index + " (" + name + ") is missing \"" + field + "\"");
        }
        return v.asText();
    }

    private static JsonNode value(JsonNode op, String name, int index) {
        if (!op.has("value")) {
            throw new PatchException("operation " + index + " (" + name + ") is missing \"value\"");
        }
        return op.get("value").deepCopy();
    }

    static List<String> tokens(String pointer) {
        if (pointer.isEmpty()) {
            return List.of();
        }
        if (!pointer.startsWith("/")) {
            throw new PatchException("invalid JSON pointer \"" + pointer + "\": must be empty or start with \"/\"");
        }
        List<String> out = new ArrayList<>();
        for (String t : pointer.substring(1).split("/", -1)) {
            out.add(t.replace("~1", "/").replace("~0", "~"));
        }
        return out;
    }

    private static JsonNode get(JsonNode doc, String pointer, String op) {
        JsonNode cur = doc;
        for (String t : tokens(pointer)) {
            cur = child(cur, t);
            if (cur == null) {
                throw new PatchException(op + " operation: path \"" + pointer + "\" does not exist");
            }
        }
        return cur;
    }

    private static JsonNode child(JsonNode node, String token) {
        if (node.isObject()) {
            return node.get(token);
        }
        if (node.isArray()) {
            int i = index(token);
            return i >= 0 && i < node.size() ? node.get(i) : null;
        }
        return null;
    }

    private static int index(String token) {
        if (!token.matches("0|[1-9]\\d{0,8}")) {
            return -1;
        }
        return Integer.parseInt(token);
    }

    private static JsonNode add(JsonNode doc, String pointer, JsonNode value) {
        List<String> t = tokens(pointer);
        if (t.isEmpty()) {
            return value;
        }
        JsonNode parent = get(doc, parentOf(pointer), "add");
        String last = t.getLast();
        if (parent instanceof ObjectNode o) {
            o.set(last, value);
        } else if (parent instanceof ArrayNode a) {
            int i = last.equals("-") ? a.size() : index(last);
            if (i < 0 || i > a.size()) {
                throw new PatchException("add operation: index \"" + last + "\" is out of bounds in \"" + pointer + "\"");
            }
            a.insert(i, value);
        } else {
            throw new PatchException("add operation: parent of \"" + pointer + "\" is not an object or array");
        }
        return doc;
    }

    private static JsonNode remove(JsonNode doc, String pointer) {
        List<String> t = tokens(pointer);
        if (t.isEmpty()) {
            return MissingNode.getInstance();
        }
        JsonNode parent = get(doc, parentOf(pointer), "remove");
        if (parent instanceof ObjectNode o) {
            o.remove(t.getLast());
        } else if (parent instanceof ArrayNode a) {
            a.remove(index(t.getLast()));
        }
        return doc;
    }

    private static String parentOf(String pointer) {
        return pointer.substring(0, pointer.lastIndexOf('/'));
    }
}
