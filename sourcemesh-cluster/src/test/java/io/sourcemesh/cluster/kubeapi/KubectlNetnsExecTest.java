package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sourcemesh.cluster.netns.NetnsSupport;
import io.sourcemesh.cluster.netns.runtime.NetnsCluster;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.exec.Pty;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link KubectlExecTest} on the netns runtime (root): the exec'd command runs inside the pod's
 * network namespace, on a terminal there with {@code -it}.
 */
@ExtendWith(NetnsSupport.class)
class KubectlNetnsExecTest {
    @TempDir
    Path home;
    NetnsCluster cluster;
    KubeApiServer server;
    Kubectl kubectl;

    @BeforeEach
    void up() throws Exception {
        assumeTrue(Kubectl.installed(), "no kubectl on PATH: the tests that drive the real kubectl are skipped");
        cluster = NetnsCluster.start(new Home(home), NetnsSupport.PREFIX, 2);
        server = KubeApiServer.startWithKubeconfig(new InetSocketAddress("127.0.0.1", 0), cluster, cluster.store(), home);
        kubectl = new Kubectl(home.resolve("kubeconfig"));
        for (String f : new String[] {"sleep.yaml", "httpbin.yaml"}) {
            Kubectl.Result r = kubectl.run("-n", "default", "apply", "-f", Path.of("src/test/resources/seed/" + f).toAbsolutePath().toString());
            assertEquals(0, r.exit(), r.toString());
        }
        for (String d : new String[] {"deployment/sleep", "deployment/httpbin"}) {
            Kubectl.Result r = kubectl.run("-n", "default", "rollout", "status", d, "--timeout=240s");
            assertEquals(0, r.exit(), r.toString());
        }
        assertTrue(cluster.awaitSettled(Duration.ofSeconds(90)));
    }

    @AfterEach
    void down() {
        if (server != null) {
            server.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void streamedAndOnATerminalInsideThePodsNamespace() throws Exception {
        KubectlExecTest.stdinIsStreamed(kubectl);
        KubectlExecTest.shellLineByLine(kubectl);
        assumeTrue(Pty.available(), "no script/stty on this machine");
        KubectlExecTest.seedsExecIt(kubectl);
        KubectlExecTest.shellOnATerminal(kubectl);
    }
}
