package io.sourcemesh.cluster.apps;

import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Locale;

/** gunicorn's default access-log line, so {@code logs deploy/httpbin} reads like the real pod's. */
final class GunicornLog {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH);

    private GunicornLog() {}

    /**
     * {@code %(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"}: h is the socket peer
     * (gunicorn 19 ignores X-Forwarded-For here), u the Basic-auth user, b the body bytes sent.
     */
    static String line(HttpbinRequest r, int status, long sent, ZonedDateTime when) {
        return r.remoteAddr() + " - " + user(r) + " [" + TIME.format(when) + "] \"" + r.method() + " " + r.rawUri()
                + " " + r.protocol() + "\" " + status + " " + (sent > 0 ? Long.toString(sent) : "-") + " \""
                + r.header("Referer").orElse("-") + "\" \"" + r.header("User-Agent").orElse("-") + "\"";
    }

    private static String user(HttpbinRequest r) {
        String auth = r.header("Authorization").orElse("");
        if (!auth.regionMatches(true, 0, "Basic ", 0, 6)) {
            return "-";
        }
        try {
            String decoded = new String(Base64.getDecoder().decode(auth.substring(6).trim()), StandardCharsets.UTF_8);
            int colon = decoded.indexOf(':');
            return colon < 0 ? "-" : decoded.substring(0, colon);
        } catch (IllegalArgumentException e) {
            return "-";
        }
    }
}
