package io.sourcemesh.cli;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import io.sourcemesh.cluster.kubeapi.Http1Lines;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One plain-HTTP GET from a given local address, in this process: what the demo's waits for the gateway
 * ask many times over, where a curl each would be a process (fork, exec, libcurl's start-up) per try.
 * The request and the answer the step shows stay curl's.
 */
final class LoopbackGet {
    private LoopbackGet() {}

    /** The answer's body, or "" when there is none (refused, reset, timed out, not HTTP). */
    static String body(String localAddress, URI url, int timeoutMillis) {
        int port = url.getPort() < 0 ? 80 : url.getPort();
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(localAddress), 0));
            s.connect(new InetSocketAddress(InetAddress.getByName(url.getHost()), port), timeoutMillis);
            s.setSoTimeout(timeoutMillis);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + url.getRawPath() + " HTTP/1.1\r\nHost: " + url.getHost() + ":" + port
                    + "\r\nUser-Agent: sourcemesh-demo\r\nAccept: */*\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = new BufferedInputStream(s.getInputStream());
            String status = Http1Lines.line(in);
            if (status == null || !status.startsWith("HTTP/1.")) {
                return "";
            }
            boolean chunked = false;
            long length = -1;
            for (String h; (h = Http1Lines.line(in)) != null && !h.isEmpty(); ) {
                String lower = h.toLowerCase(Locale.ROOT);
                if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                    chunked = true;
                } else if (lower.startsWith("content-length:")) {
                    length = Long.parseLong(lower.substring("content-length:".length()).strip());
                }
            }
            byte[] body = chunked ? chunks(in) : length >= 0 ? in.readNBytes((int) length) : in.readAllBytes();
            return new String(body, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static byte[] chunks(InputStream in) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (String size; (size = Http1Lines.line(in)) != null; ) {
            int semi = size.indexOf(';');
            int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
            if (n == 0) {
                break;
            }
            body.write(in.readNBytes(n));
            Http1Lines.line(in);
        }
        return body.toByteArray();
    }
}
