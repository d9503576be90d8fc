package io.sourcemesh.cluster.loadbalancer;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A cloud load balancer's backend probe, made from the load balancer's own address: a TCP connect
 * to the node port (externalTrafficPolicy Cluster: every node can serve), or an HTTP GET of
 * kube-proxy's healthCheckNodePort expecting 200 (Local: only nodes with a local endpoint).
 */
public sealed interface HealthCheck {
    int TIMEOUT_MILLIS = 500;

    boolean probe(InetAddress from, InetAddress node);

    record Tcp(int port) implements HealthCheck {
        @Override
        public boolean probe(InetAddress from, InetAddress node) {
            try (Socket s = new Socket()) {
                s.bind(new InetSocketAddress(from, 0));
                s.connect(new InetSocketAddress(node, port), TIMEOUT_MILLIS);
                return true;
            } catch (IOException e) {
                return false;
            }
        }
    }

    record Http(int port, String path) implements HealthCheck {
        @Override
        public boolean probe(InetAddress from, InetAddress node) {
            try (Socket s = new Socket()) {
                s.bind(new InetSocketAddress(from, 0));
                s.connect(new InetSocketAddress(node, port), TIMEOUT_MILLIS);
                s.setSoTimeout(TIMEOUT_MILLIS);
                String request = "GET " + path + " HTTP/1.1\r\nHost: " + node.getHostAddress() + ":" + port
                        + "\r\nUser-Agent: sourcemesh-slb-healthcheck\r\nConnection: close\r\n\r\n";
                s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                return statusLine(s.getInputStream()).matches("HTTP/1\\.[01] 200( .*)?");
            } catch (IOException e) {
                return false;
            }
        }

        private static String statusLine(InputStream in) throws IOException {
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0 && c != '\n' && line.length() < 200) {
                if (c != '\r') {
                    line.append((char) c);
                }
            }
            return line.toString();
        }
    }
}
