package io.sourcemesh.cluster.kubelet;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.resource.Probe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The kubelet's probe workers for one run of one container (a restart gets new ones), as pkg/kubelet/prober: the
 * startup probe first, readiness and liveness only once it passed; each probe runs every periodSeconds after
 * initialDelaySeconds, on a virtual thread of its own. Readiness starts false and flips after successThreshold
 * passes or failureThreshold failures in a row; a startup or liveness probe failing failureThreshold times in a row
 * asks for the container's restart ({@code kill}), and that worker stops until the next run. {@code changed} hears
 * every change of {@link #started} or {@link #ready} (the kubelet writes the status then).
 */
public final class ContainerProbes implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ContainerProbes.class.getName());

    private final String name;
    private final JsonNode spec;
    private final Prober prober;
    private final Runnable changed;
    private final Runnable kill;
    private final boolean hasStartup;
    private final boolean hasReadiness;
    private final List<Thread> workers = new ArrayList<>();
    private volatile boolean closed;
    private volatile boolean started;
    private volatile boolean ready;
    private volatile String lastFailure;

    private ContainerProbes(String name, JsonNode spec, Prober prober, Runnable changed, Runnable kill) {
        this.name = name;
        this.spec = spec;
        this.prober = prober;
        this.changed = changed;
        this.kill = kill;
        this.hasStartup = Probe.of(spec, Probe.Type.STARTUP).isPresent();
        this.hasReadiness = Probe.of(spec, Probe.Type.READINESS).isPresent();
        this.started = !hasStartup;
    }

    /** Starts the probe workers of the container {@code spec} for the run that just began. */
    public static ContainerProbes start(JsonNode spec, Prober prober, Runnable changed, Runnable kill) {
        ContainerProbes p = new ContainerProbes(spec.path("name").asText(), spec, prober, changed, kill);
        for (Probe.Type type : Probe.Type.values()) {
            Probe.of(spec, type).ifPresent(probe -> p.workers.add(Thread.ofVirtual()
                    .name("probe-" + type.field() + "-" + p.name).start(() -> p.work(probe))));
        }
        return p;
    }

    /** Whether the startup probe passed (true without one). */
    public boolean started() {
        return started;
    }

    /** Whether the readiness probe says ready (true once started without one). */
    public boolean ready() {
        return started && (!hasReadiness || ready);
    }

    /** Why the last probe failed (the kubelet's event), null before any failed. */
    public String lastFailure() {
        return lastFailure;
    }

    private void work(Probe probe) {
        try {
            Thread.sleep(Duration.ofSeconds(probe.initialDelaySeconds()));
            int successes = 0;
            int failures = 0;
            while (!closed) {
                if (probe.type() == Probe.Type.STARTUP || started) {
                    Optional<String> failure = run(probe);
                    if (closed) {
                        return;
                    }
                    if (failure.isEmpty()) {
                        successes++;
                        failures = 0;
                    } else {
                        failures++;
                        successes = 0;
                        lastFailure = failure.get();
                        LOG.fine(() -> name + ": " + probe.type().field() + " failed: " + failure.get());
                    }
                    if (!outcome(probe, successes, failures)) {
                        return; // this run's startup passed, or its restart is asked for
                    }
                }
                Thread.sleep(Duration.ofSeconds(probe.periodSeconds()));
            }
        } catch (InterruptedException e) {
            // closed
        }
    }

    /** Applies one result; false when this worker is done for the run. */
    private boolean outcome(Probe probe, int successes, int failures) {
        switch (probe.type()) {
            case STARTUP -> {
                if (successes >= 1) {
                    started = true;
                    changed.run();
                    return false;
                }
            }
            case READINESS -> {
                boolean was = ready;
                if (successes >= probe.successThreshold()) {
                    ready = true;
                } else if (failures >= probe.failureThreshold()) {
                    ready = false;
                }
                if (was != ready) {
                    changed.run();
                }
                return true;
            }
            case LIVENESS -> {
                // handled below
            }
        }
        if (failures >= probe.failureThreshold()) {
            kill.run();
            return false;
        }
        return true;
    }

    /** One probe; a prober that could not run it (a tool failed, or the run ended under it) is a failure too. */
    private Optional<String> run(Probe probe) {
        Duration timeout = Duration.ofSeconds(probe.timeoutSeconds());
        try {
            return switch (probe.handler()) {
                case Probe.HttpGet get -> port(get.port()).map(p -> prober.http(get, p, timeout)).orElseGet(() -> noPort(get.port()));
                case Probe.TcpSocket tcp -> port(tcp.port()).map(p -> prober.tcp(p, timeout)).orElseGet(() -> noPort(tcp.port()));
                case Probe.Exec exec -> prober.exec(exec.command(), timeout);
            };
        } catch (RuntimeException e) {
            return Optional.of(String.valueOf(e.getMessage()));
        }
    }

    /** A port by number, or by the name of one of the container's ports (the kubelet's findPortByName). */
    private Optional<Integer> port(String port) {
        if (port.chars().allMatch(Character::isDigit) && !port.isEmpty()) {
            return Optional.of(Integer.parseInt(port));
        }
        for (JsonNode p : spec.path("ports")) {
            if (p.path("name").asText().equals(port)) {
                return Optional.of(p.path("containerPort").asInt());
            }
        }
        return Optional.empty();
    }

    private Optional<String> noPort(String port) {
        return Optional.of("couldn't find port " + port + " in container " + name);
    }

    /** Stops the workers (the run ended, or the pod stops). */
    @Override
    public void close() {
        closed = true;
        workers.forEach(Thread::interrupt);
    }
}
