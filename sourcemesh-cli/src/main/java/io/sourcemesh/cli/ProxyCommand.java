package io.sourcemesh.cli;

import io.sourcemesh.l4.transport.CompilerThreads;
import io.sourcemesh.l4.transport.ProxyProcessDefaults;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.ProxyOptions;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.config.ConfigException;
import io.sourcemesh.proxy.config.ListenerConfig;
import io.sourcemesh.proxy.config.ProxyConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sourcemesh proxy -c bootstrap.yaml}: the data plane from an Envoy v3 bootstrap, like {@code envoy -c}:
 * static resources, and listeners and clusters over ADS when the bootstrap has {@code dynamic_resources}.
 */
@Command(name = "proxy", mixinStandardHelpOptions = true,
        description = "Run the proxy from an Envoy v3 bootstrap (YAML or JSON), like envoy -c.")
final class ProxyCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config-path"}, required = true, description = "Envoy v3 bootstrap file (YAML or JSON).")
    Path config;

    @Option(names = "--concurrency", description = "Worker event loops (default: SOURCEMESH_WORKERS or the number of cores).")
    Integer concurrency;

    @Option(names = "--mode", defaultValue = "serve", description = "serve (default) or validate: check the config and exit.")
    String mode;

    @Option(names = "--drain-time-s", defaultValue = "600",
            description = "Seconds a graceful POST /drain_listeners keeps the listeners accepting before it stops them "
                    + "(Envoy's --drain-time-s; default 600).")
    long drainTimeSeconds;

    @Override
    public Integer call() throws Exception {
        ProxyProcessDefaults.apply(); // one-line log records, Netty's leak detector off unless asked for
        if (!mode.equals("serve") && !mode.equals("validate")) {
            System.err.println("error: --mode must be serve or validate, not " + mode);
            return 2;
        }
        if (drainTimeSeconds < 0) {
            System.err.println("error: --drain-time-s must not be negative, not " + drainTimeSeconds);
            return 2;
        }
        int workers = concurrency != null ? concurrency
                : System.getenv("SOURCEMESH_WORKERS") != null ? Integer.parseInt(System.getenv("SOURCEMESH_WORKERS"))
                : Proxy.defaultWorkers();
        // The event loops (Netty's native library loaded, io_uring probed, rings made: a tenth of the
        // main thread's start) are made on a thread of their own while this one reads the bootstrap.
        FutureTask<Transport> transport = null;
        if (mode.equals("serve")) {
            CompilerThreads.processDefault(); // the JIT never keeps a woken thread off its CPU for a whole slice
            transport = new FutureTask<>(() -> Transport.create(workers));
            Thread.ofPlatform().name("sourcemesh-transport-start").daemon().start(transport);
        }
        ProxyConfig proxyConfig;
        try {
            proxyConfig = BootstrapLoader.load(config);
        } catch (ConfigException e) {
            close(transport);
            System.err.println("error initializing configuration '" + config + "': " + e.getMessage());
            return 1;
        } catch (RuntimeException | Error e) {
            close(transport);
            throw e;
        }
        if (transport == null) {
            System.out.println("configuration '" + config + "' OK");
            return 0;
        }
        Transport loops = made(transport);
        Proxy proxy;
        try {
            proxy = Proxy.start(proxyConfig, ProxyOptions.defaults(workers).withTransport(loops)
                    .withDrainTime(java.time.Duration.ofSeconds(drainTimeSeconds)));
        } catch (ConfigException e) {
            loops.close();
            System.err.println("error initializing configuration '" + config + "': " + e.getMessage());
            return 1;
        } catch (RuntimeException | Error e) {
            loops.close();
            throw e;
        }
        // Listeners with bind_to_port false (Istio's per-port outbound ones) have no socket to show.
        for (ListenerConfig l : proxyConfig.listeners().stream().filter(ListenerConfig::bindToPort).toList()) {
            System.err.println("[info] listener " + l.name() + " on " + Addresses.text(proxy.listenerAddress(l.name()))
                    + " (" + proxy.transport().description() + ", " + workers + " workers)");
        }
        proxy.adminAddress().ifPresent(a -> System.err.println("[info] admin on " + Addresses.text(a)));
        proxyConfig.ads().ifPresent(a -> System.err.println("[info] listeners and clusters over ADS from cluster "
                + a.clusterName() + " (" + a.serverText() + ")"));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            proxy.close();
            loops.close(); // the proxy's, made above: Proxy closes only loops it made itself
            stopped.countDown();
        }));
        // POST /quitquitquit closes the proxy itself: the process then exits, as Envoy's.
        proxy.closed().thenRun(stopped::countDown);
        stopped.await();
        System.err.println("[info] proxy closed, exiting");
        return 0;
    }

    /** The event loops made on their thread; what failed there fails here, as it did on this thread. */
    private static Transport made(FutureTask<Transport> transport) throws Exception {
        try {
            return transport.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw (Error) e.getCause();
        }
    }

    /** The event loops of a start that stops before serving (their threads would keep the JVM up). */
    private static void close(FutureTask<Transport> transport) {
        if (transport == null) {
            return;
        }
        try {
            made(transport).close();
        } catch (Exception e) {
            // the config's error is the one to report
        }
    }
}
