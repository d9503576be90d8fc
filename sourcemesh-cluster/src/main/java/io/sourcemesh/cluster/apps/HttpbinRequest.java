package io.sourcemesh.cluster.apps;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One request as httpbin (gunicorn + werkzeug) sees it: the WSGI view, not Netty's. Headers are
 * folded the way gunicorn builds the environ (repeats joined with ",", {@code _} read as {@code -})
 * and named the way werkzeug shows them (Python's {@code str.title()}).
 */
final class HttpbinRequest {
    private final String method;
    private final String rawUri;
    private final String protocol;
    private final String path;
    private final String query;
    private final Map<String, String> headers;
    private final byte[] body;
    private final String remoteAddr;
    private final String serverName;

    private HttpbinRequest(String method, String rawUri, String protocol, List<Map.Entry<String, String>> rawHeaders,
            byte[] body, String remoteAddr, String serverName) {
        this.method = method;
        this.rawUri = rawUri;
        this.protocol = protocol;
        String target = rawUri;
        int scheme = target.indexOf("://");
        if (scheme > 0 && scheme < 6) { // absolute-form, as a forward proxy would send it
            int slash = target.indexOf('/', scheme + 3);
            target = slash < 0 ? "/" : target.substring(slash);
        }
        int q = target.indexOf('?');
        this.path = percentDecode(q < 0 ? target : target.substring(0, q), false);
        this.query = q < 0 ? "" : target.substring(q + 1);
        this.headers = fold(rawHeaders);
        this.body = body;
        this.remoteAddr = remoteAddr;
        this.serverName = serverName;
    }

    /**
     * @param rawUri the request-target exactly as received (bytes as ISO-8859-1 chars)
     * @param serverName host[:port] of the listening socket, used when there is no Host header
     */
    static HttpbinRequest of(String method, String rawUri, String protocol, List<Map.Entry<String, String>> rawHeaders,
            byte[] body, String remoteAddr, String serverName) {
        return new HttpbinRequest(method, rawUri, protocol, rawHeaders, body, remoteAddr, serverName);
    }

    private static Map<String, String> fold(List<Map.Entry<String, String>> raw) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> h : raw) {
            String name = title(h.getKey().replace('_', '-'));
            String value = h.getValue();
            boolean overwrite = name.equals("Content-Type") || name.equals("Content-Length");
            out.merge(name, value, (a, b) -> overwrite ? b : a + "," + b);
        }
        if ("".equals(out.get("Content-Type"))) { // werkzeug drops empty CONTENT_TYPE / CONTENT_LENGTH
            out.remove("Content-Type");
        }
        if ("".equals(out.get("Content-Length"))) {
            out.remove("Content-Length");
        }
        return out;
    }

    /** Python's str.title(): upper after a non-letter, lower after a letter. */
    static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean prevCased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean cased = Character.isLetter(c);
            out.append(cased ? (prevCased ? Character.toLowerCase(c) : Character.toUpperCase(c)) : c);
            prevCased = cased;
        }
        return out.toString();
    }

    String method() {
        return method;
    }

    String rawUri() {
        return rawUri;
    }

    String protocol() {
        return protocol;
    }

    /** PATH_INFO: percent-decoded, as gunicorn hands it to the app. */
    String path() {
        return path;
    }

    String query() {
        return query;
    }

    byte[] body() {
        return body;
    }

    String remoteAddr() {
        return remoteAddr;
    }

    /** Title-cased name → value, in arrival order. */
    Map<String, String> headers() {
        return headers;
    }

    Optional<String> header(String name) {
        String wanted = title(name);
        return Optional.ofNullable(headers.get(wanted));
    }

    /** request.headers.get('X-Forwarded-For', request.remote_addr): the whole header, untouched. */
    String origin() {
        return header("X-Forwarded-For").orElse(remoteAddr);
    }

    /** request.args: werkzeug's url_decode of the query string. */
    Map<String, List<String>> args() {
        return urlDecode(query);
    }

    boolean hasArg(String name) {
        return args().containsKey(name);
    }

    Optional<String> arg(String name) {
        List<String> values = args().get(name);
        return values == null ? Optional.empty() : Optional.of(values.getFirst());
    }

    String mimeType() {
        return header("Content-Type").map(v -> v.split(";", 2)[0].trim().toLowerCase(Locale.ROOT)).orElse("");
    }

    /** helpers.get_url: request.url, with the scheme a proxy in front says it used. */
    String url() {
        String scheme = header("X-Forwarded-Proto").or(() -> header("X-Forwarded-Protocol"))
                .orElse(header("X-Forwarded-Ssl").filter("on"::equals).map(v -> "https").orElse("http"));
        StringBuilder url = new StringBuilder(scheme).append("://").append(header("Host").orElse(serverName));
        url.append(quote(path.getBytes(StandardCharsets.UTF_8), "/:"));
        // the raw query is bytes seen as ISO-8859-1 chars: quote those bytes, not their UTF-8
        String qs = quote(query.getBytes(StandardCharsets.ISO_8859_1), ":&%=+$!*'(),");
        if (!qs.isEmpty()) {
            url.append('?').append(qs);
        }
        return url.toString();
    }

    /** werkzeug's url_decode: split on '&', skip empty pairs, '+' is space, missing '=' is "". */
    static Map<String, List<String>> urlDecode(String s) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (String pair : s.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = percentDecode(eq < 0 ? pair : pair.substring(0, eq), true);
            String value = eq < 0 ? "" : percentDecode(pair.substring(eq + 1), true);
            out.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
        }
        return out;
    }

    /** %XX decoding over ISO-8859-1 chars, bad escapes kept, then UTF-8 with replacement. */
    static String percentDecode(String s, boolean plusIsSpace) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length() && hex(s.charAt(i + 1)) >= 0 && hex(s.charAt(i + 2)) >= 0) {
                bytes.write(hex(s.charAt(i + 1)) * 16 + hex(s.charAt(i + 2)));
                i += 2;
            } else if (c == '+' && plusIsSpace) {
                bytes.write(' ');
            } else if (c < 256) {
                bytes.write(c);
            } else {
                byte[] utf8 = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(utf8, 0, utf8.length);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static int hex(char c) {
        return Character.digit(c, 16);
    }

    /** werkzeug's url_quote: letters, digits and "-._~" kept, plus {@code safe}. */
    static String quote(byte[] s, String safe) {
        StringBuilder out = new StringBuilder(s.length);
        for (byte b : s) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0
                    || (c < 128 && safe.indexOf(c) >= 0)) {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return out.toString();
    }
}
