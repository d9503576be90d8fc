package io.sourcemesh.l4.transport;

import io.netty.util.ResourceLeakDetector;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * For a test of what {@link ProxyProcessDefaults} sets process-wide: before each case it notes Netty's leak detection
 * level and clears the log-format and leak-level properties (and {@code extraProperties}), so each case starts as a
 * fresh process would; after it, it puts back the level and the properties it found.
 */
public final class ProcessDefaultsGuard implements BeforeEachCallback, AfterEachCallback {
    private final List<String> properties;
    private final Map<String, String> found = new HashMap<>();
    private ResourceLeakDetector.Level level;

    public ProcessDefaultsGuard(String... extraProperties) {
        properties = Stream.concat(Stream.of(ProxyProcessDefaults.LOG_FORMAT_PROPERTY, ProxyProcessDefaults.LEAK_PROPERTY,
                ProxyProcessDefaults.LEGACY_LEAK_PROPERTY), Stream.of(extraProperties)).toList();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        level = ResourceLeakDetector.getLevel();
        found.clear();
        for (String name : properties) {
            String value = System.clearProperty(name);
            if (value != null) {
                found.put(name, value);
            }
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        ResourceLeakDetector.setLevel(level);
        for (String name : properties) {
            if (found.containsKey(name)) {
                System.setProperty(name, found.get(name));
            } else {
                System.clearProperty(name);
            }
        }
    }
}
