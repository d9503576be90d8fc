package io.sourcemesh.l4.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CapabilitiesTest {
    /** Either reads a file whatever its mode: root has both, unless a container took them away. */
    private static final int CAP_DAC_OVERRIDE = 1;
    private static final int CAP_DAC_READ_SEARCH = 2;

    @Test
    void theEffectiveSetIsTheCapEffLine(@TempDir Path dir) throws IOException {
        Path status = Files.writeString(dir.resolve("status"),
                "Name:\tjava\nCapInh:\t0000000000800000\nCapPrm:\t0000000000803000\nCapEff:\t0000000000003000\n");
        Capabilities caps = Capabilities.read(status);
        assertTrue(caps.has(Capabilities.CAP_NET_ADMIN));
        assertTrue(caps.has(Capabilities.CAP_NET_RAW));
        assertFalse(caps.has(Capabilities.CAP_SYS_NICE), "permitted and inheritable, not effective");
        assertFalse(caps.has(Capabilities.CAP_SYS_ADMIN));
        assertEquals(Capabilities.of(Capabilities.CAP_NET_ADMIN, Capabilities.CAP_NET_RAW), caps);
        assertEquals("CapEff:\t0000000000003000", caps.toString());
    }

    @Test
    void aFullSetHasEveryBit(@TempDir Path dir) throws IOException {
        Capabilities caps = Capabilities.read(Files.writeString(dir.resolve("status"), "CapEff:\t000001ffffffffff\n"));
        assertTrue(caps.has(Capabilities.CAP_NET_ADMIN) && caps.has(Capabilities.CAP_IPC_LOCK) && caps.has(Capabilities.CAP_SYS_ADMIN)
                && caps.has(Capabilities.CAP_SYS_NICE) && caps.has(40));
        assertFalse(caps.has(41));
    }

    @Test
    void noCapEffLineIsNone(@TempDir Path dir) throws IOException {
        Capabilities caps = Capabilities.read(Files.writeString(dir.resolve("status"), "Name:\tjava\nUid:\t0\t0\t0\t0\n"));
        assertEquals(Capabilities.of(), caps);
        assertFalse(caps.has(Capabilities.CAP_NET_ADMIN));
    }

    @Test
    void anUnreadableOrMalformedFileThrows(@TempDir Path dir) throws IOException {
        assertThrows(IOException.class, () -> Capabilities.read(dir.resolve("missing")));
        Path malformed = Files.writeString(dir.resolve("status"), "CapEff:\tall\n");
        assertThrows(IOException.class, () -> Capabilities.read(malformed));
    }

    @Test
    void thisProcessesSetIsWhatTheKernelLetsItDo(@TempDir Path dir) throws IOException {
        // A file of mode 000: only CAP_DAC_OVERRIDE or CAP_DAC_READ_SEARCH reads it, as root or not.
        Path unreadable = Files.writeString(dir.resolve("unreadable"), "x");
        Files.setPosixFilePermissions(unreadable, Set.of());
        boolean read;
        try {
            Files.readString(unreadable);
            read = true;
        } catch (AccessDeniedException e) {
            read = false;
        }
        Capabilities caps = Capabilities.ofThisProcess();
        assertEquals(read, caps.has(CAP_DAC_OVERRIDE) || caps.has(CAP_DAC_READ_SEARCH), caps::toString);
        assertEquals(Capabilities.read(Path.of("/proc/self/status")), caps);
    }
}
