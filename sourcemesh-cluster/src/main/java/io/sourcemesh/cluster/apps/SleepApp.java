package io.sourcemesh.cluster.apps;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The stand-in for a container whose whole job is {@code sleep} (the sleep sample's curlimages/curl):
 * it owns no socket and runs nothing; the pod exists so that {@code exec} has somewhere to run. A
 * finite sleep ({@code sleep 30}, {@code sh -c "sleep 1m"}) exits 0 when it is over, as the real one;
 * {@code infinity}, or operands this cannot read, sleep until the container is stopped. Stopped early, its timer
 * is cancelled: it reports no exit of its own then, and a {@code sleep 3650d} pod deleted is not kept for ten years.
 */
public final class SleepApp implements AutoCloseable {
    /** One daemon thread for every sleep's end; a cancelled timer leaves its queue at once, with the app it holds. */
    private static final ScheduledThreadPoolExecutor TIMERS = timers();

    private final List<String> command;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private volatile boolean running = true;
    private volatile ScheduledFuture<?> timer;

    private SleepApp(List<String> command) {
        this.command = List.copyOf(command);
    }

    /** @param command the container's command and args, kept for display (ps, describe) */
    public static SleepApp start(List<String> command) {
        SleepApp app = new SleepApp(command == null ? List.of() : command);
        duration(app.command).ifPresent(d -> app.timer = TIMERS.schedule(app::finished, d.toMillis(), TimeUnit.MILLISECONDS));
        return app;
    }

    private static ScheduledThreadPoolExecutor timers() {
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "sleep-timers");
            t.setDaemon(true);
            return t;
        });
        timers.setRemoveOnCancelPolicy(true);
        return timers;
    }

    /** The sleep is over: sleep exits 0, unless the container was stopped first. */
    private synchronized void finished() {
        if (running) {
            running = false;
            exit.complete(0);
        }
    }

    /** How long {@code sleep}'s operands say (GNU sleep sums NUMBER[smhd] operands); empty for infinity or unknown. */
    static Optional<Duration> duration(List<String> argv) {
        List<String> operands = new ArrayList<>();
        if (argv.size() >= 3 && argv.get(1).equals("-c")) {
            List<String> words = List.of(argv.get(2).strip().split("\\s+"));
            operands.addAll(words.subList(1, words.size()));
        } else if (!argv.isEmpty()) {
            operands.addAll(argv.subList(1, argv.size()));
        }
        if (operands.isEmpty()) {
            return Optional.empty();
        }
        Duration total = Duration.ZERO;
        for (String o : operands) {
            if (!o.matches("[0-9]+(\\.[0-9]+)?[smhd]?")) {
                return Optional.empty();
            }
            char last = o.charAt(o.length() - 1);
            char unit = Character.isDigit(last) ? 's' : last;
            BigDecimal n = new BigDecimal(Character.isDigit(last) ? o : o.substring(0, o.length() - 1));
            long seconds = switch (unit) {
                case 'm' -> 60;
                case 'h' -> 3600;
                case 'd' -> 86400;
                default -> 1;
            };
            total = total.plusMillis(n.multiply(BigDecimal.valueOf(seconds * 1000)).longValue());
        }
        return Optional.of(total);
    }

    public List<String> command() {
        return command;
    }

    public boolean running() {
        return running;
    }

    /** Completes with the exit code once the sleep is over (never for an endless one, nor one stopped first). */
    public CompletionStage<Integer> exit() {
        return exit;
    }

    @Override
    public synchronized void close() {
        running = false;
        ScheduledFuture<?> t = timer;
        if (t != null) {
            t.cancel(false);
        }
    }
}
