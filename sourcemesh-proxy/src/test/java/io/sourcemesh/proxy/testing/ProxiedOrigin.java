package io.sourcemesh.proxy.testing;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One proxy on a port of its own in front of one {@link NumberedOrigin}, the cluster {@code origin} given the fields a
 * test is about; both closed after each test. Register with {@code @RegisterExtension}, then {@link #start} in the test.
 */
public final class ProxiedOrigin implements AfterEachCallback {
    private Proxy proxy;
    private NumberedOrigin origin;

    /** Starts the origin (its {@code /slow} answers after {@code slow}) and the proxy; returns the proxy's base URL. */
    public String start(Duration slow, String clusterFields) throws IOException {
        origin = NumberedOrigin.start(slow);
        String yaml = HttpBootstrap.toOrigin(origin.port()).clusterFields(clusterFields).yaml();
        proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort();
    }

    public NumberedOrigin origin() {
        return origin;
    }

    public Proxy proxy() {
        return proxy;
    }

    /** The cluster's counter {@code cluster.origin.<name>}, 0 before its first increment. */
    public long clusterCounter(String name) {
        return proxy.stats().counters().getOrDefault("cluster.origin." + name, 0L);
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        if (proxy != null) {
            proxy.close();
            proxy = null;
        }
        if (origin != null) {
            origin.close();
            origin = null;
        }
    }
}
