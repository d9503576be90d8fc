package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ProxyMainTest {

    @Test
    void readsTheFormsPicocliReadsTheSameWay() {
        for (String[] args : new String[][] {
                {"proxy", "-c", "b.yaml", "--concurrency", "2"}, {"proxy", "-cb.yaml", "--concurrency=2"},
                {"proxy", "-c=b.yaml", "--concurrency", "2", "--mode", "serve"}, {"proxy", "--config-path", "b.yaml", "--concurrency=2"},
                {"proxy", "--concurrency", "2", "--config-path=b.yaml"}}) {
            ProxyCommand c = ProxyMain.parse(args);
            assertEquals(Path.of("b.yaml"), c.config, String.join(" ", args));
            assertEquals(2, c.concurrency);
            assertEquals("serve", c.mode);
        }
        ProxyCommand c = ProxyMain.parse("proxy", "-c", "b.yaml", "--mode", "validate");
        assertNull(c.concurrency);
        assertEquals("validate", c.mode);
    }

    @Test
    void leavesEverythingElseToPicocli() {
        for (String[] args : new String[][] {
                {}, {"get", "pods"}, {"proxy"}, {"proxy", "--help"}, {"proxy", "-h"}, {"proxy", "-V"}, {"proxy", "--concurrency", "2"},
                {"proxy", "-c", "a.yaml", "-c", "b.yaml"}, {"proxy", "-c"}, {"proxy", "-c", "--mode", "x"}, {"proxy", "-c", "b.yaml", "--nope", "1"},
                {"proxy", "-c", "b.yaml", "--concurrency", "two"}, {"proxy", "-c", "b.yaml", "--mode", "a", "--mode", "b"},
                {"-n", "x", "proxy", "-c", "b.yaml"}, {"proxy", "-c", "b.yaml", "extra"}}) {
            assertNull(ProxyMain.parse(args), String.join(" ", args));
        }
    }

    @Test
    void validatesLikeTheVerb() throws Exception {
        Path bootstrap = java.nio.file.Files.createTempFile("proxy-main", ".yaml");
        try {
            java.nio.file.Files.writeString(bootstrap, "node: {id: a}\n");
            assertEquals(0, ProxyMain.execute("proxy", "-c", bootstrap.toString(), "--mode", "validate"));
            java.nio.file.Files.writeString(bootstrap, "node: {idd: a}\n");
            assertEquals(1, ProxyMain.execute("proxy", "-c", bootstrap.toString(), "--mode", "validate"));
        } finally {
            java.nio.file.Files.delete(bootstrap);
        }
    }
}
