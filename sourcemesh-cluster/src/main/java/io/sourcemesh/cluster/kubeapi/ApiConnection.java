package io.sourcemesh.cluster.kubeapi;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * HTTP/1.1 to the API server over one kept-alive TLS socket: a request, then its whole answer.
 * A CLI verb is a fresh JVM that makes a few requests and exits; {@code java.net.http.HttpClient}
 * (its selector thread, asynchronous pipeline and SSLEngine) costs a few tenths of a second of
 * such a process before the first byte is sent, a blocking socket next to nothing. The TLS is the
 * same: the kubeconfig's CA and client certificate, and the server's name checked against its
 * certificate as HTTPS does. Streams (logs, exec) stay on the HttpClient.
 */
final class ApiConnection implements AutoCloseable {
    private static final int CONNECT_TIMEOUT_MS = 5_000;
    private static final int READ_TIMEOUT_MS = 300_000;

    private final SSLContext tls;
    private final String host;
    private final int port;
    private SSLSocket socket;
    private InputStream in;
    private OutputStream out;

    /** One answer: status, body and the values of its {@code Warning} headers. */
    record Response(int status, byte[] body, List<String> warnings) {}

    ApiConnection(SSLContext tls, URI server) {
        this.tls = tls;
        this.host = server.getHost();
        this.port = server.getPort() < 0 ? 443 : server.getPort();
    }

    /**
     * Sends one request and reads its answer. A kept-alive connection the server has closed in the
     * meantime fails before any answer arrives: an idempotent request is then sent once more on a
     * new connection, as HTTP clients do.
     */
    synchronized Response exchange(String method, String pathAndQuery, List<String> headers, byte[] body) throws IOException {
        boolean reused = socket != null;
        try {
            return exchangeOnce(method, pathAndQuery, headers, body);
        } catch (IOException e) {
            close();
            if (!reused || !(method.equals("GET") || method.equals("PUT") || method.equals("DELETE")) || !(e instanceof NoAnswer)) {
                throw e instanceof NoAnswer n ? n.cause() : e;
            }
            try {
                return exchangeOnce(method, pathAndQuery, headers, body);
            } catch (IOException again) {
                close();
                throw again instanceof NoAnswer n ? n.cause() : again;
            }
        }
    }

    private Response exchangeOnce(String method, String pathAndQuery, List<String> headers, byte[] body) throws IOException {
        if (socket == null) {
            connect();
        }
        StringBuilder head = new StringBuilder(256).append(method).append(' ').append(pathAndQuery).append(" HTTP/1.1\r\n")
                .append("Host: ").append(host.contains(":") ? "[" + host + "]" : host).append(':').append(port).append("\r\n")
                .append("User-Agent: sourcemesh\r\n");
        for (int i = 0; i + 1 < headers.size(); i += 2) {
            head.append(headers.get(i)).append(": ").append(headers.get(i + 1)).append("\r\n");
        }
        if (body != null || !method.equals("GET") && !method.equals("DELETE")) {
            head.append("Content-Length: ").append(body == null ? 0 : body.length).append("\r\n");
        }
        head.append("\r\n");
        String statusLine;
        try {
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            if (body != null) {
                out.write(body);
            }
            out.flush();
            statusLine = line();
        } catch (IOException e) {
            throw new NoAnswer(e);
        }
        if (statusLine == null) {
            throw new NoAnswer(new EOFException("the API server closed the connection without an answer"));
        }
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP answer: " + statusLine);
        }
        int status = Integer.parseInt(parts[1]);
        long length = -1;
        boolean chunked = false;
        boolean keepAlive = parts[0].equals("HTTP/1.1");
        List<String> warnings = new ArrayList<>();
        for (String h; (h = line()) != null && !h.isEmpty(); ) {
            int colon = h.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = h.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            String value = h.substring(colon + 1).strip();
            switch (name) {
                case "content-length" -> length = Long.parseLong(value);
                case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                case "connection" -> keepAlive = !value.equalsIgnoreCase("close") && (keepAlive || value.equalsIgnoreCase("keep-alive"));
                case "warning" -> warnings.add(value);
                default -> { }
            }
        }
        byte[] answer;
        if (status / 100 == 1 || status == 204 || status == 304) {
            answer = new byte[0];
        } else if (chunked) {
            answer = chunks();
        } else if (length >= 0) {
            answer = in.readNBytes((int) length);
            if (answer.length < length) {
                throw new EOFException("the API server's answer ended after " + answer.length + " of " + length + " bytes");
            }
        } else {
            answer = in.readAllBytes();
            keepAlive = false;
        }
        if (!keepAlive) {
            close();
        }
        return new Response(status, answer, warnings);
    }

    private void connect() throws IOException {
        Socket plain = new Socket();
        try {
            plain.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
            plain.setTcpNoDelay(true);
            plain.setSoTimeout(READ_TIMEOUT_MS);
            SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(plain, host, port, true);
            SSLParameters p = s.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(p);
            s.startHandshake();
            socket = s;
            in = new BufferedInputStream(s.getInputStream(), 16 * 1024);
            out = s.getOutputStream();
        } catch (IOException | RuntimeException e) {
            plain.close();
            throw e;
        }
    }

    private byte[] chunks() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String size = line();
            if (size == null) {
                throw new EOFException("the API server's chunked answer ended early");
            }
            int semi = size.indexOf(';');
            int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
            if (n == 0) {
                for (String trailer; (trailer = line()) != null && !trailer.isEmpty(); ) {
                    // trailers: none we use
                }
                return body.toByteArray();
            }
            byte[] chunk = in.readNBytes(n);
            if (chunk.length < n) {
                throw new EOFException("the API server's chunked answer ended early");
            }
            body.write(chunk);
            line();
        }
    }

    /** A line up to CRLF (or LF), or null at the end of the stream. */
    private String line() throws IOException {
        return Http1Lines.line(in);
    }

    @Override
    public synchronized void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing: nothing left to do
            }
            socket = null;
            in = null;
            out = null;
        }
    }

    /** The request failed before any of its answer arrived (a kept-alive connection closed under it). */
    private static final class NoAnswer extends IOException {
        NoAnswer(IOException cause) {
            super(cause.getMessage(), cause);
        }

        IOException cause() {
            return (IOException) getCause();
        }
    }
}
