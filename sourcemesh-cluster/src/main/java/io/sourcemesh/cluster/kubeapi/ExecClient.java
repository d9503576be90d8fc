package io.sourcemesh.cluster.kubeapi;

import io.sourcemesh.cluster.exec.ExecResult;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.cluster.daemon.ClusterApiException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

/**
 * The client half of {@code pods/NAME/exec} over WebSocket ({@code v5.channel.k8s.io}), as kubectl
 * speaks it: standard input sent on channel 0 and closed with a v5 close message (255, 0); stdout
 * and stderr come on channels 1 and 2, and the final Status on channel 3 carries the exit code.
 */
final class ExecClient implements WebSocket.Listener {
    private static final String PROTOCOL = "v5.channel.k8s.io";
    private static final int CHUNK = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private final ByteArrayOutputStream message = new ByteArrayOutputStream();
    private final CompletableFuture<ExecResult> result = new CompletableFuture<>();
    private byte[] status;

    private ExecClient() {}

    /** Runs the exec {@code uri} names, {@code stdin} (may be empty) its whole input; the outcome as its Status says. */
    static ExecResult run(HttpClient http, URI uri, String token, byte[] stdin) {
        ExecClient session = new ExecClient();
        try {
            WebSocket.Builder b = http.newWebSocketBuilder().subprotocols(PROTOCOL);
            if (token != null) {
                b.header("Authorization", "Bearer " + token);
            }
            WebSocket ws = b.buildAsync(uri, session).get();
            if (stdin.length > 0) {
                sendStdin(ws, stdin);
            }
            return session.result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClusterApiException(503, "error: interrupted");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ClusterApiException c) {
                throw c;
            }
            if (cause instanceof WebSocketHandshakeException h) {
                Object body = h.getResponse().body();
                byte[] bytes = body instanceof byte[] b ? b : body instanceof String s ? s.getBytes(StandardCharsets.UTF_8) : new byte[0];
                throw RestClusterApi.failure(h.getResponse().statusCode(), bytes);
            }
            throw new ClusterApiException(503, "error: exec failed: " + cause);
        }
    }

    /**
     * Streams stdin on channel 0, then its end. The server streams it to the running command, which
     * may end before reading it all (as {@code true} does): a send refused because the server closed the
     * stream is then no error, as with kubectl — the outcome is the command's status.
     */
    private static void sendStdin(WebSocket ws, byte[] stdin) throws InterruptedException {
        try {
            for (int off = 0; off < stdin.length; off += CHUNK) {
                byte[] frame = new byte[Math.min(CHUNK, stdin.length - off) + 1];
                System.arraycopy(stdin, off, frame, 1, frame.length - 1);
                ws.sendBinary(ByteBuffer.wrap(frame), true).get();
            }
            ws.sendBinary(ByteBuffer.wrap(new byte[] {(byte) 255, 0}), true).get(); // stdin ends
        } catch (ExecutionException closedByTheServer) {
            // the command ended first; its status is (or will be) in the session's result
        }
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
        byte[] b = new byte[data.remaining()];
        data.get(b);
        message.writeBytes(b);
        if (last) {
            byte[] m = message.toByteArray();
            message.reset();
            if (m.length > 0) {
                switch (m[0]) {
                    case 1 -> stdout.write(m, 1, m.length - 1);
                    case 2 -> stderr.write(m, 1, m.length - 1);
                    case 3 -> status = Arrays.copyOfRange(m, 1, m.length);
                    default -> { } // nothing else is sent to a client
                }
            }
        }
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
        finish();
        return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
        if (status != null) {
            finish();
        } else {
            result.completeExceptionally(new ClusterApiException(503, "error: exec failed: " + error));
        }
    }

    /** The exit code from the Status: 0 on Success, kubelet's ExitCode cause on NonZeroExitCode, else an error. */
    private void finish() {
        if (status == null) {
            result.completeExceptionally(new ClusterApiException(500, "error: the exec stream ended without a status"));
            return;
        }
        JsonNode s;
        try {
            s = JSON.readTree(status);
        } catch (IOException e) {
            result.completeExceptionally(new ClusterApiException(500, "error: the exec status is not JSON: " + e.getMessage()));
            return;
        }
        String out = stdout.toString(StandardCharsets.UTF_8);
        String err = stderr.toString(StandardCharsets.UTF_8);
        if (s.path("status").asText().equals("Success")) {
            result.complete(new ExecResult(0, out, err));
        } else if (s.path("reason").asText().equals("NonZeroExitCode")) {
            int code = 1;
            for (JsonNode c : s.path("details").path("causes")) {
                if (c.path("reason").asText().equals("ExitCode")) {
                    try {
                        code = Integer.parseInt(c.path("message").asText("1"));
                    } catch (NumberFormatException e) { // thrown here it would leave run() waiting forever
                        result.completeExceptionally(new ClusterApiException(500, "error: the exec status's exit code is not a number: "
                                + c.path("message").asText()));
                        return;
                    }
                }
            }
            result.complete(new ExecResult(code, out, err));
        } else {
            result.completeExceptionally(new ClusterApiException(s.path("code").asInt(500), "error: " + s.path("message").asText()));
        }
    }
}
