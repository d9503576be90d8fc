package io.sourcemesh.proxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class DownstreamTlsSocketTest {

    @Test
    void protocolBoundsAreHonouredInEitherSpelling() {
        // The translated config spells versions as the JDK does (TLSv1.2); a maximum of 1.2 must not let 1.3 in.
        assertEquals(List.of("TLSv1.2"), DownstreamTlsSocket.protocols("TLSv1.2", "TLSv1.2"));
        assertEquals(List.of("TLSv1.2"), DownstreamTlsSocket.protocols("TLSv1_2", "TLSv1_2"));
        assertEquals(List.of("TLSv1.3"), DownstreamTlsSocket.protocols("TLSv1.3", "TLSv1.3"));
        assertEquals(List.of("TLSv1.2", "TLSv1.3"), DownstreamTlsSocket.protocols("TLSv1", "TLS_AUTO"), "never below 1.2");
    }
}
