package io.sourcemesh.cluster.apps;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The stand-in for a container whose whole job is {@code sleep} (the sleep sample's curlimages/curl):
 * it owns no socket and runs nothing; the pod exists so that {@code exec} has somewhere to run. A
 * finite sleep ({@code sleep 30}, {@code sh -c "sleep 1m"}) exits 0 when it is over, as the real one;
 * {@code infinity}, or operands this cannot read, sleep until the container is stopped.
 */
public final class SleepApp implements AutoCloseable {
    private final List<String> command;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private volatile boolean running = true;

    private SleepApp(List<String> command) {
        this.command = List.copyOf(command);
    }

    /** @param command the container's command and args, kept for display (ps, describe) */
    public static SleepApp start(List<String> command) {
        SleepApp app = new SleepApp(command == null ? List.of() : command);
        duration(app.command).ifPresent(d -> CompletableFuture.delayedExecutor(d.toMillis(), TimeUnit.MILLISECONDS)
                .execute(() -> {
                    app.running = false;
                    app.exit.complete(0);
                }));
        return app;
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

    /** Completes with the exit code once the sleep is over (never for an endless one). */
    public CompletionStage<Integer> exit() {
        return exit;
    }

    @Override
    public void close() {
        running = false;
    }
}
