package io.sourcemesh.cluster.netns;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ProxyProcessTest {
    /**
     * A sidecar started without the launcher runs the launcher proxy branch's collector, footprint
     * and young-generation flags (its own smaller -Xmx aside): among them -XX:-ShrinkHeapInSteps,
     * without which the proxy's HeapGovernor collection returns none of the heap (HeapGovernorTest in
     * sourcemesh-proxy), and -Xmn32m (the tail: a young pause stalls every request in flight).
     */
    @Test
    void sidecarJvmRunsTheLaunchersFootprintFlags() throws Exception {
        String script = Files.readString(Path.of("..", "sourcemesh"));
        int from = script.indexOf("if [ \"${1:-}\" = \"proxy\" ]; then");
        int to = script.indexOf("\nelif ", from);
        assertTrue(from >= 0 && to > from, "the launcher's proxy branch");
        List<String> launcher = script.substring(from, to).lines().map(String::strip).filter(l -> l.startsWith("jvm+=("))
                .flatMap(l -> Pattern.compile("\\s+").splitAsStream(l.substring(6, l.lastIndexOf(')'))))
                .filter(t -> t.matches("-XX:[+-]?(UseSerialGC|UseCompactObjectHeaders|ShrinkHeapInSteps|MinHeapFreeRatio|"
                        + "MaxHeapFreeRatio|TrimNativeHeapInterval).*|-Xm[sn].*"))
                .toList();
        assertTrue(launcher.contains("-XX:-ShrinkHeapInSteps") && launcher.contains("-Xmn32m") && launcher.size() == 8,
                "launcher flags: " + launcher);
        assertTrue(ProxyProcess.JVM_OPTIONS.containsAll(launcher), ProxyProcess.JVM_OPTIONS + " has " + launcher);
    }
}
