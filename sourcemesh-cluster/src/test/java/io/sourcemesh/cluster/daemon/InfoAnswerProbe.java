package io.sourcemesh.cluster.daemon;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A JVM of its own (classes load once per JVM): a {@link ClusterApiServer} over a daemon whose only verb
 * is info; asks {@code /v1/info} once over a plain socket, the answer unread, and prints how many classes
 * the JVM loaded meanwhile (the server's side of the first answer), then the answer's body.
 */
public final class InfoAnswerProbe {
    private InfoAnswerProbe() {
    }

    public static void main(String[] args) throws Exception {
        var info = new ClusterApi.ClusterInfo("embedded", "/h", 4242, 77, List.of("sourcemesh-node-1", "sourcemesh-node-2"), 3,
                null, "informers on https://127.0.0.1:1/");
        ClusterApi daemon = (ClusterApi) java.lang.reflect.Proxy.newProxyInstance(ClusterApi.class.getClassLoader(),
                new Class<?>[] {ClusterApi.class}, (proxy, method, a) -> info);
        try (ClusterApiServer server = ClusterApiServer.start(new InetSocketAddress("127.0.0.1", 0), daemon, () -> { });
                Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()), 5000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            byte[] request = ("POST /v1/info HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            byte[] answer = new byte[64 * 1024];
            var classes = ManagementFactory.getClassLoadingMXBean();
            long before = classes.getTotalLoadedClassCount();
            out.write(request);
            int n = 0;
            for (int r; (r = in.read(answer, n, answer.length - n)) > 0; ) {
                n += r;
            }
            long loaded = classes.getTotalLoadedClassCount() - before;
            System.out.println("classes " + loaded);
            String text = new String(answer, 0, n, StandardCharsets.UTF_8);
            System.out.println(text.substring(text.indexOf("\r\n\r\n") + 4));
        }
    }
}
