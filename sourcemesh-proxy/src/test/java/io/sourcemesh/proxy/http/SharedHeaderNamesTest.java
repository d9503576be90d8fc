package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The parser tells shared names apart by identity: that must say what its name tests say of any other name. */
class SharedHeaderNamesTest {
    @Test
    void everySharedNameIsClassifiedAsTheParsersTestsWouldClassifyIt() {
        assertFalse(SharedHeaderNames.all().isEmpty());
        for (AsciiString shared : SharedHeaderNames.all()) {
            // an equal name made elsewhere, as the parser makes one for a name that is not shared
            AsciiString other = new AsciiString(shared.toString().getBytes(StandardCharsets.US_ASCII), false);
            assertEquals(SharedHeaderNames.leftToNettyName(other), SharedHeaderNames.leftToNetty(shared), shared::toString);
            assertEquals(other.contentEqualsIgnoreCase(HttpHeaderNames.CONTENT_LENGTH),
                    SharedHeaderNames.isContentLength(shared), shared::toString);
        }
    }

    @Test
    void framingAndProtocolSwitchesAreLeftToNettyInAnyCase() {
        for (String name : new String[] {"Transfer-Encoding", "transfer-encoding", "TRANSFER-ENCODING", "Upgrade", "upgrade",
                "Sec-WebSocket-Key", "sec-websocket-version"}) {
            assertTrue(SharedHeaderNames.leftToNettyName(AsciiString.of(name)), name);
        }
        for (String name : new String[] {"Content-Length", "Transfer-Encodings", "Upgrades-Left", "sec-websocket"}) {
            assertFalse(SharedHeaderNames.leftToNettyName(AsciiString.of(name)), name);
        }
        AsciiString te = SharedHeaderNames.find("Transfer-Encoding".getBytes(StandardCharsets.US_ASCII), 0, 17);
        assertNotNull(te);
        assertTrue(SharedHeaderNames.leftToNetty(te));
        AsciiString cl = SharedHeaderNames.find("content-length".getBytes(StandardCharsets.US_ASCII), 0, 14);
        assertNotNull(cl);
        assertTrue(SharedHeaderNames.isContentLength(cl));
        assertFalse(SharedHeaderNames.leftToNetty(cl));
    }
}
