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

/** The internet client of the north-south tests: this machine's real curl, from one source address. */
public final class ExternalClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String address;

    public ExternalClient(String address) {
        this.address = address;
    }

    public record Curl(int exit, String out) {}

    /** curl with {@code args} from the client's address, once. */
    public Curl curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--interface", address, "--max-time", "5"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "curl finished");
        return new Curl(p.exitValue(), out);
    }

    /**
     * The JSON body of a successful {@code curl -f} once {@code expected} holds for it: config reaches
     * the proxies asynchronously, so it retries for 15 s, then fails naming the last answer.
     */
    public JsonNode awaitJson(Predicate<JsonNode> expected, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("-f"));
        all.addAll(List.of(args));
        Curl last = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
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
        fail("curl " + String.join(" ", args) + ": no expected answer; the last: exit " + last.exit() + " " + last.out());
        return null;
    }

    public static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(100);
        }
        fail("timed out waiting for " + what);
    }
}
