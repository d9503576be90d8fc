package io.sourcemesh.cluster.runtime.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The generated /etc files of a netns pod; no privileges needed. */
class PodEtcTest {
    private static final List<PodEtc.Service> SERVICES = List.of(
            new PodEtc.Service("default", "sleep", "10.96.0.11"),
            new PodEtc.Service("istio-system", "istio-ingressgateway", "10.96.0.10"),
            new PodEtc.Service("default", "httpbin", "10.96.0.12"));

    @Test
    void hostsIsKubeletsFileThenEveryServiceUnderTheNamesCoreDnsAnswers() {
        assertEquals("""
                # Kubernetes-managed hosts file (SourceMesh netns runtime: no cluster DNS, services listed below).
                127.0.0.1\tlocalhost
                ::1\tlocalhost ip6-localhost ip6-loopback
                fe00::0\tip6-localnet
                fe00::0\tip6-mcastprefix
                fe00::1\tip6-allnodes
                fe00::2\tip6-allrouters
                172.17.1.5\tsleep-5d8f7c-abcde
                # Services (ClusterIP)
                10.96.0.12\thttpbin httpbin.default httpbin.default.svc httpbin.default.svc.cluster.local
                10.96.0.11\tsleep sleep.default sleep.default.svc sleep.default.svc.cluster.local
                10.96.0.10\tistio-ingressgateway.istio-system istio-ingressgateway.istio-system.svc istio-ingressgateway.istio-system.svc.cluster.local
                """, PodEtc.hosts("default", "sleep-5d8f7c-abcde", "172.17.1.5", SERVICES));
    }

    @Test
    void theShortNameIsOnlyForThePodsOwnNamespace() {
        String hosts = PodEtc.hosts("istio-system", "gw", "172.17.2.3", SERVICES);
        assertTrue(hosts.contains("10.96.0.10\tistio-ingressgateway istio-ingressgateway.istio-system "), hosts);
        assertTrue(hosts.contains("10.96.0.12\thttpbin.default httpbin.default.svc "), hosts);
        assertFalse(hosts.lines().anyMatch(l -> l.matches(".*\\shttpbin(\\s.*|$)")), hosts);
    }

    @Test
    void noServicesNoServiceSection() {
        assertFalse(PodEtc.hosts("default", "p", "172.17.1.2", List.of()).contains("Services"));
    }

    @Test
    void resolvConfSearchesLikeKubernetesAndAsksOnlyThePodsLoopback() {
        assertEquals("""
                # SourceMesh netns runtime: no cluster DNS; service names are in /etc/hosts.
                search bookinfo.svc.cluster.local svc.cluster.local cluster.local
                nameserver 127.0.0.1
                options ndots:5 timeout:1 attempts:1
                """, PodEtc.resolvConf("bookinfo"));
    }

    @Test
    void nsswitchKeepsTheMachinesDatabasesButHostsIsOnlyTheFile() {
        assertEquals("""
                passwd:         files systemd
                hosts:          files
                networks:       files
                """, PodEtc.nsswitch("""
                passwd:         files systemd
                hosts:          files mdns4_minimal [NOTFOUND=return] resolve [!UNAVAIL=return] dns myhostname
                networks:       files
                """));
        assertEquals("hosts:          files\n", PodEtc.nsswitch(""));
    }

    @Test
    void filesAreWrittenAndTheHostsFileRewrittenInPlaceOnlyWhenItChanges(@TempDir Path dir) throws Exception {
        PodEtc etc = PodEtc.create(dir.resolve("p-sleep"), "default", "sleep-1", "172.17.1.5", SERVICES.subList(0, 1));
        Path hosts = dir.resolve("p-sleep/hosts");
        assertTrue(Files.readString(hosts).contains("sleep.default.svc.cluster.local"));
        assertEquals(PodEtc.resolvConf("default"), Files.readString(dir.resolve("p-sleep/resolv.conf")));
        assertTrue(Files.readString(dir.resolve("p-sleep/nsswitch.conf")).contains("hosts:          files\n"));
        Object inode = Files.getAttribute(hosts, "unix:ino");
        Files.setLastModifiedTime(hosts, java.nio.file.attribute.FileTime.fromMillis(0));
        etc.write(SERVICES.subList(0, 1));
        assertEquals(0, Files.getLastModifiedTime(hosts).toMillis(), "unchanged: not rewritten");
        etc.write(SERVICES);
        assertTrue(Files.readString(hosts).contains("httpbin.default.svc.cluster.local"));
        assertEquals(inode, Files.getAttribute(hosts, "unix:ino"), "the same inode, which a bind mount holds");
        etc.delete();
        assertFalse(Files.exists(dir.resolve("p-sleep")));
    }

    @Test
    void wrapRunsTheScriptInItsOwnUtsNamespaceThenTheCommandUntouched() {
        assertEquals(List.of("unshare", "--uts", "--", "sh", "-c", PodEtc.SCRIPT, "sh", "/etc", "/x/p", "sleep-1",
                "sh", "-c", "echo \"$0\" 'a b'"),
                PodEtc.wrap(Path.of("/etc"), Path.of("/x/p"), "sleep-1", List.of("sh", "-c", "echo \"$0\" 'a b'")));
    }

    @Test
    void theHostnameIsThePodNameCutAsKubeletCutsIt() {
        assertEquals("sleep-5d8f7c-abcde", PodEtc.hostname("sleep-5d8f7c-abcde"));
        String long64 = "a".repeat(61) + "-.b";
        assertEquals("a".repeat(61), PodEtc.hostname(long64));
        assertTrue(PodEtc.hosts("default", long64, "172.17.1.2", List.of()).contains("172.17.1.2\t" + "a".repeat(61) + "\n"));
    }

    @Test
    void theMachinesProxySettingsAreNotThePods() {
        Map<String, String> env = new HashMap<>(Map.of("PATH", "/bin", "http_proxy", "x", "HTTPS_PROXY", "y", "NO_PROXY", "z",
                "all_proxy", "w", "HOME", "/root"));
        PodEtc.dropHostProxy(env);
        assertEquals(Map.of("PATH", "/bin", "HOME", "/root"), env);
    }
}
