package io.sourcemesh.cluster.netns;

import io.sourcemesh.l4.transport.CompilerThreads;
import io.sourcemesh.l4.transport.ProxyProcessDefaults;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.config.ConfigException;
import io.sourcemesh.proxy.config.ListenerConfig;
import io.sourcemesh.proxy.config.ProxyConfig;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * {@code sourcemesh proxy -c BOOTSTRAP --concurrency N} for when the CLI is not built (this module's
 * tests run before the CLI module is packaged): the same proxy from the same bootstrap (ADS included),
 * started from this module's classpath. Exits 1 on a config error, stops on SIGTERM or POST /quitquitquit.
 */
public final class SidecarMain {
    private SidecarMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        Proxy proxy = start(args);
        if (proxy == null) {
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            proxy.close();
            stopped.countDown();
        }));
        proxy.closed().thenRun(stopped::countDown); // POST /quitquitquit: the sidecar's process ends, as Envoy's
        stopped.await();
        System.exit(0);
    }

    /**
     * All {@link #main} does before it waits for SIGTERM: the process defaults, the compiler threads' governor, the
     * proxy started and its listeners named. Null after a config error, which it printed.
     */
    static Proxy start(String... args) {
        ProxyProcessDefaults.apply(); // as the CLI's proxy command, first
        Path config = null;
        int workers = 1;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "-c" -> config = Path.of(args[i + 1]);
                case "--concurrency" -> workers = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (config == null) {
            throw new IllegalArgumentException("usage: SidecarMain -c BOOTSTRAP [--concurrency N]");
        }
        CompilerThreads.processDefault(); // as the CLI's proxy command
        try {
            ProxyConfig proxyConfig = BootstrapLoader.load(config);
            Proxy proxy = Proxy.start(proxyConfig, workers);
            for (ListenerConfig l : proxyConfig.listeners().stream().filter(ListenerConfig::bindToPort).toList()) {
                System.err.println("[info] listener " + l.name() + " on " + proxy.listenerAddress(l.name()) + " ("
                        + proxy.transport().description() + ", " + workers + " workers)");
            }
            proxyConfig.ads().ifPresent(a -> System.err.println("[info] listeners and clusters over ADS from cluster "
                    + a.clusterName() + " (" + a.serverText() + ")"));
            return proxy;
        } catch (ConfigException e) {
            System.err.println("error initializing configuration '" + config + "': " + e.getMessage());
            return null;
        }
    }
}
