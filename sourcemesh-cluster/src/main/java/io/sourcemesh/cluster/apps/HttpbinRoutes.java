package io.sourcemesh.cluster.apps;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.multipart.Attribute;
import io.netty.handler.codec.http.multipart.DefaultHttpDataFactory;
import io.netty.handler.codec.http.multipart.FileUpload;
import io.netty.handler.codec.http.multipart.HttpPostRequestDecoder;
import io.netty.handler.codec.http.multipart.InterfaceHttpData;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * httpbin's views (core.py) and helpers (helpers.py), one method per route.
 * <p>Over 400 lines: httpbin's routes as one table, each a few lines after httpbin's own handler, kept
 * together so they read against httpbin's source.
 */
final class HttpbinRoutes {
    /** helpers.ENV_HEADERS: what a hosting platform adds; hidden unless ?show_env. */
    private static final Set<String> ENV_HEADERS = Set.of("X-Varnish", "X-Request-Start", "X-Heroku-Queue-Depth",
            "X-Real-Ip", "X-Forwarded-Proto", "X-Forwarded-Protocol", "X-Forwarded-Ssl", "X-Heroku-Queue-Wait-Time",
            "X-Forwarded-For", "X-Heroku-Dynos-In-Use", "X-Forwarded-Port", "X-Request-Id", "Via",
            "Total-Route-Time", "Connect-Time");
    private static final Set<String> ENV_COOKIES = Set.of("_gauges_unique", "_gauges_unique_year",
            "_gauges_unique_month", "_gauges_unique_day", "_gauges_unique_hour", "__utmz", "__utma", "__utmb");
    private static final List<String> ANY = List.of("GET", "POST", "PUT", "DELETE", "PATCH", "TRACE");
    private static final List<String> GET = List.of("GET");
    private static final Pattern INT = Pattern.compile("[0-9]+");
    /** What Python's float() accepts (underscores aside). */
    private static final Pattern PY_FLOAT = Pattern.compile(
            "[+-]?(([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?|(?i:inf|infinity|nan))");
    private static final int MAX_BYTES = 100 * 1024;

    static final String ASCII_ART = """

                -=[ teapot ]=-

                   _...._
                 .'  _ _ `.
                | ."` ^ `". _,
                \\_;`"---"`|//
                  |       ;/
                  \\_     _/
                    `\"""`
            """;

    private HttpbinRoutes() {}

    /** Dispatches like Flask: match the path, then the method (HEAD rides on GET, OPTIONS is automatic). */
    static HttpbinReply handle(HttpbinRequest r) {
        String p = r.path();
        String[] seg = p.substring(1).split("/", -1);
        return switch (seg[0]) {
            case "" -> p.equals("/") ? route(r, GET, () -> landing()) : notFound();
            case "ip" -> exact(r, seg, 1, GET, () -> HttpbinReply.json(Map.of("origin", r.origin())));
            case "uuid" -> exact(r, seg, 1, GET, () -> HttpbinReply.json(Map.of("uuid", UUID.randomUUID().toString())));
            case "headers" -> exact(r, seg, 1, GET, () -> HttpbinReply.json(Map.of("headers", headers(r))));
            case "user-agent" -> exact(r, seg, 1, GET, () -> userAgent(r));
            case "get" -> exact(r, seg, 1, GET, () -> HttpbinReply.json(dict(r, "url", "args", "headers", "origin")));
            case "post", "put", "patch", "delete" -> exact(r, seg, 1, List.of(seg[0].toUpperCase(Locale.ROOT)),
                    () -> HttpbinReply.json(dict(r, "url", "args", "form", "data", "origin", "headers", "files", "json")));
            case "anything" -> (seg.length == 1 || (seg.length > 1 && !seg[1].isEmpty()))
                    ? route(r, ANY, () -> HttpbinReply.json(
                            dict(r, "url", "args", "headers", "origin", "method", "form", "data", "files", "json")))
                    : notFound();
            case "status" -> seg.length == 2 && !seg[1].isEmpty() ? route(r, ANY, () -> status(seg[1])) : notFound();
            case "delay" -> seg.length == 2 && !seg[1].isEmpty() ? route(r, ANY, () -> delay(r, seg[1])) : notFound();
            case "bytes" -> intArg(seg) ? route(r, GET, () -> bytes(r, Integer.parseInt(clip(seg[1])))) : notFound();
            case "stream" -> intArg(seg) ? route(r, GET, () -> stream(r, Integer.parseInt(clip(seg[1])))) : notFound();
            case "redirect" -> intArg(seg) ? route(r, GET, () -> redirect(r, seg[1], "relative")) : notFound();
            case "relative-redirect" -> intArg(seg) ? route(r, GET, () -> relativeRedirect(seg[1])) : notFound();
            case "absolute-redirect" -> intArg(seg) ? route(r, GET, () -> redirect(r, seg[1], "absolute")) : notFound();
            case "response-headers" -> exact(r, seg, 1, List.of("GET", "POST"), () -> responseHeaders(r));
            case "cookies" -> cookies(r, seg);
            default -> notFound();
        };
    }

