package io.sourcemesh.api.jsonpath;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * kubectl's JSONPath template ({@code -o jsonpath=...}): literal text between {@code {...}} actions; paths
 * with fields, {@code ..} recursion, {@code *}, indexes, slices, unions and filters {@code [?(@.name=="http")]};
 * {@code range}/{@code end}; string literals such as {@code {"\n"}}. As kubectl sets it, a missing field prints
 * nothing rather than failing. The results of one action are joined by spaces; maps and lists print as
 * compact JSON with sorted keys, as Go's encoder does.
 * <p>Over 400 lines: kubectl's JSONPath parser and evaluator together, as client-go's jsonpath package has
 * them; the grammar and its evaluation change together.
 */
public final class JsonPath {

    private final List<Node> nodes;
    private final String template;

    private JsonPath(String template, List<Node> nodes) {
        this.template = template;
        this.nodes = nodes;
    }

    /** Parses a template; an {@link IllegalArgumentException} says what is wrong, as kubectl does. */
    public static JsonPath parse(String template) {
        return new JsonPath(template, new Parser(template).template());
    }

    /** Evaluates and prints the template over {@code data}. */
    public String execute(JsonNode data) {
        StringBuilder out = new StringBuilder();
        run(nodes, data, data, out);
        return out.toString();
    }

    /** The values one path expression selects, for callers that want values rather than text. */
    public static List<JsonNode> select(String path, JsonNode data) {
        String p = path.strip();
        if (p.startsWith("{") && p.endsWith("}")) {
            p = p.substring(1, p.length() - 1);
        }
        Parser parser = new Parser(p);
        List<Step> steps = parser.path(p.length());
        return evaluate(steps, data, data);
    }

    @Override
    public String toString() {
        return template;
    }

    // --- the tree --------------------------------------------------------------------------------------------

    private sealed interface Node permits Text, Expr, Range {
    }

    private record Text(String text) implements Node {
    }

    private record Expr(List<Step> steps) implements Node {
    }

    private record Range(List<Step> steps, List<Node> body) implements Node {
    }

    private sealed interface Step permits Root, Current, Field, Recursive, Wildcard, Index, Slice, Union, Filter {
    }

    private record Root() implements Step {
    }

    private record Current() implements Step {
    }

    private record Field(String name) implements Step {
    }

    private record Recursive(String name) implements Step {
    }

    private record Wildcard() implements Step {
    }

    private record Index(int index) implements Step {
    }

    private record Slice(Integer start, Integer end, int step) implements Step {
    }

    private record Union(List<Step> members) implements Step {
    }

    private record Filter(List<Step> left, String op, List<Step> rightPath, JsonNode rightValue) implements Step {
    }

    // --- evaluation ------------------------------------------------------------------------------------------

    private static void run(List<Node> nodes, JsonNode root, JsonNode current, StringBuilder out) {
        for (Node n : nodes) {
            switch (n) {
                case Text t -> out.append(t.text());
                case Expr e -> {
                    List<JsonNode> results = evaluate(e.steps(), root, current);
                    for (int i = 0; i < results.size(); i++) {
                        if (i > 0) {
                            out.append(' ');
                        }
                        out.append(text(results.get(i)));
                    }
                }
                case Range r -> {
                    // as in kubectl, the body runs once per selected value: {range .items[*]}, not {range .items}
                    for (JsonNode item : evaluate(r.steps(), root, current)) {
                        run(r.body(), root, item, out);
                    }
                }
            }
        }
    }

    private static List<JsonNode> evaluate(List<Step> steps, JsonNode root, JsonNode current) {
        List<JsonNode> values = List.of(current);
        for (Step step : steps) {
            List<JsonNode> next = new ArrayList<>();
            for (JsonNode v : values) {
                apply(step, v, root, current, next);
            }
            values = next;
        }
        return values;
    }

    private static void apply(Step step, JsonNode v, JsonNode root, JsonNode current, List<JsonNode> out) {
        switch (step) {
            case Root r -> out.add(root);
            case Current c -> out.add(v);
            case Field f -> {
                if (v.isObject() && v.has(f.name())) {
                    out.add(v.get(f.name()));
                }
            }
            case Recursive r -> recurse(v, r.name(), out);
            case Wildcard w -> {
                if (v.isContainerNode()) {
                    v.forEach(out::add);
                }
            }
            case Index i -> {
                if (v.isArray()) {
                    int at = i.index() < 0 ? v.size() + i.index() : i.index();
                    if (at >= 0 && at < v.size()) {
                        out.add(v.get(at));
                    }
                }
            }
            case Slice s -> {
                if (v.isArray()) {
                    int size = v.size();
                    int start = clamp(s.start() == null ? 0 : s.start(), size);
                    int end = clamp(s.end() == null ? size : s.end(), size);
                    for (int k = start; k < end; k += s.step()) {
                        out.add(v.get(k));
                    }
                }
            }
            case Union u -> {
                for (Step m : u.members()) {
                    apply(m, v, root, current, out);
                }
            }
            case Filter f -> {
                if (v.isArray()) {
                    for (JsonNode element : v) {
                        if (matches(f, element, root)) {
                            out.add(element);
                        }
                    }
                }
            }
        }
    }

