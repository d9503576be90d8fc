package io.sourcemesh.cluster.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * An internet client of the north-south tests: a real curl from one source address — this machine's
 * (embedded) or inside the namespace that plays the internet (netns, {@code ip netns exec} in front).
 */
public final class ExternalClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<String> prefix;
    private final String address;

    public ExternalClient(String address) {
        this(List.of(), address);
    }

    /** curl run after {@code prefix} (e.g. {@code ip netns exec NS}), bound to {@code address}. */
    public ExternalClient(List<String> prefix, String address) {
        this.prefix = List.copyOf(prefix);
        this.address = address;
    }

    public String address() {
        return address;
    }

    public record Curl(int exit, String out) {}

    /** curl with {@code args} from the client's address, once (stderr with stdout). */
    public Curl curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of("curl", "-sS", "--noproxy", "*", "--interface", address, "--max-time", "5"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "curl finished");
        return new Curl(p.exitValue(), out);
    }

    /** The status code of one request, or -1 when curl got no HTTP answer. */
    public int code(String url) {
        try {
            Curl c = curl("-o", "/dev/null", "-w", "%{http_code}", url);
            return c.exit() == 0 ? Integer.parseInt(c.out().trim()) : -1;
        } catch (Exception e) {
            return -1;
        }
    }

    /** Waits until a request gets {@code expected} (a policy reaches the gateway asynchronously). */
    public void awaitCode(String url, int expected) throws InterruptedException {
        awaitTrue(() -> code(url) == expected, address + " gets " + expected + " from " + url);
    }

    /**
     * The JSON body of a successful {@code curl -f} once {@code expected} holds for it: config reaches
     * the proxies asynchronously, so it retries for 20 s, then fails naming the last answer.
     */
    public JsonNode awaitJson(Predicate<JsonNode> expected, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("-f"));
        all.addAll(List.of(args));
        Curl last = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            last = curl(all.toArray(String[]::new));
            if (last.exit() == 0) {
                JsonNode body = JSON.readTree(last.out());
                if (expected.test(body)) {
                    return body;
                }
            }
            Thread.sleep(100);
        }
        fail("curl from " + address + " " + String.join(" ", args) + ": no expected answer; the last: exit " + last.exit() + " " + last.out());
        return null;
    }

    /** The origin httpbin's /ip reports, once the request ({@code args}: options, then the URL) succeeds. */
    public String origin(String... args) throws Exception {
        return awaitJson(b -> true, args).path("origin").asText();
    }

    public static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(100);
        }
        fail("timed out waiting for " + what);
    }
}
