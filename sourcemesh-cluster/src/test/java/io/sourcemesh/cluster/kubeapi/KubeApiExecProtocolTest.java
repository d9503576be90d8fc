package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.resource.KubeObject;
import java.net.URI;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The exec WebSocket's channel protocol, spoken by hand against commands of this machine: stdin
 * streamed as it comes and closed by v5's close message, output as it comes, the exit code in the
 * channel-3 Status, a terminal with resize.
 */
class KubeApiExecProtocolTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final ApiServerExtension api = new ApiServerExtension();

    @BeforeEach
    void up() throws Exception {
        api.startWithExec().store().create(KubeObject.of((com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree("""
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default"},
                 "spec":{"containers":[{"name":"c","image":"curlimages/curl"}]}}""")));
    }

    /** One exec's WebSocket: messages as they come (channel byte first), and the close. */
    private final class Session {
        final LinkedBlockingQueue<byte[]> got = new LinkedBlockingQueue<>();
        final CompletableFuture<Void> closed = new CompletableFuture<>();
        final WebSocket ws;

        Session(String protocol, String command, String query) throws Exception {
            StringBuilder uri = new StringBuilder("wss://127.0.0.1:" + api.server().port() + "/api/v1/namespaces/default/pods/p/exec?container=c");
            for (String arg : command.split(" ")) {
                uri.append("&command=").append(java.net.URLEncoder.encode(arg, StandardCharsets.UTF_8));
            }
            uri.append('&').append(query);
            ws = api.client().newWebSocketBuilder().subprotocols(protocol).buildAsync(URI.create(uri.toString()), new WebSocket.Listener() {
                private final java.io.ByteArrayOutputStream partial = new java.io.ByteArrayOutputStream();

                @Override
                public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
                    byte[] b = new byte[data.remaining()];
                    data.get(b);
                    partial.writeBytes(b);
                    if (last) {
                        got.add(partial.toByteArray());
                        partial.reset();
                    }
                    w.request(1);
                    return null;
                }

                @Override
                public CompletionStage<?> onClose(WebSocket w, int status, String reason) {
                    closed.complete(null);
                    return null;
                }

                @Override
                public void onError(WebSocket w, Throwable error) {
                    closed.completeExceptionally(error);
                }
            }).get(20, TimeUnit.SECONDS);
            assertEquals(protocol, ws.getSubprotocol());
        }

        void send(int channel, String data) throws Exception {
            byte[] d = data.getBytes(StandardCharsets.UTF_8);
            byte[] m = new byte[d.length + 1];
            m[0] = (byte) channel;
            System.arraycopy(d, 0, m, 1, d.length);
            ws.sendBinary(ByteBuffer.wrap(m), true).get(10, TimeUnit.SECONDS);
        }

        void closeStdin() throws Exception {
            ws.sendBinary(ByteBuffer.wrap(new byte[] {(byte) 255, 0}), true).get(10, TimeUnit.SECONDS);
        }

        /** What comes on {@code channel} until it holds {@code text} (or fails after 20 s). */
        String awaitOutput(int channel, String text) throws Exception {
            StringBuilder seen = new StringBuilder();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!seen.toString().contains(text)) {
                byte[] m = got.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                assertNotNull(m, "no \"" + text + "\" on channel " + channel + " in 20 s; got: " + seen);
                assertNotEquals(3, m[0], "the session ended before \"" + text + "\": " + new String(m, 1, m.length - 1, StandardCharsets.UTF_8));
                if (m[0] == channel) {
                    seen.append(new String(m, 1, m.length - 1, StandardCharsets.UTF_8));
                }
            }
            return seen.toString();
        }

        /** The rest of the session: its output per channel, the Status last. */
        List<byte[]> rest() throws Exception {
            closed.get(20, TimeUnit.SECONDS);
            List<byte[]> out = new ArrayList<>();
            got.drainTo(out);
            return out;
        }
    }

    private static JsonNode status(List<byte[]> messages) throws Exception {
        byte[] last = messages.getLast();
        assertEquals(3, last[0], "the Status comes last, on channel 3");
        return JSON.readTree(new String(last, 1, last.length - 1, StandardCharsets.UTF_8));
    }

    private static String channel(List<byte[]> messages, int channel) {
        StringBuilder s = new StringBuilder();
        messages.stream().filter(m -> m[0] == channel).forEach(m -> s.append(new String(m, 1, m.length - 1, StandardCharsets.UTF_8)));
        return s.toString();
    }

    @Test
    void stdinIsStreamedAndItsCloseIsEndOfFile() throws Exception {
        Session s = new Session("v5.channel.k8s.io", "cat", "stdin=true&stdout=true&stderr=true");
        s.send(0, "line one\n");
        assertEquals("line one\n", s.awaitOutput(1, "line one\n"), "cat echoes a line while its stdin is still open");
        s.send(0, "line two\n");
        assertEquals("line two\n", s.awaitOutput(1, "line two\n"));
        s.closeStdin();
        List<byte[]> rest = s.rest();
        assertEquals("Success", status(rest).path("status").asText(), "cat ended at end of file");
    }

    @Test
    void theExitCodeComesInTheStatus() throws Exception {
        List<byte[]> m = new Session("v5.channel.k8s.io", "sh -c echo${IFS}out;echo${IFS}err>&2;exit${IFS}3", "stdout=true&stderr=true").rest();
        assertEquals("out\n", channel(m, 1));
        assertEquals("err\n", channel(m, 2));
        JsonNode s = status(m);
        assertEquals("Failure", s.path("status").asText(), s.toString());
        assertEquals("NonZeroExitCode", s.path("reason").asText(), s.toString());
        assertEquals("ExitCode", s.at("/details/causes/0/reason").asText(), s.toString());
        assertEquals("3", s.at("/details/causes/0/message").asText(), s.toString());
    }

    @Test
    void aProgramThatIsNotThereExits127() throws Exception {
        JsonNode s = status(new Session("v5.channel.k8s.io", "no-such-program-here", "stdout=true&stderr=true").rest());
        assertEquals("127", s.at("/details/causes/0/message").asText(), s.toString());
    }

    @Test
    void v4StreamsStdinToo() throws Exception {
        // v4 has no close message: a command that ends by itself still gets its input as it comes.
        Session s = new Session("v4.channel.k8s.io", "head -n 1", "stdin=true&stdout=true");
        s.send(0, "first\n");
        List<byte[]> rest = s.rest();
        assertEquals("first\n", channel(rest, 1));
        assertEquals("Success", status(rest).path("status").asText());
    }

    @Test
    void aTerminalEchoesMergesStderrAndTakesResizes() throws Exception {
        assumeTrue(io.sourcemesh.cluster.exec.Pty.available(), "no script/stty on this machine");
        // The command waits until its terminal has the size we send, then reads a line.
        Path script = java.nio.file.Files.writeString(api.home().resolve("tty.sh"), """
                until [ "$(stty size)" = "45 123" ]; do sleep 0.05; done
                echo resized
                read x
                echo "got $x"
                echo oops >&2
                [ -t 0 ] && exit 4
                """);
        Session s = new Session("v5.channel.k8s.io", "sh " + script, "stdin=true&stdout=true&stderr=true&tty=true");
        s.send(4, "{\"Width\":123,\"Height\":45}");
        s.awaitOutput(1, "resized\r\n");
        s.send(0, "hello\n");
        List<byte[]> rest = s.rest();
        String out = channel(rest, 1);
        assertTrue(out.contains("hello\r\n"), "the terminal echoes what is typed: " + out);
        assertTrue(out.contains("got hello\r\n"), out);
        assertTrue(out.contains("oops\r\n"), "stderr is the terminal too: " + out);
        assertEquals("", channel(rest, 2), "nothing on the stderr channel with a TTY");
        assertEquals("4", status(rest).at("/details/causes/0/message").asText(), "stdin is a terminal, and the exit code comes back");
    }
}
