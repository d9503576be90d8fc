package io.sourcemesh.cli;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.config.ConfigException;
import io.sourcemesh.proxy.config.ListenerConfig;
import io.sourcemesh.proxy.config.ProxyConfig;
import io.sourcemesh.l4.transport.LeakDetection;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
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

    /** The proxy's own log lines (ADS updates, rejections) in one line each, as Envoy's, not JUL's two. */
    static final String LOG_FORMAT = "[%1$tF %1$tT.%1$tL][%4$s] %5$s%6$s%n";

    @Override
    public Integer call() throws Exception {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", LOG_FORMAT);
        }
        LeakDetection.processDefault();
        ProxyConfig proxyConfig;
        try {
            proxyConfig = BootstrapLoader.load(config);
        } catch (ConfigException e) {
            System.err.println("error initializing configuration '" + config + "': " + e.getMessage());
            return 1;
        }
        if (mode.equals("validate")) {
            System.out.println("configuration '" + config + "' OK");
            return 0;
        }
        if (!mode.equals("serve")) {
            System.err.println("error: --mode must be serve or validate, not " + mode);
            return 2;
        }
        int workers = concurrency != null ? concurrency
                : System.getenv("SOURCEMESH_WORKERS") != null ? Integer.parseInt(System.getenv("SOURCEMESH_WORKERS"))
                : Proxy.defaultWorkers();
        Proxy proxy;
        try {
            proxy = Proxy.start(proxyConfig, workers);
        } catch (ConfigException e) {
            System.err.println("error initializing configuration '" + config + "': " + e.getMessage());
            return 1;
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
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }
}
