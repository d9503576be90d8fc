package io.sourcemesh.proxy.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the kernel counted on a test's own client socket, read with {@code ss} (iproute2). */
public final class SocketSegments {
    private static final Pattern SEGS_IN = Pattern.compile("\\bsegs_in:(\\d+)");

    private SocketSegments() {}

    /** The TCP segments this client socket has received so far (the SYN-ACK included). */
    public static int received(Socket s) throws Exception {
        Process ss = new ProcessBuilder("ss", "-tinH", "sport = :" + s.getLocalPort()).redirectErrorStream(true).start();
        String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, ss.waitFor(), out);
        Matcher m = SEGS_IN.matcher(out);
        assertTrue(m.find(), "ss shows no segs_in for port " + s.getLocalPort() + ": " + out);
        return Integer.parseInt(m.group(1));
    }
}
