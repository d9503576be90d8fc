package io.sourcemesh.proxy.config;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.DumperOptions.FlowStyle;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * A strict JSON (RFC 8259) reader into the same node tree {@link YamlTree} makes, so a JSON bootstrap is
 * held to JSON's rules (YAML would accept {@code {"a": }} and refuse tabs), and read by the same
 * {@link ProtoYaml}. A repeated key is refused.
 */
final class JsonTree {

    private static final int MAX_DEPTH = 100;

    private final String text;
    private int pos;
    private int line;
    private int lineStart;

    private JsonTree(String text) {
        this.text = text;
    }

    /** The document's root node (text starts with '{' after white space). */
    static Node parse(String text) {
        JsonTree p = new JsonTree(text);
        p.space();
        Node root = p.value(0);
        p.space();
        if (p.pos < text.length()) {
            throw p.error("Unexpected character ('" + text.charAt(p.pos) + "'): expected end of input");
        }
        return root;
    }

    private Node value(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("nested too deeply (over " + MAX_DEPTH + " levels)");
        }
        if (pos >= text.length()) {
            throw error("Unexpected end-of-input: expected a value");
        }
        Mark start = mark();
        char c = text.charAt(pos);
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> new ScalarNode(Tag.STR, string(), start, mark(), DumperOptions.ScalarStyle.DOUBLE_QUOTED);
            case 't' -> literal("true", Tag.BOOL, start);
            case 'f' -> literal("false", Tag.BOOL, start);
            case 'n' -> literal("null", Tag.NULL, start);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield number(start);
                }
                throw error("Unexpected character ('" + c + "'): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')");
            }
        };
    }

    private Node object(int depth) {
        pos++;
        List<NodeTuple> entries = new ArrayList<>();
        Set<String> keys = new HashSet<>();
        space();
        if (peek() == '}') {
            pos++;
            return new MappingNode(Tag.MAP, entries, FlowStyle.FLOW);
        }
        while (true) {
            space();
            if (peek() != '"') {
                throw error("Unexpected character: expected a double-quoted field name");
            }
            Mark keyMark = mark();
            String key = string();
            if (!keys.add(key)) {
                throw new ConfigException("bootstrap is not valid YAML or JSON: Duplicate field '" + key + "'" + where(keyMark), (Throwable) null);
            }
            space();
            expect(':');
            space();
            Node value = value(depth + 1);
            entries.add(new NodeTuple(new ScalarNode(Tag.STR, key, keyMark, keyMark, DumperOptions.ScalarStyle.DOUBLE_QUOTED), value));
            space();
            char c = peek();
            pos++;
            if (c == '}') {
                return new MappingNode(Tag.MAP, entries, FlowStyle.FLOW);
            }
            if (c != ',') {
                pos--;
                throw error("Unexpected character: expected ',' or '}'");
            }
        }
    }

    private Node array(int depth) {
        pos++;
        List<Node> items = new ArrayList<>();
        space();
        if (peek() == ']') {
            pos++;
            return new SequenceNode(Tag.SEQ, items, FlowStyle.FLOW);
        }
        while (true) {
            space();
            items.add(value(depth + 1));
            space();
            char c = peek();
            pos++;
            if (c == ']') {
                return new SequenceNode(Tag.SEQ, items, FlowStyle.FLOW);
            }
            if (c != ',') {
                pos--;
                throw error("Unexpected character: expected ',' or ']'");
            }
        }
    }

    private String string() {
        pos++; // the opening quote
        StringBuilder out = new StringBuilder();
        while (true) {
            if (pos >= text.length()) {
                throw error("Unexpected end-of-input in a string");
            }
            char c = text.charAt(pos++);
            if (c == '"') {
                return out.toString();
            }
            if (c < 0x20) {
                pos--;
                throw error("Illegal unquoted character in a string (code " + (int) c + ")");
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (pos >= text.length()) {
                throw error("Unexpected end-of-input in a string");
            }
            char e = text.charAt(pos++);
            switch (e) {
                case '"', '\\', '/' -> out.append(e);
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> {
                    if (pos + 4 > text.length()) {
                        throw error("Unexpected end-of-input in a \\u escape");
                    }
                    try {
                        out.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                    } catch (NumberFormatException x) {
                        throw error("Illegal \\u escape");
                    }
                    pos += 4;
                }
                default -> {
                    pos--;
                    throw error("Unrecognized character escape '" + e + "'");
                }
            }
        }
    }

    private Node number(Mark start) {
        int begin = pos;
        if (peek() == '-') {
            pos++;
        }
        if (peek() == '0') {
            pos++;
        } else if (!digits()) {
            throw error("Invalid number: expected a digit");
        }
        boolean integer = true;
        if (peek() == '.') {
            pos++;
            integer = false;
            if (!digits()) {
                throw error("Invalid number: expected a digit after '.'");
            }
        }
        if (peek() == 'e' || peek() == 'E') {
            pos++;
            integer = false;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!digits()) {
                throw error("Invalid number: expected a digit in the exponent");
            }
        }
        return new ScalarNode(integer ? Tag.INT : Tag.FLOAT, text.substring(begin, pos), start, mark(), DumperOptions.ScalarStyle.PLAIN);
    }

    private boolean digits() {
        int begin = pos;
        while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
            pos++;
        }
        return pos > begin;
    }

    private Node literal(String word, Tag tag, Mark start) {
        if (!text.startsWith(word, pos)) {
            throw error("Unrecognized token: expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')");
        }
        pos += word.length();
        return new ScalarNode(tag, word, start, mark(), DumperOptions.ScalarStyle.PLAIN);
    }

    private void expect(char c) {
        if (peek() != c) {
            throw error("Unexpected character: expected '" + c + "'");
        }
        pos++;
    }

    private char peek() {
        if (pos >= text.length()) {
            throw error("Unexpected end-of-input");
        }
        return text.charAt(pos);
    }

    private void space() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == '\n') {
                line++;
                lineStart = pos + 1;
            } else if (c != ' ' && c != '\t' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private Mark mark() {
        return new Mark("bootstrap", pos, line, pos - lineStart, new int[0], 0);
    }

    private static String where(Mark m) {
        return " (line " + (m.getLine() + 1) + ", column " + (m.getColumn() + 1) + ")";
    }

    private ConfigException error(String problem) {
        return new ConfigException("bootstrap is not valid YAML or JSON: " + problem + where(mark()), (Throwable) null);
    }
}
