package io.sourcemesh.cluster.kubelet;

import io.sourcemesh.api.resource.Probe;
import io.sourcemesh.cluster.exec.ExecProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The embedded runtime's prober: the kubelet's own sockets to the pod's address. The runtime's interception applies
 * only to connections made through its connectors (a sidecar's, kube-proxy's), so these reach the app's listening
 * socket itself, never the sidecar's inbound listener: what Istio's probe rewrite achieves. HTTP is the kubelet's
 * request ({@code User-Agent: kube-probe/1.30}, the probe's headers, 200–399 passes); HTTPS verifies nothing, as the
 * kubelet does not.
 */
public final class SocketProber implements Prober {
    private static final SSLContext TRUST_ALL = trustAll();

    private final InetAddress ip;
    private final Function<List<String>, ExecProcess> exec;

    private SocketProber(InetAddress ip, Function<List<String>, ExecProcess> exec) {
        this.ip = ip;
        this.exec = exec;
    }

    /** Probes the pod at {@code ip}; exec probes start their command with {@code exec}. */
    public static SocketProber of(InetAddress ip, Function<List<String>, ExecProcess> exec) {
        return new SocketProber(ip, exec);
    }

    @Override
    public Optional<String> http(Probe.HttpGet get, int port, Duration timeout) {
        int ms = (int) Math.max(1, timeout.toMillis());
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress(ip, port), ms);
            plain.setSoTimeout(ms);
            Socket s = plain;
            if (get.scheme().equals("HTTPS")) {
                SSLSocket tls = (SSLSocket) TRUST_ALL.getSocketFactory().createSocket(plain, ip.getHostAddress(), port, true);
                tls.startHandshake();
                s = tls;
            }
            StringBuilder req = new StringBuilder("GET " + get.path() + " HTTP/1.1\r\n");
            String host = get.headers().keySet().stream().anyMatch(h -> h.equalsIgnoreCase("Host")) ? null
                    : ip.getHostAddress() + ":" + port;
            if (host != null) {
                req.append("Host: ").append(host).append("\r\n");
            }
            if (get.headers().keySet().stream().noneMatch(h -> h.equalsIgnoreCase("User-Agent"))) {
                req.append("User-Agent: kube-probe/1.30\r\n");
            }
            if (get.headers().keySet().stream().noneMatch(h -> h.equalsIgnoreCase("Accept"))) {
                req.append("Accept: */*\r\n");
            }
            get.headers().forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
            req.append("Connection: close\r\n\r\n");
            OutputStream out = s.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            String status = statusLine(s.getInputStream());
            String[] parts = status.split(" ", 3);
            int code = parts.length >= 2 && parts[0].startsWith("HTTP/") ? Integer.parseInt(parts[1]) : -1;
            if (code >= 200 && code < 400) {
                return Optional.empty();
            }
            return Optional.of(code < 0 ? "HTTP probe failed: malformed response \"" + status + "\"" : "HTTP probe failed with statuscode: " + code);
        } catch (SocketTimeoutException e) {
            return Optional.of("Get \"" + url(get, port) + "\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)");
        } catch (IOException | NumberFormatException e) {
            return Optional.of("Get \"" + url(get, port) + "\": " + e.getMessage());
        }
    }

    private String url(Probe.HttpGet get, int port) {
        return get.scheme().toLowerCase(java.util.Locale.ROOT) + "://" + ip.getHostAddress() + ":" + port + get.path();
    }

    private static String statusLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b >= 0 && b != '\n' && line.length() < 1024; b = in.read()) {
            line.append((char) b);
        }
        return line.toString().strip();
    }

    @Override
    public Optional<String> tcp(int port, Duration timeout) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(ip, port), (int) Math.max(1, timeout.toMillis()));
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("dial tcp " + ip.getHostAddress() + ":" + port + ": " + e.getMessage());
        }
    }

    @Override
    public Optional<String> exec(List<String> command, Duration timeout) {
        return Prober.exec(exec, command, timeout);
    }

    private static SSLContext trustAll() {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                    // the kubelet's probes skip verification (InsecureSkipVerify)
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, new SecureRandom());
            return ctx;
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
