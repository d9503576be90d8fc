package io.sourcemesh.lookups;

import java.util.ResourceBundle;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The JDK's {@link System.Logger}s on JUL, as its default backend puts them (JDK-internal messages, e.g.
 * the exit's), but provided by this module: the JDK's logging looks for a {@code LoggerFinder} service when
 * JUL starts, and with none in a module it searches every jar on the class path for one, opening each.
 */
public final class JulLoggerFinder extends System.LoggerFinder {
    @Override
    public System.Logger getLogger(String name, Module module) {
        return new JulLogger(Logger.getLogger(name));
    }

    /** One JUL logger behind the {@link System.Logger} interface; levels mapped as the JDK maps them. */
    private record JulLogger(Logger jul) implements System.Logger {
        @Override
        public String getName() {
            return jul.getName();
        }

        @Override
        public boolean isLoggable(System.Logger.Level level) {
            return jul.isLoggable(julLevel(level));
        }

        @Override
        public void log(System.Logger.Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            jul.logrb(julLevel(level), bundle, msg, thrown);
        }

        @Override
        public void log(System.Logger.Level level, ResourceBundle bundle, String format, Object... params) {
            jul.logrb(julLevel(level), bundle, format, params);
        }
    }

    private static Level julLevel(System.Logger.Level level) {
        return switch (level) {
            case ALL -> Level.ALL;
            case TRACE -> Level.FINER;
            case DEBUG -> Level.FINE;
            case INFO -> Level.INFO;
            case WARNING -> Level.WARNING;
            case ERROR -> Level.SEVERE;
            case OFF -> Level.OFF;
        };
    }
}
