package io.sourcemesh.cluster.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AddressPoolTest {

    @Test
    void handsOutFromFirstSkippingReservedAndDoesNotReuseAReleasedAddressAtOnce() {
        AddressPool pool = AddressPool.of("10.96.0.", 10);
        pool.reserve("10.96.0.11");
        pool.reserve("10.97.0.12"); // not ours: ignored
        pool.reserve("10.96.0.3"); // below first: not ours
        assertEquals(Optional.of("10.96.0.10"), pool.allocate());
        assertEquals(Optional.of("10.96.0.12"), pool.allocate());
        pool.release("10.96.0.10");
        assertEquals(Optional.of("10.96.0.13"), pool.allocate(), "the next one, not the address just released");
    }

    @Test
    void wrapsAroundToFreedAddressesAndIsEmptyWhenFull() {
        AddressPool pool = AddressPool.of("127.17.0.", 250);
        assertEquals(List.of("127.17.0.250", "127.17.0.251", "127.17.0.252", "127.17.0.253", "127.17.0.254"),
                List.of(pool.allocate().orElseThrow(), pool.allocate().orElseThrow(), pool.allocate().orElseThrow(),
                        pool.allocate().orElseThrow(), pool.allocate().orElseThrow()));
        assertEquals(Optional.empty(), pool.allocate(), "254 is the last host");
        pool.release("127.17.0.251");
        assertEquals(Optional.of("127.17.0.251"), pool.allocate(), "after the end it starts again at first");
    }

    @Test
    void retainOnlyFreesWhatIsNoLongerInUse() {
        AddressPool pool = AddressPool.of("10.96.0.", 10);
        pool.retainOnly(List.of("10.96.0.10", "10.96.0.11", "None", ""));
        assertEquals(Optional.of("10.96.0.12"), pool.allocate());
        pool.retainOnly(List.of("10.96.0.11"));
        assertEquals(Optional.of("10.96.0.13"), pool.allocate(), "the cursor moves on");
        assertTrue(pool.contains("10.96.0.10"));
        assertFalse(pool.contains("10.96.0.9"));
        assertFalse(pool.contains("10.96.0.255"));
        assertFalse(pool.contains("10.96.0.x"));
    }

    @Test
    void lowestFreeReusesAReleasedAddressAtOnce() {
        AddressPool pool = AddressPool.lowestFree("172.17.0.", 2);
        assertEquals(Optional.of("172.17.0.2"), pool.allocate());
        assertEquals(Optional.of("172.17.0.3"), pool.allocate());
        pool.release("172.17.0.2");
        assertEquals(Optional.of("172.17.0.2"), pool.allocate());
        assertEquals(Optional.of("172.17.0.4"), pool.allocate());
    }

    @Test
    void refusesABadRange() {
        assertThrows(IllegalArgumentException.class, () -> AddressPool.of("10.96.0", 2));
        assertThrows(IllegalArgumentException.class, () -> AddressPool.of("10.96.0.", 0));
        assertThrows(IllegalArgumentException.class, () -> AddressPool.of("10.96.0.", 255));
    }
}
