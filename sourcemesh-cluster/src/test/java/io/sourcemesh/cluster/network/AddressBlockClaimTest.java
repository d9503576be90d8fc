package io.sourcemesh.cluster.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One process holds a block at a time, the first free block skips held ones, and a close frees it. */
class AddressBlockClaimTest {

    @Test
    void aHeldBlockCannotBeClaimedAgainUntilItsHolderCloses() {
        try (AddressBlockClaim held = AddressBlockClaim.claimFirstFree()) {
            int b = held.block();
            assertTrue(AddressBlockClaim.tryClaim(b).isEmpty(), "block " + b + " claimed twice");
            var e = assertThrows(AddressBlockClaim.AddressBlockTakenException.class, () -> AddressBlockClaim.claim(b));
            assertTrue(e.getMessage().startsWith("address block " + b + " (nodes 127.10." + b + ".x, pods 127.17."
                    + (8 * b) + "-" + (8 * b + 7) + ".x, services 127.96." + b + ".x, load balancers 127.100." + b + ".x) is held"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("127.10." + b + ".254:" + AddressBlockClaim.PORT), e.getMessage());
            held.close();
            try (AddressBlockClaim again = AddressBlockClaim.claim(b)) {
                assertEquals(b, again.block());
            }
        }
    }

    @Test
    void theFirstFreeBlockSkipsTheHeldOnes() {
        List<AddressBlockClaim> held = new ArrayList<>();
        try {
            AddressBlockClaim first = AddressBlockClaim.claimFirstFree();
            held.add(first);
            AddressBlockClaim second = AddressBlockClaim.claimFirstFree();
            held.add(second);
            assertNotEquals(first.block(), second.block());
            assertTrue(second.block() > first.block(), "the lowest free block first");
            first.close();
            AddressBlockClaim third = AddressBlockClaim.claimFirstFree();
            held.add(third);
            assertEquals(first.block(), third.block(), "a closed claim's block is free again");
        } finally {
            held.forEach(AddressBlockClaim::close);
        }
    }

    @Test
    void aBlockOutsideThePlanIsRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> AddressBlockClaim.tryClaim(31));
        assertEquals("address block must be 0..30, not 31", e.getMessage());
    }
}
