package io.sourcemesh.proxy.http;

import io.netty.handler.codec.http.HttpRequest;
import io.sourcemesh.proxy.config.PathOptions;

/**
 * The connection manager's path transformations, in Envoy's order (maybeNormalizePath): escaped slashes
 * ({@code path_with_escaped_slashes_action}), then {@code normalize_path}, then {@code merge_slashes} — so
 * that a rule on the path (RBAC's {@code url_path}, a route) and an upstream that decodes the path read the
 * same path. Only the path is changed; the query is kept byte for byte.
 *
 * <p>{@code normalize_path} is Envoy's canonicalPath, which is the path canonicalization of the Chromium URL
 * library Envoy carries, not a textbook RFC 3986 pass. Its differences matter to a rule: the case of an
 * escape that stays is kept ({@code %2f} is not {@code %2F}); "." and ".." are found after backslashes
 * became slashes and {@code %2e} became a dot; an encoded or raw NUL makes the path invalid (400); a '%'
 * that begins no escape stays, and if decoding what follows it would make a new escape ({@code %%32%65}
 * would become {@code %2e}) the '%' is written {@code %25}, so no second decoding finds a dot or slash the
 * first did not.
 */
final class PathNormalizer {

    enum Verdict {
        /** The request goes on with its (perhaps changed) path. */
        CONTINUE,
        /** 400 path_normalization_failed. */
        REJECT,
        /** 307 to the changed path (UNESCAPE_AND_REDIRECT found an escaped slash). */
        REDIRECT
    }

    // Chromium's classes of a path character (url_canon_path.cc): what canonicalization does with it.
    private static final byte PASS = 0;
    private static final byte SPECIAL = 1;
    private static final byte ESCAPE = 2 | SPECIAL;   // written as %XX
    private static final byte UNESCAPE = 4;           // %XX of it is decoded
    private static final byte INVALID = 8 | SPECIAL;  // makes the path invalid
    private static final byte[] CLASS = classes();

    private PathNormalizer() {}

    /** Applies {@code options} to the request's path (a path that starts with '/': RequestTarget made it so). */
    static Verdict apply(PathOptions options, HttpRequest request) {
        String uri = request.uri();
        Verdict verdict = Verdict.CONTINUE;
        if (options.escapedSlashes() != PathOptions.EscapedSlashes.KEEP_UNCHANGED) {
            String unescaped = unescapeSlashes(uri);
            if (unescaped != uri) {
                switch (options.escapedSlashes()) {
                    case REJECT_REQUEST -> {
                        return Verdict.REJECT;
                    }
                    case UNESCAPE_AND_REDIRECT -> verdict = Verdict.REDIRECT;
                    default -> { }
                }
                uri = unescaped;
            }
        }
        if (options.normalize()) {
            uri = canonicalize(uri);
            if (uri == null) {
                return Verdict.REJECT;
            }
        }
        if (options.mergeSlashes()) {
            uri = mergeSlashes(uri);
        }
        if (!uri.equals(request.uri())) {
            request.setUri(uri);
        }
        return verdict;
    }

    /** %2F and %5C (either case) in the path decoded to '/' and '\'; the same instance when there is none. */
    static String unescapeSlashes(String uri) {
        int end = pathEnd(uri);
        int percent = uri.indexOf('%');
        if (percent < 0 || percent >= end) {
            return uri;
        }
        StringBuilder out = null;
        int copied = 0;
        for (int i = percent; i + 2 < end; i++) {
            if (uri.charAt(i) != '%') {
                continue;
            }
            char slash = escapedSlash(uri.charAt(i + 1), uri.charAt(i + 2));
            if (slash != 0) {
                if (out == null) {
                    out = new StringBuilder(uri.length());
                }
                out.append(uri, copied, i).append(slash);
                copied = i + 3;
                i += 2;
            }
        }
        return out == null ? uri : out.append(uri, copied, uri.length()).toString();
    }

