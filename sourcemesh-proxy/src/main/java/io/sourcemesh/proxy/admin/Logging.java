package io.sourcemesh.proxy.admin;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Envoy's {@code /logging}: the proxy's loggers by Envoy's names and their levels, changed with
 * {@code ?level=debug} (all) or {@code ?http=trace} (one). Each name maps to the package that does
 * that work here.
 */
final class Logging {
    private static final Map<String, String> LOGGERS = new LinkedHashMap<>();

    static {
        LOGGERS.put("admin", "io.sourcemesh.proxy.admin");
        LOGGERS.put("config", "io.sourcemesh.proxy.config");
        LOGGERS.put("connection", "io.sourcemesh.proxy.listener");
        LOGGERS.put("filter", "io.sourcemesh.proxy.network");
        LOGGERS.put("http", "io.sourcemesh.proxy.http");
        LOGGERS.put("rbac", "io.sourcemesh.proxy.rbac");
        LOGGERS.put("router", "io.sourcemesh.proxy.http.forwarded");
        LOGGERS.put("tcp", "io.sourcemesh.proxy.tcp");
        LOGGERS.put("upstream", "io.sourcemesh.proxy.upstream");
        LOGGERS.put("xds", "io.sourcemesh.proxy.xds");
    }

    private static final Map<String, Level> LEVELS = Map.of("trace", Level.FINEST, "debug", Level.FINE, "info", Level.INFO,
            "warning", Level.WARNING, "error", Level.SEVERE, "critical", Level.SEVERE, "off", Level.OFF);

    private Logging() {}

    static String handle(Map<String, List<String>> params) {
        for (Map.Entry<String, List<String>> p : params.entrySet()) {
            String value = p.getValue().isEmpty() ? "" : p.getValue().get(0);
            Level level = LEVELS.get(value);
            if (level == null) {
                return "error: unknown logger level " + value + "\n" + list();
            }
            if (p.getKey().equals("level")) {
                LOGGERS.values().forEach(pkg -> Logger.getLogger(pkg).setLevel(level));
            } else if (LOGGERS.containsKey(p.getKey())) {
                Logger.getLogger(LOGGERS.get(p.getKey())).setLevel(level);
            } else {
                return "error: unknown logger name " + p.getKey() + "\n" + list();
            }
            letThrough(level);
        }
        return list();
    }

    /**
     * The root handlers print INFO and up by default, so a logger raised to debug would still be
     * silent: open them as far as asked. Each logger's own level keeps filtering the others.
     */
    private static void letThrough(Level level) {
        for (Handler h : Logger.getLogger("").getHandlers()) {
            if (h.getLevel().intValue() > level.intValue()) {
                h.setLevel(level);
            }
        }
    }

    private static String list() {
        StringBuilder out = new StringBuilder("active loggers:\n");
        LOGGERS.forEach((name, pkg) -> out.append("  ").append(name).append(": ").append(name(effective(Logger.getLogger(pkg))))
                .append('\n'));
        return out.toString();
    }

    private static Level effective(Logger l) {
        for (Logger x = l; x != null; x = x.getParent()) {
            if (x.getLevel() != null) {
                return x.getLevel();
            }
        }
        return Level.INFO;
    }

    private static String name(Level level) {
        for (Map.Entry<String, Level> e : List.of(Map.entry("trace", Level.FINEST), Map.entry("debug", Level.FINE),
                Map.entry("info", Level.INFO), Map.entry("warning", Level.WARNING), Map.entry("error", Level.SEVERE),
                Map.entry("off", Level.OFF))) {
            if (e.getValue().equals(level)) {
                return e.getKey();
            }
        }
        return level.intValue() < Level.INFO.intValue() ? "debug" : "info";
    }
}
