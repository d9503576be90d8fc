package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.kubeapi.RestClusterApi;
import io.sourcemesh.trace.Hop;
import io.sourcemesh.trace.Trace;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo says "Every step matched the document" only when nothing went otherwise: a command that failed (a rollout
 * that timed out) or a trace that found a hop other than predicted makes it a problem the verdict names, whatever the
 * steps' origins showed.
 */
class DemoVerdictTest {
    @TempDir
    Path home;

    @Test
    void aFailedCommandIsAProblem() throws Exception {
        try (FakeCluster cluster = FakeCluster.start(home)) {
            cluster.applySeed("sleep.yaml");
            DemoCommand demo = new DemoCommand();
            demo.home = home;
            StringWriter shown = new StringWriter();
            demo.out = new PrintWriter(shown, true);
            demo.api = RestClusterApi.forHome(new Home(home));
            demo.run("-n", "default", "get", "deployment", "sleep");
            assertEquals(List.of(), demo.problems(), shown.toString());
            demo.run("-n", "default", "rollout", "status", "deploy/nope", "--timeout", "1s");
            assertEquals(List.of("failed: sourcemesh -n default rollout status deploy/nope --timeout 1s  (exit 1)"), demo.problems(),
                    shown.toString());
        }
    }

    @Test
    void aTraceThatFoundAMismatchOrFailedIsAProblem() {
        DemoTraces traces = new DemoTraces(null, new Home(home));
        traces.add("kept", "sourcemesh trace a", live -> trace(List.of()));
        traces.add("lost", "sourcemesh trace b", live -> trace(List.of("no access-log line for x-request-id 1")));
        traces.add("broken", "sourcemesh trace c", live -> {
            throw new IllegalStateException("no pod for deploy/sleep");
        });
        assertEquals(List.of("the trace of \"lost\" found 1 mismatch (below)",
                "the trace of \"broken\" failed: no pod for deploy/sleep"), traces.problems());
    }

    private static Trace trace(List<String> mismatches) {
        Hop hop = new Hop("sidecar", "istio-proxy of httpbin", "default/httpbin-1", "127.0.0.6", "-", "127.0.0.6", false, "-", "-",
                false, null, List.of(), List.of(), new Hop.Observed("127.0.0.6", "-", "-", null, mismatches));
        return new Trace("east-west", "127.17.0.5", List.of(hop), -1, List.of(), "1");
    }
}