    private static int clamp(int index, int size) {
        int i = index < 0 ? size + index : index;
        return Math.max(0, Math.min(size, i));
    }

    private static void recurse(JsonNode v, String name, List<JsonNode> out) {
        if (v.isObject()) {
            if (name == null) {
                v.forEach(out::add);
            } else if (v.has(name)) {
                out.add(v.get(name));
            }
        }
        if (v.isArray() && name == null) {
            v.forEach(out::add);
        }
        if (v.isContainerNode()) {
            v.forEach(child -> recurse(child, name, out));
        }
    }

    private static boolean matches(Filter f, JsonNode element, JsonNode root) {
        List<JsonNode> left = evaluate(f.left(), root, element);
        if (f.op() == null) {
            return !left.isEmpty() && !left.getFirst().isNull() && !(left.getFirst().isBoolean() && !left.getFirst().asBoolean());
        }
        JsonNode right = f.rightValue();
        if (f.rightPath() != null) {
            List<JsonNode> r = evaluate(f.rightPath(), root, element);
            right = r.isEmpty() ? null : r.getFirst();
        }
        if (left.isEmpty() || right == null) {
            return false;
        }
        JsonNode l = left.getFirst();
        int cmp;
        if (l.isNumber() && right.isNumber()) {
            cmp = Double.compare(l.asDouble(), right.asDouble());
        } else if (l.isValueNode() && right.isValueNode()) {
            cmp = l.asText().compareTo(right.asText());
            if (l.isNumber() != right.isNumber() && (f.op().equals("==") || f.op().equals("!="))) {
                cmp = l.asText().equals(right.asText()) ? 0 : 1;
            }
        } else {
            cmp = l.equals(right) ? 0 : 1;
        }
        return switch (f.op()) {
            case "==" -> cmp == 0;
            case "!=" -> cmp != 0;
            case "<" -> cmp < 0;
            case "<=" -> cmp <= 0;
            case ">" -> cmp > 0;
            case ">=" -> cmp >= 0;
            default -> throw new IllegalStateException(f.op());
        };
    }

    private static String text(JsonNode v) {
        if (v.isTextual()) {
            return v.asText();
        }
        if (v.isNull()) {
            return "";
        }
        if (v.isContainerNode()) {
            return sorted(v).toString();
        }
        return v.asText();
    }

    private static JsonNode sorted(JsonNode node) {
        if (node.isObject()) {
            Map<String, JsonNode> m = new TreeMap<>();
            node.properties().forEach(e -> m.put(e.getKey(), sorted(e.getValue())));
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            m.forEach(o::set);
            return o;
        }
        if (node.isArray()) {
            var a = JsonNodeFactory.instance.arrayNode();
            node.forEach(v -> a.add(sorted(v)));
            return a;
        }
        return node;
    }

    // --- parsing ---------------------------------------------------------------------------------------------

    private static final class Parser {
        private final String s;
        private int pos;

        Parser(String s) {
            this.s = s;
        }