    private static boolean intArg(String[] seg) {
        return seg.length == 2 && INT.matcher(seg[1]).matches();
    }

    /** Huge digit strings still mean "a lot": clip before parsing, as every use caps the value. */
    private static String clip(String digits) {
        String s = digits.replaceFirst("^0+(?=.)", "");
        return s.length() > 9 ? "999999999" : s;
    }

    private static HttpbinReply exact(HttpbinRequest r, String[] seg, int length, List<String> methods,
            Supplier<HttpbinReply> view) {
        return seg.length == length ? route(r, methods, view) : notFound();
    }

    private static HttpbinReply route(HttpbinRequest r, List<String> methods,
            Supplier<HttpbinReply> view) {
        List<String> allowed = new ArrayList<>(methods);
        if (allowed.contains("GET")) {
            allowed.add("HEAD");
        }
        allowed.add("OPTIONS");
        String allow = String.join(", ", allowed);
        if (r.method().equals("OPTIONS")) {
            return HttpbinReply.text(200, HttpbinReply.HTML, "").header("Allow", allow);
        }
        if (!allowed.contains(r.method())) {
            return error(405, "Method Not Allowed", "The method is not allowed for the requested URL.")
                    .header("Allow", allow);
        }
        try {
            return view.get();
        } catch (RuntimeException e) { // an uncaught exception in a Flask view
            return internalError();
        }
    }

    // ---- helpers.py ----

    /** get_headers(): title-cased, ENV_HEADERS hidden unless ?show_env. */
    static Map<String, String> headers(HttpbinRequest r) {
        Map<String, String> out = new LinkedHashMap<>(r.headers());
        if (!r.hasArg("show_env")) {
            out.keySet().removeAll(ENV_HEADERS);
        }
        return out;
    }

    /** get_dict(): the named keys, in the order asked (order matters only for /stream). */
    static Map<String, Object> dict(HttpbinRequest r, String... keys) {
        Body body = Body.of(r);
        Map<String, Object> out = new LinkedHashMap<>();
        for (String key : keys) {
            out.put(key, switch (key) {
                case "url" -> r.url();
                case "args" -> semiflatten(r.args());
                case "form" -> semiflatten(body.form);
                case "data" -> jsonSafe(body.data, "application/octet-stream");
                case "origin" -> r.origin();
                case "headers" -> headers(r);
                case "files" -> semiflatten(body.files);
                case "json" -> body.json();
                case "method" -> r.method();
                default -> throw new IllegalArgumentException(key);
            });
        }
        return out;
    }

    /** One value stays a string, repeats become a list. */
    private static Map<String, Object> semiflatten(Map<String, List<String>> multi) {
        Map<String, Object> out = new LinkedHashMap<>();
        multi.forEach((k, v) -> out.put(k, v.size() == 1 ? v.getFirst() : List.copyOf(v)));
        return out;
    }