    private static char escapedSlash(char hi, char lo) {
        if (hi == '2' && (lo == 'f' || lo == 'F')) {
            return '/';
        }
        if (hi == '5' && (lo == 'c' || lo == 'C')) {
            return '\\';
        }
        return 0;
    }

    /** Runs of slashes in the path made one (Envoy's mergeSlashes: a leading and a trailing slash are kept). */
    static String mergeSlashes(String uri) {
        int end = pathEnd(uri);
        int run = uri.indexOf("//");
        if (run < 0 || run >= end - 1) {
            return uri;
        }
        StringBuilder out = new StringBuilder(uri.length());
        if (uri.charAt(0) == '/') {
            out.append('/');
        }
        boolean first = true;
        int i = 0;
        while (i < end) {
            int next = uri.indexOf('/', i);
            if (next < 0 || next > end) {
                next = end;
            }
            if (next > i) {
                if (!first) {
                    out.append('/');
                }
                out.append(uri, i, next);
                first = false;
            }
            i = next + 1;
        }
        if (uri.charAt(end - 1) == '/') {
            out.append('/');
        }
        return out.append(uri, end, uri.length()).toString();
    }

    /** Envoy's canonicalPath of the path, the query kept; {@code null} for a path Envoy rejects. */
    static String canonicalize(String uri) {
        int end = pathEnd(uri);
        if (isCanonical(uri, end)) {
            return uri; // most paths: no copy
        }
        StringBuilder out = new StringBuilder(uri.length() + 8);
        if (end == 0 || !isSlash(uri.charAt(0))) {
            out.append('/');
        }
        int lastBadPercent = Integer.MIN_VALUE; // where in out a '%' that began no escape was written
        boolean valid = true;
        for (int i = 0; i < end; i++) {
            char c = uri.charAt(i);
            byte cls = c < 0x100 ? CLASS[c] : ESCAPE;
            if ((cls & SPECIAL) == 0) {
                out.append(c);
                continue;
            }
            int dot = dotLength(uri, i, end);
            if (dot > 0) {
                i = dotSegment(uri, i, dot, end, out);
            } else if (c == '\\') {
                out.append('/');
            } else if (c == '%') {
                int value = decodeEscape(uri, i, end);
                if (value < 0) {
                    lastBadPercent = out.length();
                    out.append('%');
                    continue;
                }
                i += 2;
                if ((CLASS[value] & UNESCAPE) != 0) {
                    out.append((char) value);
                    if (lastBadPercent >= out.length() - 3) {
                        guardNestedEscape(uri, i + 1, end, lastBadPercent, out);
                    }
                } else {
                    out.append('%').append(uri.charAt(i - 1)).append(uri.charAt(i)); // the case as sent
                    valid &= CLASS[value] != INVALID;
                }
            } else {
                appendEscaped(c, out);
                valid &= cls != INVALID;
            }
        }
        return valid ? out.append(uri, end, uri.length()).toString() : null;
    }

    /**
     * Whether canonicalization would copy the path unchanged: it starts with '/', and holds no character
     * canonicalization treats specially but a dot inside a segment ("index.html"), which it writes as it is.
     */
    private static boolean isCanonical(String uri, int end) {
        if (end == 0 || uri.charAt(0) != '/') {
            return false;
        }
        for (int i = 1; i < end; i++) {
            char c = uri.charAt(i);
            if (c >= 0x100 || (CLASS[c] & SPECIAL) != 0 && (c != '.' || uri.charAt(i - 1) == '/')) {
                return false;
            }
        }
        return true;
    }

    /**
     * A dot (or %2e) at {@code i}: "." and ".." segments right after a slash are removed (".." with the
     * segment before it); any other dot is written as '.'. Returns the last input index consumed.
     */
    private static int dotSegment(String uri, int i, int dot, int end, StringBuilder out) {
        if (out.length() == 0 || out.charAt(out.length() - 1) != '/') {
            out.append('.');
            return i + dot - 1;
        }
        int after = i + dot;
        if (after == end) {
            return after - 1;            // "." at the end: the slash before it stays
        }
        if (isSlash(uri.charAt(after))) {
            return after;                // "./": skipped with its slash
        }
        int second = dotLength(uri, after, end);
        int afterSecond = after + second;
        if (second > 0 && (afterSecond == end || isSlash(uri.charAt(afterSecond)))) {
            backUpToPreviousSlash(out);
            return afterSecond == end ? afterSecond - 1 : afterSecond;
        }
        out.append('.');
        return i + dot - 1;
    }