        List<Node> template() {
            Deque<List<Node>> stack = new ArrayDeque<>();
            Deque<List<Step>> ranges = new ArrayDeque<>();
            List<Node> current = new ArrayList<>();
            StringBuilder text = new StringBuilder();
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c != '{') {
                    text.append(c);
                    pos++;
                    continue;
                }
                if (!text.isEmpty()) {
                    current.add(new Text(text.toString()));
                    text.setLength(0);
                }
                int close = closing(pos);
                String action = s.substring(pos + 1, close).strip();
                int bodyStart = pos + 1 + (s.substring(pos + 1, close).indexOf(action));
                pos = close + 1;
                if (action.equals("end")) {
                    if (ranges.isEmpty()) {
                        throw error("not in range, nothing to end");
                    }
                    List<Node> body = current;
                    current = stack.pop();
                    current.add(new Range(ranges.pop(), body));
                } else if (action.startsWith("range ") || action.equals("range")) {
                    int save = pos;
                    pos = bodyStart + 5;
                    List<Step> steps = path(close);
                    pos = save;
                    ranges.push(steps);
                    stack.push(current);
                    current = new ArrayList<>();
                } else if (action.startsWith("\"") || action.startsWith("'")) {
                    current.add(new Text(unquote(action)));
                } else if (!action.isEmpty()) {
                    int save = pos;
                    pos = bodyStart;
                    List<Step> steps = path(close);
                    pos = save;
                    current.add(new Expr(steps));
                }
            }
            if (!text.isEmpty()) {
                current.add(new Text(text.toString()));
            }
            if (!ranges.isEmpty()) {
                throw error("range without end");
            }
            return current;
        }

        private int closing(int open) {
            boolean quoted = false;
            char quote = 0;
            for (int i = open + 1; i < s.length(); i++) {
                char c = s.charAt(i);
                if (quoted) {
                    if (c == '\\') {
                        i++;
                    } else if (c == quote) {
                        quoted = false;
                    }
                } else if (c == '"' || c == '\'') {
                    quoted = true;
                    quote = c;
                } else if (c == '}') {
                    return i;
                }
            }
            throw error("unclosed action");
        }

        /** Parses a path from {@code pos} up to {@code limit}. */
        List<Step> path(int limit) {
            List<Step> steps = new ArrayList<>();
            skipSpaces(limit);
            while (pos < limit) {
                char c = s.charAt(pos);
                if (c == '$') {
                    steps.add(new Root());
                    pos++;
                } else if (c == '@') {
                    steps.add(new Current());
                    pos++;
                } else if (c == '.') {
                    if (pos + 1 < limit && s.charAt(pos + 1) == '.') {
                        pos += 2;
                        if (pos < limit && s.charAt(pos) == '*') {
                            pos++;
                            steps.add(new Recursive(null));
                        } else {
                            steps.add(new Recursive(identifier(limit)));
                        }
                    } else {
                        pos++;
                        if (pos < limit && s.charAt(pos) == '*') {
                            pos++;
                            steps.add(new Wildcard());
                        } else if (pos < limit && s.charAt(pos) != '[' && !terminator(s.charAt(pos))) {
                            steps.add(new Field(identifier(limit)));
                        }
                    }
                } else if (c == '[') {
                    steps.add(bracket(limit));
                } else if (Character.isWhitespace(c)) {
                    skipSpaces(limit);
                    if (pos < limit) {
                        throw error("unexpected \"" + s.substring(pos, limit) + "\" after a path");
                    }
                } else if (Character.isLetter(c) || c == '_') {
                    // kubectl accepts a leading field without its dot, as in {metadata.name}
                    steps.add(new Field(identifier(limit)));
                } else {
                    break;
                }
            }
            return steps;
        }

        private Step bracket(int limit) {
            int close = matchingBracket(pos, limit);
            String inner = s.substring(pos + 1, close).strip();
            int innerStart = pos + 1;
            pos = close + 1;
            if (inner.equals("*")) {
                return new Wildcard();
            }
            if (inner.startsWith("?")) {
                String cond = inner.substring(1).strip();
                if (!cond.startsWith("(") || !cond.endsWith(")")) {
                    throw error("invalid filter \"" + inner + "\"");
                }
                return filter(cond.substring(1, cond.length() - 1).strip());
            }
            List<String> parts = splitUnion(inner);
            if (parts.size() > 1) {
                List<Step> members = new ArrayList<>();
                for (String p : parts) {
                    members.add(single(p.strip()));
                }
                return new Union(members);
            }
            if (inner.isEmpty()) {
                throw error("empty brackets at " + innerStart);
            }
            return single(inner);
        }

        private Step single(String part) {
            if (part.startsWith("'") || part.startsWith("\"")) {
                return new Field(unquote(part));
            }
            if (part.contains(":")) {
                String[] bits = part.split(":", -1);
                Integer start = bits[0].isBlank() ? null : number(bits[0]);
                Integer end = bits[1].isBlank() ? null : number(bits[1]);
                int step = bits.length > 2 && !bits[2].isBlank() ? number(bits[2]) : 1;
                if (step <= 0) {
                    throw error("step must be positive in \"" + part + "\"");
                }
                return new Slice(start, end, step);
            }
            return new Index(number(part));
        }

        private Filter filter(String cond) {
            for (String op : List.of("==", "!=", "<=", ">=", "<", ">")) {
                int at = indexOutsideQuotes(cond, op);
                if (at > 0) {
                    List<Step> left = sub(cond.substring(0, at).strip());
                    String right = cond.substring(at + op.length()).strip();
                    if (right.startsWith("@") || right.startsWith("$")) {
                        return new Filter(left, op, sub(right), null);
                    }
                    return new Filter(left, op, null, literal(right));
                }
            }
            return new Filter(sub(cond), null, null, null);
        }

        private List<Step> sub(String path) {
            Parser p = new Parser(path);
            List<Step> steps = p.path(path.length());
            if (p.pos != path.length()) {
                throw error("unrecognized filter operand \"" + path + "\"");
            }
            return steps;
        }

        private JsonNode literal(String text) {
            JsonNodeFactory f = JsonNodeFactory.instance;
            if (text.startsWith("\"") || text.startsWith("'")) {
                return f.textNode(unquote(text));
            }
            if (text.equals("true") || text.equals("false")) {
                return f.booleanNode(Boolean.parseBoolean(text));
            }
            if (text.equals("nil") || text.equals("null")) {
                return f.nullNode();
            }
            try {
                return text.matches("-?\\d+") ? f.numberNode(Long.parseLong(text)) : f.numberNode(Double.parseDouble(text));
            } catch (NumberFormatException e) {
                throw error("unrecognized literal \"" + text + "\" in filter");
            }
        }

        private String identifier(int limit) {
            StringBuilder name = new StringBuilder();
            while (pos < limit) {
                char c = s.charAt(pos);
                if (c == '\\' && pos + 1 < limit) {
                    name.append(s.charAt(pos + 1)); // "\." keeps a dot inside a key such as sidecar\.istio\.io/inject
                    pos += 2;
                    continue;
                }
                if (c == '.' || c == '[' || terminator(c)) {
                    break;
                }
                name.append(c);
                pos++;
            }
            if (name.isEmpty()) {
                throw error("missing field name at position " + pos);
            }
            return name.toString();
        }

        private static boolean terminator(char c) {
            return Character.isWhitespace(c) || "()=!<>,}]".indexOf(c) >= 0;
        }

        private int matchingBracket(int open, int limit) {
            int depth = 0;
            char quote = 0;
            for (int i = open; i < limit; i++) {
                char c = s.charAt(i);
                if (quote != 0) {
                    if (c == quote) {
                        quote = 0;
                    }
                } else if (c == '"' || c == '\'') {
                    quote = c;
                } else if (c == '[') {
                    depth++;
                } else if (c == ']' && --depth == 0) {
                    return i;
                }
            }
            throw error("unterminated array");
        }

        private void skipSpaces(int limit) {
            while (pos < limit && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        private static List<String> splitUnion(String inner) {
            List<String> parts = new ArrayList<>();
            char quote = 0;
            int start = 0;
            for (int i = 0; i < inner.length(); i++) {
                char c = inner.charAt(i);
                if (quote != 0) {
                    if (c == quote) {
                        quote = 0;
                    }
                } else if (c == '"' || c == '\'') {
                    quote = c;
                } else if (c == ',') {
                    parts.add(inner.substring(start, i));
                    start = i + 1;
                }
            }
            parts.add(inner.substring(start));
            return parts;
        }

        private static int indexOutsideQuotes(String text, String op) {
            char quote = 0;
            for (int i = 0; i + op.length() <= text.length(); i++) {
                char c = text.charAt(i);
                if (quote != 0) {
                    if (c == quote) {
                        quote = 0;
                    }
                } else if (c == '"' || c == '\'') {
                    quote = c;
                } else if (text.startsWith(op, i)) {
                    // "<" must not be the start of "<=", nor "=" part of "!=" handled earlier
                    return i;
                }
            }
            return -1;
        }

        private int number(String text) {
            try {
                return Integer.parseInt(text.strip());
            } catch (NumberFormatException e) {
                throw error("invalid array index \"" + text.strip() + "\"");
            }
        }

        private String unquote(String quoted) {
            char q = quoted.charAt(0);
            if (quoted.length() < 2 || quoted.charAt(quoted.length() - 1) != q) {
                throw error("unterminated string " + quoted);
            }
            String body = quoted.substring(1, quoted.length() - 1);
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < body.length(); i++) {
                char c = body.charAt(i);
                if (c != '\\' || i + 1 == body.length()) {
                    out.append(c);
                    continue;
                }
                char e = body.charAt(++i);
                switch (e) {
                    case 'n' -> out.append('\n');
                    case 't' -> out.append('\t');
                    case 'r' -> out.append('\r');
                    case '\\' -> out.append('\\');
                    case '"' -> out.append('"');
                    case '\'' -> out.append('\'');
                    default -> out.append('\\').append(e);
                }
            }
            return out.toString();
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException("error parsing jsonpath " + s + ", " + what);
        }
    }
}