    /** json_safe(): UTF-8 text as is, anything else as an RFC 2397 data URL. */
    static String jsonSafe(byte[] bytes, String contentType) {
        return utf8(bytes).orElseGet(() -> "data:" + contentType + ";base64," + Base64.getEncoder().encodeToString(bytes));
    }

    /** Strict UTF-8, as Python's bytes.decode('utf-8'). */
    static Optional<String> utf8(byte[] bytes) {
        try {
            return Optional.of(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }

    /** request.form / request.files / request.data, as werkzeug splits a body by its content type. */
    private static final class Body {
        final Map<String, List<String>> form = new LinkedHashMap<>();
        final Map<String, List<String>> files = new LinkedHashMap<>();
        byte[] data = new byte[0];

        static Body of(HttpbinRequest r) {
            Body b = new Body();
            String mime = r.mimeType();
            if (mime.equals("application/x-www-form-urlencoded")) {
                b.form.putAll(HttpbinRequest.urlDecode(new String(r.body(), StandardCharsets.ISO_8859_1)));
            } else if (mime.equals("multipart/form-data")) {
                b.multipart(r);
            } else {
                b.data = r.body();
            }
            return b;
        }

        /** json.loads(data.decode('utf-8')), None where either step raises. */
        Object json() {
            return utf8(data).flatMap(PyJson::parse).orElse(null);
        }

        private void multipart(HttpbinRequest r) {
            FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/",
                    Unpooled.wrappedBuffer(r.body()));
            req.headers().set(HttpHeaderNames.CONTENT_TYPE, r.header("Content-Type").orElse(""));
            HttpPostRequestDecoder decoder = null;
            try {
                decoder = new HttpPostRequestDecoder(new DefaultHttpDataFactory(false), req, StandardCharsets.UTF_8);
                for (InterfaceHttpData part : decoder.getBodyHttpDatas()) {
                    if (part instanceof FileUpload f) {
                        String type = f.getContentType() == null ? "application/octet-stream" : f.getContentType();
                        files.computeIfAbsent(f.getName(), k -> new ArrayList<>()).add(jsonSafe(f.get(), type));
                    } else if (part instanceof Attribute a) {
                        form.computeIfAbsent(a.getName(), k -> new ArrayList<>()).add(a.getValue());
                    }
                }
            } catch (Exception e) {
                // werkzeug answers a broken multipart body with empty form and files
            } finally {
                if (decoder != null) {
                    decoder.destroy();
                }
                req.release();
            }
        }
    }

    // ---- core.py views ----

    private static HttpbinReply userAgent(HttpbinRequest r) {
        String ua = r.header("User-Agent").orElseThrow(); // KeyError in httpbin: a 500
        return HttpbinReply.json(Map.of("user-agent", ua));
    }

    /** view_status_code: one code, or a weighted random pick from "a,b:w,...". */
    static HttpbinReply status(String codes) {
        if (!codes.contains(",")) {
            Integer code = pyInt(codes);
            return code == null ? HttpbinReply.text(400, HttpbinReply.HTML, "Invalid status code") : statusCode(code);
        }
        List<Integer> values = new ArrayList<>();
        List<Double> weights = new ArrayList<>();
        for (String choice : codes.split(",", -1)) {
            String[] parts = choice.split(":", -1);
            Integer code = pyInt(parts[0]);
            Double weight = parts.length == 1 ? Double.valueOf(1) : pyFloat(parts[1]);
            if (parts.length > 2) { // "code, weight = choice.split(':')" raises outside the try
                return internalError();
            }
            if (code == null || weight == null) {
                return HttpbinReply.text(400, HttpbinReply.HTML, "Invalid status code");
            }
            values.add(code);
            weights.add(weight);
        }
        return statusCode(weightedChoice(values, weights));
    }

    /** utils.weighted_choice: uniform over the cumulative weights, bisect right. */
    static int weightedChoice(List<Integer> values, List<Double> weights) {
        double total = 0;
        double[] cumulative = new double[weights.size()];
        for (int i = 0; i < cumulative.length; i++) {
            total += weights.get(i);
            cumulative[i] = total;
        }
        double x = ThreadLocalRandom.current().nextDouble() * total;
        for (int i = 0; i < cumulative.length; i++) {
            if (x < cumulative[i]) {
                return values.get(i);
            }
        }
        return values.getLast();
    }

    /** helpers.status_code: the code plus the few bodies and headers httpbin adds. */
    static HttpbinReply statusCode(int code) {
        if (code < 100 || code > 999) { // werkzeug cannot send these; it fails the request
            return internalError();
        }
        HttpbinReply reply = HttpbinReply.status(code).header("Content-Type", HttpbinReply.HTML);
        return switch (code) {
            case 301, 302, 303, 305, 307 -> reply.header("Location", "/redirect/1");
            case 401 -> reply.header("WWW-Authenticate", "Basic realm=\"Fake Realm\"");
            case 402 -> reply.header("x-more-info", "http://vimeo.com/22053820").body("Fuck you, pay me!");
            case 406 -> HttpbinReply.status(406).header("Content-Type", "application/json").body(
                    "{\"message\": \"Client did not request a supported media type.\", \"accept\": "
                            + "[\"image/webp\", \"image/svg+xml\", \"image/jpeg\", \"image/png\", \"image/*\"]}");
            case 407 -> reply.header("Proxy-Authenticate", "Basic realm=\"Fake Realm\"");
            case 418 -> reply.header("x-more-info", "http://tools.ietf.org/html/rfc2324").body(ASCII_ART);
            default -> reply;
        };
    }

    /** delay_response: min(float(n), 10) seconds, then the request echoed back; never blocks the loop. */
    private static HttpbinReply delay(HttpbinRequest r, String value) {
        Double seconds = pyFloat(value);
        if (seconds == null) { // float('x') raises ValueError: a 500
            return internalError();
        }
        double capped = Math.min(seconds, 10);
        if (Double.isNaN(seconds) || capped < 0) { // time.sleep(nan) and time.sleep(-1) raise too
            return internalError();
        }
        Map<String, Object> echo = dict(r, "url", "args", "form", "data", "origin", "headers", "files");
        return HttpbinReply.delayed(Duration.ofNanos((long) (capped * 1e9)), () -> HttpbinReply.json(echo));
    }

    private static HttpbinReply bytes(HttpbinRequest r, int n) {
        int size = Math.min(n, MAX_BYTES);
        Random random = r.arg("seed").map(s -> (Random) new Random(Long.parseLong(s.trim())))
                .orElseGet(ThreadLocalRandom::current);
        byte[] data = new byte[size];
        random.nextBytes(data);
        return HttpbinReply.status(200).header("Content-Type", "application/octet-stream").body(data);
    }

    /** stream_n_messages: min(n, 100) lines of json.dumps(get_dict(...) + id), chunked. */
    private static HttpbinReply stream(HttpbinRequest r, int n) {
        Map<String, Object> response = dict(r, "url", "args", "headers", "origin");
        List<byte[]> chunks = new ArrayList<>();
        for (int i = 0; i < Math.min(n, 100); i++) {
            response.put("id", i);
            chunks.add((PyJson.compact(response) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return HttpbinReply.status(200).header("Content-Type", "application/json").chunks(chunks);
    }

    /** redirect_n_times / absolute_redirect_n_times: 302s down to /get. */
    private static HttpbinReply redirect(HttpbinRequest r, String digits, String kind) {
        int n = Integer.parseInt(clip(digits));
        if (n <= 0) { // assert n > 0
            return internalError();
        }
        boolean absolute = kind.equals("absolute")
                || r.arg("absolute").map(v -> v.equalsIgnoreCase("true")).orElse(false);
        String path = n == 1 ? "/get" : "/" + (absolute ? "absolute" : "relative") + "-redirect/" + (n - 1);
        String base = absolute ? r.url().substring(0, r.url().indexOf('/', r.url().indexOf("//") + 2)) : "";
        return werkzeugRedirect(base + path);
    }

    private static HttpbinReply relativeRedirect(String digits) {
        int n = Integer.parseInt(clip(digits));
        if (n <= 0) {
            return internalError();
        }
        String location = n == 1 ? "/get" : "/relative-redirect/" + (n - 1);
        return HttpbinReply.text(302, HttpbinReply.HTML, "").header("Location", location);
    }

    /** werkzeug.utils.redirect: 302 with its small HTML page. */
    static HttpbinReply werkzeugRedirect(String location) {
        String shown = escape(location);
        return HttpbinReply.text(302, HttpbinReply.HTML, "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n"
                + "<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n"
                + "<p>You should be redirected automatically to target URL: <a href=\"" + shown + "\">" + shown
                + "</a>.  If not click the link.").header("Location", location);
    }

    /**
     * response_headers: the query becomes response headers, and the body lists every header —
     * Content-Length included, so the body is rebuilt until its own length stops changing.
     */
    private static HttpbinReply responseHeaders(HttpbinRequest r) {
        List<Map.Entry<String, String>> extra = new ArrayList<>();
        r.args().forEach((k, vs) -> vs.forEach(v -> extra.add(Map.entry(k, v))));
        String body = "";
        for (int round = 0; round < 10; round++) {
            Map<String, List<String>> all = new LinkedHashMap<>();
            all.computeIfAbsent("Content-Type", k -> new ArrayList<>()).add(HttpbinReply.JSON);
            all.computeIfAbsent("Content-Length", k -> new ArrayList<>())
                    .add(Integer.toString(body.getBytes(StandardCharsets.UTF_8).length));
            for (Map.Entry<String, String> e : extra) {
                String key = all.keySet().stream().filter(e.getKey()::equalsIgnoreCase).findFirst().orElse(e.getKey());
                all.computeIfAbsent(key, k -> new ArrayList<>()).add(e.getValue());
            }
            String next = PyJson.pretty(semiflatten(all));
            if (next.equals(body)) {
                break;
            }
            body = next;
        }
        HttpbinReply reply = HttpbinReply.status(200).header("Content-Type", HttpbinReply.JSON).body(body);
        extra.forEach(e -> reply.header(e.getKey(), e.getValue()));
        return reply;
    }

    private static HttpbinReply cookies(HttpbinRequest r, String[] seg) {
        if (seg.length == 1) {
            return route(r, GET, () -> {
                Map<String, String> cookies = parseCookies(r.header("Cookie").orElse(""));
                if (!r.hasArg("show_env")) {
                    cookies.keySet().removeAll(ENV_COOKIES);
                }
                return HttpbinReply.json(Map.of("cookies", cookies));
            });
        }
        if (seg.length == 2 && seg[1].equals("set")) {
            return route(r, GET, () -> {
                HttpbinReply reply = werkzeugRedirect("/cookies");
                r.args().forEach((k, v) -> reply.header("Set-Cookie", k + "=" + v.getFirst() + "; Path=/"));
                return reply;
            });
        }
        if (seg.length == 4 && seg[1].equals("set") && !seg[2].isEmpty() && !seg[3].isEmpty()) {
            return route(r, GET, () -> werkzeugRedirect("/cookies")
                    .header("Set-Cookie", seg[2] + "=" + seg[3] + "; Path=/"));
        }
        if (seg.length == 2 && seg[1].equals("delete")) {
            return route(r, GET, () -> {
                HttpbinReply reply = werkzeugRedirect("/cookies");
                r.args().keySet().forEach(k -> reply.header("Set-Cookie",
                        k + "=; Expires=Thu, 01-Jan-1970 00:00:00 GMT; Max-Age=0; Path=/"));
                return reply;
            });
        }
        return notFound();
    }

    static Map<String, String> parseCookies(String header) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String part : header.split(";")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String value = part.substring(eq + 1).trim();
            if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                value = value.substring(1, value.length() - 1);
            }
            out.put(part.substring(0, eq).trim(), value);
        }
        return out;
    }

    private static HttpbinReply landing() {
        return HttpbinReply.text(200, HttpbinReply.HTML, """
                <!DOCTYPE html>
                <html>
                <head><meta charset="utf-8"><title>httpbin(1): HTTP Client Testing Service</title></head>
                <body>
                <h1>httpbin(1): HTTP Request &amp; Response Service</h1>
                <p>Built into SourceMesh's embedded runtime.</p>
                <ul>
                <li><a href="/ip">/ip</a> Returns Origin IP.</li>
                <li><a href="/uuid">/uuid</a> Returns UUID4.</li>
                <li><a href="/user-agent">/user-agent</a> Returns user-agent.</li>
                <li><a href="/headers">/headers</a> Returns header dict.</li>
                <li><a href="/get">/get</a> Returns GET data.</li>
                <li>/post Returns POST data.</li>
                <li>/patch Returns PATCH data.</li>
                <li>/put Returns PUT data.</li>
                <li>/delete Returns DELETE data.</li>
                <li><a href="/anything">/anything</a> Returns request data, including method used.</li>
                <li><a href="/status/418">/status/:code</a> Returns given HTTP Status code.</li>
                <li><a href="/response-headers?Content-Type=text/plain;%20charset=UTF-8&amp;Server=httpbin">/response-headers?key=val</a> Returns given response headers.</li>
                <li><a href="/redirect/6">/redirect/:n</a> 302 Redirects <em>n</em> times.</li>
                <li><a href="/cookies">/cookies</a> Returns cookie data.</li>
                <li><a href="/delay/3">/delay/:n</a> Delays responding for <em>min(n, 10)</em> seconds.</li>
                <li><a href="/stream/20">/stream/:n</a> Streams <em>min(n, 100)</em> lines.</li>
                <li><a href="/bytes/1024">/bytes/:n</a> Generates <em>n</em> random bytes of binary data.</li>
                </ul>
                </body>
                </html>
                """);
    }

    // ---- werkzeug's error pages ----

    static HttpbinReply notFound() {
        return error(404, "Not Found", "The requested URL was not found on the server.  If you entered the URL"
                + " manually please check your spelling and try again.");
    }

    static HttpbinReply internalError() {
        return error(500, "Internal Server Error", "The server encountered an internal error and was unable to"
                + " complete your request.  Either the server is overloaded or there is an error in the application.");
    }

    static HttpbinReply error(int code, String name, String description) {
        return HttpbinReply.text(code, "text/html", "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n"
                + "<title>" + code + " " + name + "</title>\n<h1>" + name + "</h1>\n<p>" + description + "</p>\n");
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** Python int(): optional sign, digits, surrounding whitespace; null where it raises. */
    static Integer pyInt(String s) {
        String t = s.strip();
        if (!t.matches("[+-]?[0-9]+")) {
            return null;
        }
        try {
            return Integer.valueOf(t);
        } catch (NumberFormatException e) {
            return t.startsWith("-") ? Integer.MIN_VALUE : Integer.MAX_VALUE;
        }
    }

    /** Python float(); null where it raises. */
    static Double pyFloat(String s) {
        String t = s.strip();
        if (!PY_FLOAT.matcher(t).matches()) {
            return null;
        }
        String lower = t.toLowerCase(Locale.ROOT);
        if (lower.endsWith("nan")) {
            return Double.NaN;
        }
        if (lower.endsWith("inf") || lower.endsWith("infinity")) {
            return lower.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        }
        return Double.valueOf(t);
    }
}
