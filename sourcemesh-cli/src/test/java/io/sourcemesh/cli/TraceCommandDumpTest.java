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
