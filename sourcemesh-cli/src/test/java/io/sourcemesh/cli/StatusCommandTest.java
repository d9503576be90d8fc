package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.daemon.Home;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code status} and {@code up} name the stored objects a newer validation rule refuses (kept as stored, left out of
 * the push as istiod leaves invalid config out): otherwise only the daemon's log would.
 */
class StatusCommandTest {
    private static final String GATEWAY = "Gateway default/gw: spec.servers[1].port.name: Invalid value: port names in "
            + "servers must be unique: duplicate name http; left out of the proxies' config";
    private static final String POLICY = "AuthorizationPolicy default/deny: spec.rules[0].from[0].source.ipBlocks[0]: "
            + "Invalid value: \"not-an-ip\": bad IP address (not-an-ip); still enforced as stored";

    @TempDir
    Path home;
    FakeCluster cluster;

    @BeforeEach
    void start() throws IOException {
        cluster = FakeCluster.start(home);
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void statusListsTheInvalidStoredObjects() {
        FakeCluster.Run clean = cluster.run("status");
        assertEquals(0, clean.code(), clean.err());
        assertFalse(clean.out().contains("invalid"), clean.out());

        cluster.invalidObjects.addAll(List.of(GATEWAY, POLICY));
        FakeCluster.Run r = cluster.run("status");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().endsWith("""
                  invalid:   2 stored objects this version's validation refuses (status.validationMessages says why; fix and apply them):
                             %s
                             %s
                """.formatted(GATEWAY, POLICY)), r.out());
    }

    @Test
    void upSaysSoWhenItOpensAStateHoldingThem() {
        Home h = Home.resolve(home);
        StringWriter out = new StringWriter();
        UpCommand.printUp(new PrintWriter(out, true), new ClusterApi.ClusterInfo("embedded", home.toString(), 1, 2,
                List.of("sourcemesh-node-1"), 0, "", "store", List.of(GATEWAY)), h);
        assertTrue(out.toString().endsWith("""
                Warning: 1 stored object this version's validation refuses, kept as stored (status.validationMessages says why; fix and apply them):
                  %s
                """.formatted(GATEWAY)), out.toString());

        StringWriter fresh = new StringWriter();
        UpCommand.printUp(new PrintWriter(fresh, true), new ClusterApi.ClusterInfo("embedded", home.toString(), 1, 2,
                List.of("sourcemesh-node-1"), 0, "", "store"), h);
        assertEquals(2, fresh.toString().lines().count(), fresh.toString());
    }
}
