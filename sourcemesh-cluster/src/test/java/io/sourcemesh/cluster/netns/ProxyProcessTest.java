package io.sourcemesh.cluster.netns;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ProxyProcessTest {
    /**
     * A sidecar started without the launcher runs the launcher proxy branch's collector and footprint
     * flags (its own smaller -Xmx aside): among them -XX:-ShrinkHeapInSteps, without which the
     * proxy's HeapGovernor collection returns none of the heap (HeapGovernorTest in sourcemesh-proxy).
     * Its young generation is its own, set after the launcher's (the last -Xmn wins) and smaller.
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
                        + "MaxHeapFreeRatio|TrimNativeHeapInterval).*"))
                .toList();
        assertTrue(launcher.contains("-XX:-ShrinkHeapInSteps") && launcher.size() == 6, "launcher flags: " + launcher);
        assertTrue(ProxyProcess.JVM_OPTIONS.containsAll(launcher), ProxyProcess.JVM_OPTIONS + " has " + launcher);
        assertTrue(ProxyProcess.JVM_OPTIONS.containsAll(List.of("-Xms24m", "-Xmn16m")), "the sidecar's own young generation: "
                + ProxyProcess.JVM_OPTIONS);
    }
}