    /** {@code out} ends with '/': drops the segment before it, never above the first slash. */
    private static void backUpToPreviousSlash(StringBuilder out) {
        int i = out.length() - 1;
        if (i == 0) {
            return;
        }
        i--;
        while (out.charAt(i) != '/' && i > 0) {
            i--;
        }
        out.setLength(i + 1);
    }

    /**
     * A character was just decoded within two of a '%' that began no escape: if the '%' and what now follows
     * it read as an escape, that '%' becomes %25, so "%%30%30" is "%2500" and not an encoded NUL.
     */
    private static void guardNestedEscape(String uri, int next, int end, int percent, StringBuilder out) {
        int length = out.length();
        char decoded = out.charAt(length - 1);
        boolean withNext = percent == length - 2; // out ends "%c": the escape would take the next input char
        if (withNext) {
            if (next == end || uri.charAt(next) >= 0x80) {
                return;
            }
            out.append(uri.charAt(next)); // a probe only: that char is copied again in its turn
        }
        if (decodeEscape(out, percent, out.length()) >= 0) {
            if (!withNext) {
                out.append(out.charAt(percent + 1));
            }
            out.setCharAt(percent + 1, '2');
            out.setCharAt(percent + 2, '5');
            out.append(decoded);
        } else if (withNext) {
            out.setLength(length);
        }
    }

    /** 1 for '.', 3 for %2e or %2E, else 0. */
    private static int dotLength(String s, int i, int end) {
        char c = s.charAt(i);
        if (c == '.') {
            return 1;
        }
        return c == '%' && i + 3 <= end && s.charAt(i + 1) == '2' && (s.charAt(i + 2) == 'e' || s.charAt(i + 2) == 'E') ? 3 : 0;
    }

    /** The byte a %XX at {@code i} encodes, or -1 when it is no escape. */
    private static int decodeEscape(CharSequence s, int i, int end) {
        if (i + 3 > end) {
            return -1;
        }
        int hi = Character.digit(s.charAt(i + 1), 16);
        int lo = Character.digit(s.charAt(i + 2), 16);
        return hi < 0 || lo < 0 || s.charAt(i + 1) > 0x7f || s.charAt(i + 2) > 0x7f ? -1 : hi * 16 + lo;
    }

    /** %XX, upper-case as Chromium writes it; a char above 0xff (not a byte of the wire) as its UTF-8 bytes. */
    private static void appendEscaped(char c, StringBuilder out) {
        if (c < 0x100) {
            out.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
            return;
        }
        for (byte b : String.valueOf(c).getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            out.append('%').append(HEX[b >> 4 & 0xf]).append(HEX[b & 0xf]);
        }
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private static boolean isSlash(char c) {
        return c == '/' || c == '\\';
    }

    private static int pathEnd(String uri) {
        int q = uri.indexOf('?');
        return q < 0 ? uri.length() : q;
    }

    private static byte[] classes() {
        byte[] c = new byte[0x100];
        c[0] = INVALID;
        for (int i = 1; i < 0x20; i++) {
            c[i] = ESCAPE;
        }
        for (int i = 0x7f; i < 0x100; i++) {
            c[i] = ESCAPE;
        }
        for (char ch : " \"#%<>?\\^`{|}".toCharArray()) {
            c[ch] = ESCAPE;
        }
        for (int i = 0; i < 0x80; i++) {
            if (Character.isLetterOrDigit(i) || i == '-' || i == '_' || i == '~') {
                c[i] = UNESCAPE;
            }
        }
        c['.'] = SPECIAL;
        return c;
    }
}
