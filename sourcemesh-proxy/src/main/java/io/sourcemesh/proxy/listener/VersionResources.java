package io.sourcemesh.proxy.listener;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What one listener version's filters own and start, tied to the version's life ({@link VersionUse}), as Envoy's filter
 * config lives exactly as long as the listener that holds it. A filter registers here while it is built: {@link #own}
 * what must be closed (access logs, a remote JWKS refetch timer) and {@link #onServe} what may start only once the
 * proxy has accepted the update and serves the version (a background fetch) — a rejected update never starts it.
 * Closed when the version is retired and its last connection is gone, or at once when it never served.
 */
public final class VersionResources {
    private static final Logger LOG = Logger.getLogger(VersionResources.class.getName());
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final List<Runnable> starters = new ArrayList<>();
    private boolean served;
    private boolean closed;

    private VersionResources() {}

    public static VersionResources create() {
        return new VersionResources();
    }

    /** {@code c} is closed with the version (at once when the version is closed already). */
    public void own(AutoCloseable c) {
        synchronized (this) {
            if (!closed) {
                owned.add(c);
                return;
            }
        }
        close(c);
    }

    /** {@code starter} runs when the version is put in service (at once when it serves already; never once closed). */
    public void onServe(Runnable starter) {
        synchronized (this) {
            if (closed) {
                return;
            }
            if (!served) {
                starters.add(starter);
                return;
            }
        }
        starter.run();
    }

    /** The proxy serves the version now: its starters run, once. */
    public void serve() {
        List<Runnable> run;
        synchronized (this) {
            if (served || closed) {
                return;
            }
            served = true;
            run = List.copyOf(starters);
            starters.clear();
        }
        run.forEach(Runnable::run);
    }

    /** Closes what the version owns, once; nothing starts after. */
    public void close() {
        List<AutoCloseable> close;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            close = List.copyOf(owned);
            owned.clear();
            starters.clear();
        }
        close.forEach(VersionResources::close);
    }

    private static void close(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            LOG.log(Level.FINE, "closing a retired listener version's " + c, e);
        }
    }
}
