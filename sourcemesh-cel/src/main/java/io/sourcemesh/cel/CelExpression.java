package io.sourcemesh.cel;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The part of CEL that Istio's Telemetry access-log filters are written in, as Envoy's CEL access-log filter
 * ({@code envoy.access_loggers.extension_filters.cel}) evaluates it: comparisons ({@code == != < <= > >=}) of the
 * attributes in {@link #ATTRIBUTES} and int, string (single or double quotes) and bool literals, joined by {@code &&},
 * {@code ||}, {@code !} and parentheses. Anything else (functions, macros, maps, other attributes, comparisons of
 * different types) is refused when parsed, with a message naming it, rather than evaluated wrongly. As CEL: an
 * attribute the stream does not have (response.code on a TCP connection) is an error, {@code &&} and {@code ||} let a
 * definite side win over an error, and an error or non-bool result logs nothing (Envoy's filter returns false).
 * The API server parses a Telemetry's filter with it at apply, the proxies evaluate it: one class, so what apply takes
 * the proxies take.
 */
public final class CelExpression {

    /** CEL's types of the values here. */
    public enum Type { INT, STRING, BOOL }

    /** The attributes a filter may read, with their types: Envoy's attribute names (docs: advanced/attributes). */
    public static final Map<String, Type> ATTRIBUTES = Map.ofEntries(
            Map.entry("response.code", Type.INT), Map.entry("request.method", Type.STRING),
            Map.entry("request.host", Type.STRING), Map.entry("request.path", Type.STRING),
            Map.entry("request.url_path", Type.STRING), Map.entry("request.scheme", Type.STRING),
            Map.entry("connection.mtls", Type.BOOL), Map.entry("source.address", Type.STRING),
            Map.entry("source.port", Type.INT), Map.entry("destination.address", Type.STRING),
            Map.entry("destination.port", Type.INT), Map.entry("xds.cluster_name", Type.STRING));

    /** An evaluation error (a missing attribute), absorbed by {@code &&} and {@code ||} as in CEL. */
    private static final Object ERROR = new Object();

    private final String source;
    private final Node root;

    private CelExpression(String source, Node root) {
        this.source = source;
        this.root = root;
    }

    /**
     * @throws IllegalArgumentException naming what is outside the subset or malformed
     */
    public static CelExpression parse(String expression) {
        Parser p = new Parser(expression);
        Node root = p.or();
        if (p.peek().kind != Tok.END) {
            throw p.problem("unexpected " + p.peek().describe());
        }
        if (root.type() != Type.BOOL) {
            throw new IllegalArgumentException("CEL expression \"" + expression + "\" is a " + root.type().name().toLowerCase()
                    + ", not a bool");
        }
        return new CelExpression(expression, root);
    }

    /** True when the expression is true for these attribute values (null: the stream has no such attribute). */
    public boolean test(Function<String, Object> attributes) {
        return Boolean.TRUE.equals(root.eval(attributes));
    }

    public String source() {
        return source;
    }

    @Override
    public String toString() {
        return source;
    }

    private sealed interface Node permits Literal, Attribute, Not, Logic, Compare {
        Type type();

        Object eval(Function<String, Object> attributes);
    }

    private record Literal(Object value, Type type) implements Node {
        public Object eval(Function<String, Object> attributes) {
            return value;
        }
    }

    private record Attribute(String name, Type type) implements Node {
        public Object eval(Function<String, Object> attributes) {
            Object v = attributes.apply(name);
            return v == null ? ERROR : v;
        }
    }

    private record Not(Node operand) implements Node {
        public Type type() {
            return Type.BOOL;
        }

        public Object eval(Function<String, Object> attributes) {
            Object v = operand.eval(attributes);
            return v instanceof Boolean b ? !b : ERROR;
        }
    }

    private record Logic(boolean and, Node left, Node right) implements Node {
        public Type type() {
            return Type.BOOL;
        }

        public Object eval(Function<String, Object> attributes) {
            Object l = left.eval(attributes);
            if (l instanceof Boolean b && b != and) {
                return b; // false && x, true || x
            }
            Object r = right.eval(attributes);
            if (r instanceof Boolean b && b != and) {
                return b; // error && false is false, error || true is true (CEL's commutative logic)
            }
            return l instanceof Boolean && r instanceof Boolean ? and : ERROR;
        }
    }

    private record Compare(String op, Node left, Node right) implements Node {
        public Type type() {
            return Type.BOOL;
        }

        public Object eval(Function<String, Object> attributes) {
            Object l = left.eval(attributes);
            Object r = right.eval(attributes);
            if (l == ERROR || r == ERROR) {
                return ERROR;
            }
            if (op.equals("==") || op.equals("!=")) {
                return Objects.equals(l, r) == op.equals("==");
            }
            int c = l instanceof Long a ? Long.compare(a, (Long) r) : l instanceof String a ? a.compareTo((String) r)
                    : Boolean.compare((Boolean) l, (Boolean) r);
            return switch (op) {
                case "<" -> c < 0;
                case "<=" -> c <= 0;
                case ">" -> c > 0;
                default -> c >= 0;
            };
        }
    }

    private enum Tok { IDENT, INT, STRING, OP, LPAREN, RPAREN, END }

    private record Token(Tok kind, String text, Object value, int at) {
        String describe() {
            return kind == Tok.END ? "end of expression" : "\"" + text + "\" at " + at;
        }
    }

    /** Recursive descent over CEL's grammar, its precedence: || below &&, below the relations, below unary !. */
    private static final class Parser {
        private final String src;
        private final List<Token> tokens;
        private int next;

        Parser(String src) {
            this.src = src;
            this.tokens = lex(src);
        }

        Token peek() {
            return tokens.get(next);
        }

        boolean eat(String op) {
            Token t = peek();
            if (t.kind == Tok.OP && t.text.equals(op)) {
                next++;
                return true;
            }
            return false;
        }

        Node or() {
            Node n = and();
            while (eat("||")) {
                n = logic(false, n, and());
            }
            return n;
        }

        Node and() {
            Node n = relation();
            while (eat("&&")) {
                n = logic(true, n, relation());
            }
            return n;
        }

        Node logic(boolean and, Node l, Node r) {
            if (l.type() != Type.BOOL || r.type() != Type.BOOL) {
                throw problem("the operands of " + (and ? "&&" : "||") + " must be bool");
            }
            return new Logic(and, l, r);
        }

        Node relation() {
            Node n = unary();
            for (String op : List.of("==", "!=", "<=", ">=", "<", ">")) {
                if (eat(op)) {
                    Node r = unary();
                    if (n.type() != r.type()) {
                        throw problem("cannot compare a " + n.type().name().toLowerCase() + " with a "
                                + r.type().name().toLowerCase() + " (" + op + ")");
                    }
                    if (peek().kind == Tok.OP && List.of("==", "!=", "<=", ">=", "<", ">").contains(peek().text)) {
                        throw problem("a comparison's result compared again (" + peek().text + "); use && or parentheses");
                    }
                    return new Compare(op, n, r);
                }
            }
            return n;
        }

        Node unary() {
            if (eat("!")) {
                Node n = unary();
                if (n.type() != Type.BOOL) {
                    throw problem("! needs a bool");
                }
                return new Not(n);
            }
            Token t = peek();
            next++;
            return switch (t.kind) {
                case INT -> new Literal(t.value, Type.INT);
                case STRING -> new Literal(t.value, Type.STRING);
                case LPAREN -> {
                    Node n = or();
                    if (peek().kind != Tok.RPAREN) {
                        throw problem("expected ) but found " + peek().describe());
                    }
                    next++;
                    yield n;
                }
                case IDENT -> switch (t.text) {
                    case "true" -> new Literal(true, Type.BOOL);
                    case "false" -> new Literal(false, Type.BOOL);
                    default -> attribute(t);
                };
                default -> throw problem("unexpected " + t.describe());
            };
        }

        Node attribute(Token first) {
            StringBuilder name = new StringBuilder(first.text);
            while (eat(".")) {
                Token part = peek();
                if (part.kind != Tok.IDENT) {
                    throw problem("expected a name after \"" + name + ".\" but found " + part.describe());
                }
                next++;
                name.append('.').append(part.text);
            }
            if (peek().kind == Tok.LPAREN || (peek().kind == Tok.OP && peek().text.equals("["))) {
                throw problem("\"" + name + peek().text + "\": functions, macros and indexing are not supported");
            }
            Type type = ATTRIBUTES.get(name.toString());
            if (type == null) {
                throw problem("attribute \"" + name + "\" is not supported (supported: "
                        + String.join(", ", ATTRIBUTES.keySet().stream().sorted().toList()) + ")");
            }
            return new Attribute(name.toString(), type);
        }

        IllegalArgumentException problem(String what) {
            return new IllegalArgumentException("CEL expression \"" + src + "\": " + what + "; SourceMesh evaluates "
                    + "comparisons (== != < <= > >=) of attributes and int, string or bool literals, with && || ! and "
                    + "parentheses");
        }

        private List<Token> lex(String s) {
            List<Token> out = new ArrayList<>();
            int i = 0;
            while (i < s.length()) {
                char c = s.charAt(i);
                if (Character.isWhitespace(c)) {
                    i++;
                } else if (Character.isLetter(c) || c == '_') {
                    int start = i;
                    while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) {
                        i++;
                    }
                    out.add(new Token(Tok.IDENT, s.substring(start, i), null, start));
                } else if (Character.isDigit(c) || (c == '-' && i + 1 < s.length() && Character.isDigit(s.charAt(i + 1)))) {
                    int start = i++;
                    while (i < s.length() && Character.isDigit(s.charAt(i))) {
                        i++;
                    }
                    if (i < s.length() && (Character.isLetter(s.charAt(i)) || s.charAt(i) == '.')) {
                        throw problemAt("only decimal int literals are supported", start);
                    }
                    try {
                        out.add(new Token(Tok.INT, s.substring(start, i), Long.parseLong(s.substring(start, i)), start));
                    } catch (NumberFormatException e) {
                        throw problemAt("int literal out of range", start);
                    }
                } else if (c == '"' || c == '\'') {
                    int start = i++;
                    StringBuilder v = new StringBuilder();
                    while (i < s.length() && s.charAt(i) != c) {
                        char d = s.charAt(i++);
                        if (d == '\\') {
                            if (i >= s.length()) {
                                break;
                            }
                            char e = s.charAt(i++);
                            v.append(switch (e) {
                                case 'n' -> '\n';
                                case 't' -> '\t';
                                case '\\', '\'', '"' -> e;
                                default -> throw problemAt("escape \\" + e + " is not supported", i - 2);
                            });
                        } else {
                            v.append(d);
                        }
                    }
                    if (i >= s.length()) {
                        throw problemAt("unterminated string", start);
                    }
                    i++;
                    out.add(new Token(Tok.STRING, s.substring(start, i), v.toString(), start));
                } else if (c == '(' || c == ')') {
                    out.add(new Token(c == '(' ? Tok.LPAREN : Tok.RPAREN, String.valueOf(c), null, i++));
                } else {
                    String two = i + 1 < s.length() ? s.substring(i, i + 2) : "";
                    if (List.of("==", "!=", "<=", ">=", "&&", "||").contains(two)) {
                        out.add(new Token(Tok.OP, two, null, i));
                        i += 2;
                    } else if ("<>!.[".indexOf(c) >= 0) {
                        out.add(new Token(Tok.OP, String.valueOf(c), null, i++));
                    } else {
                        throw problemAt("unexpected \"" + c + "\"", i);
                    }
                }
            }
            out.add(new Token(Tok.END, "", null, s.length()));
            return out;
        }

        private IllegalArgumentException problemAt(String what, int at) {
            return problem(what + " at " + at);
        }
    }
}
