package io.sourcemesh.cluster.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * For tests that need root and the kernel tools: skips with the reason when they are missing (fails
 * instead when CI=true, so a CI machine cannot silently lose these tests), and after every test
 * removes whatever namespaces this JVM's prefix left, even when the test threw. A test JVM that was
 * killed (a run stopped from outside) runs no callback: the next one removes what it left.
 */
public final class NetnsSupport implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {
    /** Unique per test JVM, so leftovers are recognisable and a sweep touches only ours. */
    public static final String PREFIX = "smt-" + ProcessHandle.current().pid() + "-";

    private static final Pattern TEST_JVM = Pattern.compile("smt-(\\d+)-.*");

    private static Preflight preflight;

    @Override
    public void beforeAll(ExtensionContext context) {
        require(preflight(), System.getenv("CI"));
    }

    /** For a test that boots a netns cluster itself: a skip with the reason unless this machine can (a failure on CI). */
    public static void requireNetns() {
        require(preflight(), System.getenv("CI"));
    }

    /** Nothing when the machine has everything; otherwise a skip with the reason, or a failure on CI. */
    static void require(Preflight p, String ci) {
        if (!p.ok()) {
            if ("true".equals(ci)) {
                fail("CI=true and " + p.message());
            }
            Assumptions.abort(p.message());
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Topology.sweep(PREFIX);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (preflight().ok()) {
            assertEquals(List.of(), Topology.list().stream().filter(n -> n.startsWith(PREFIX)).toList(), "namespaces left behind");
        }
    }

    private static synchronized Preflight preflight() {
        if (preflight == null) {
            preflight = Preflight.check();
            if (preflight.ok()) {
                sweepKilledJvms();
            }
        }
        return preflight;
    }

    /**
     * Removes the namespaces of test JVMs that are no longer running (their prefix names their PID):
     * what a killed run left. A namespace of a live JVM, this one included, is left alone.
     */
    static List<String> sweepKilledJvms() {
        List<String> dead = Topology.list().stream().map(TEST_JVM::matcher).filter(Matcher::matches)
                .map(m -> m.group(1)).distinct()
                .filter(pid -> ProcessHandle.of(Long.parseLong(pid)).isEmpty())
                .toList();
        return dead.stream().flatMap(pid -> Topology.sweep("smt-" + pid + "-").stream()).toList();
    }
}
