package io.sourcemesh.cluster.runtime.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.network.AddressBlockClaim;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two embedded clusters on one machine get distinct addresses without being told, and a home keeps the block
 * its state was made on: a cluster whose block another holds fails with a line that says so, instead of
 * starting with its gateway's and services' binds failing.
 */
class EmbeddedRuntimeBlockTest {
    @TempDir
    Path dir;

    @Test
    void twoClustersFromFreshHomesRunOnDistinctBlocksAndEachHomeRemembersItsOwn() throws Exception {
        Home a = new Home(dir.resolve("a"));
        Home b = new Home(dir.resolve("b"));
        try (Cluster first = EmbeddedRuntime.cluster(a, 1); Cluster second = EmbeddedRuntime.cluster(b, 1)) {
            int ba = first.runtime(EmbeddedRuntime.class).addresses().block();
            int bb = second.runtime(EmbeddedRuntime.class).addresses().block();
            assertNotEquals(ba, bb);
            assertEquals("127.10." + ba + ".1", first.runtime().nodes().get(0).internalIp());
            assertEquals("127.10." + bb + ".1", second.runtime().nodes().get(0).internalIp());
            assertEquals(ba + "\n", Files.readString(a.addressBlockFile()));
            assertEquals(bb + "\n", Files.readString(b.addressBlockFile()));
            assertTrue(AddressBlockClaim.tryClaim(ba).isEmpty(), "a running cluster holds its block");

            // The same home again, while another process-like holder has its block: a clear refusal.
            var e = assertThrows(AddressBlockClaim.AddressBlockTakenException.class,
                    () -> EmbeddedRuntime.claimFor(a, OptionalInt.empty()).close());
            assertTrue(e.getMessage().startsWith("address block " + ba + " (nodes 127.10." + ba + ".x"), e.getMessage());
            assertTrue(e.getMessage().endsWith("the state in " + a.path() + " was made on it; stop that cluster"
                    + " (`sourcemesh down` with its home), or start this one from another home"), e.getMessage());
        }
    }

    @Test
    void aHomeWithStateComesBackOnItsBlockAndRefusesAnother() throws Exception {
        Home h = new Home(dir.resolve("h"));
        int block;
        try (Cluster c = EmbeddedRuntime.cluster(h, 1)) {
            block = c.runtime(EmbeddedRuntime.class).addresses().block();
        }
        assertEquals(OptionalInt.of(block), h.addressBlock(), "the state the first up left names its block");
        try (AddressBlockClaim again = EmbeddedRuntime.claimFor(h, OptionalInt.empty())) {
            assertEquals(block, again.block());
        }
        int other = block == 30 ? 29 : block + 1;
        var e = assertThrows(IllegalArgumentException.class, () -> EmbeddedRuntime.claimFor(h, OptionalInt.of(other)));
        assertEquals("SOURCEMESH_ADDRESS_BLOCK is " + other + ", but the state in " + h.path() + " was made on address block "
                + block + " (its services' ClusterIPs are 127.96." + block + ".x): unset it, or use another home", e.getMessage());
    }

    @Test
    void aHomeWithoutStateIsNotBoundToABlockAndOldStateIsOnBlockZero() throws Exception {
        Home h = new Home(dir.resolve("old"));
        assertEquals(OptionalInt.empty(), h.addressBlock());
        Files.createDirectories(h.stateDir().resolve("v1"));
        assertEquals(OptionalInt.of(0), h.addressBlock(), "state from before homes remembered their block");
        h.writeAddressBlock(7);
        assertEquals(OptionalInt.of(7), h.addressBlock());
        Files.writeString(h.addressBlockFile(), "seven\n");
        var e = assertThrows(IllegalStateException.class, h::addressBlock);
        assertEquals(h.addressBlockFile() + " must hold an address block number, not \"seven\"", e.getMessage());
    }

    @Test
    void moreNodesThanABlockHoldsAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> EmbeddedRuntime.cluster(new Home(dir.resolve("n")), 9));
        assertEquals("the embedded runtime runs 1..8 nodes, not 9", e.getMessage());
    }
}
