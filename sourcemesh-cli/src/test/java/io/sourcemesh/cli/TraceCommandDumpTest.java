package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import org.junit.jupiter.api.Test;

/** {@code trace --dump DIR} needs no cluster: our own collected situations, and its errors named. */
class TraceCommandDumpTest {
    private static final String OWN = "../sourcemesh-trace/src/test/resources/own/";

    record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(Clock.systemUTC(), InputStream.nullInputStream(), new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void dumpsTraceOffline() {
        Run r = run("trace", "--dump", OWN + "cluster", "--external", "--client", "127.120.0.10", "http://127.100.16.2:80/ip");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("is LOST at hop 3 (node kube-proxy (NodePort "), r.out());
        assertTrue(r.out().contains("FIX: kubectl patch svc istio-ingressgateway -n istio-system -p '{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}'"));

        r = run("trace", "--dump", OWN + "redirect", "--from", "deploy/sleep", "http://httpbin:8000/ip", "--request-id",
                "6010bcf2-89fb-466a-8289-375e1e7d9378");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("OBSERVED: every hop's access-log line matches the prediction."), r.out());
        r = run("trace", "--dump", OWN + "redirect", "--from", "deploy/sleep", "http://httpbin:8000/ip", "--request-id", "no-such-request");
        assertEquals(1, r.code(), "a request id no proxy logged is a mismatch");
        assertTrue(r.out().contains("MISMATCH: istio-proxy of httpbin-"), r.out());
    }

    /** Istio 1.3's ingress gateway and productpage dumps from Istio's own tests (sourcemesh-trace's SOURCES.md). */
    @Test
    void anIstioIngressGatewaysDump() {
        Run r = run("trace", "--dump", "../sourcemesh-trace/src/test/resources/istio-gateway", "--external", "--client", "203.0.113.7",
                "http://10.1.2.3/productpage");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("is LOST at hop 3 (node kube-proxy (NodePort 31380))."), r.out());
        assertTrue(r.out().contains("FIX: kubectl patch svc istio-ingressgateway -n istio-system -p '{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}'"),
                r.out());
        assertTrue(r.out().contains("config gateway: use_remote_address: true, xff_num_trusted_hops: 0 (configs[2].dynamic_listeners[0]"
                + ".active_state.listener.filter_chains[0].filters[0].typed_config)"), r.out());
        assertTrue(r.out().contains("config gateway: configs[2].dynamic_listeners[0].active_state.listener 0.0.0.0_80: listener_filters []"), r.out());
    }

    @Test
    void badInputIsNamed() {
        Run r = run("trace", "--dump", OWN + "cluster", "--external", "http://127.100.16.2:80/ip");
        assertEquals(new Run(1, "", "error: --external with --dump needs --client IP: the internet client's address\n"), r);
        r = run("trace", "--dump", OWN + "nope", "--from", "deploy/sleep", "http://httpbin:8000/ip");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("nope: not a directory"), r.err());
        r = run("trace", "--dump", OWN + "redirect", "--from", "deploy/sleep", "http://httpbin:8000/ip", "-o", "yaml");
        assertEquals(new Run(1, "", "error: output format \"yaml\" not supported: text or json\n"), r);
        r = run("trace", "--dump", OWN + "redirect", "--from", "deploy/sleep", "--external", "http://httpbin:8000/ip");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("--from=POD|deploy/NAME, --external are mutually exclusive"), r.err());
    }
}
