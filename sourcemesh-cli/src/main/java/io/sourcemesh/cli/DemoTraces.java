package io.sourcemesh.cli;

import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.trace.Trace;
import io.sourcemesh.trace.TraceText;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The demo's `sourcemesh trace` of each situation, taken as it happens (each step changes the mesh) and printed at the end.
 * A trace runs on its own thread beside its step's commands, with its own connection to the API server; the step waits
 * for it ({@link #awaitRunning}) before the next change to the mesh.
 */
final class DemoTraces {
    interface Call {
        Trace run(LiveTrace live) throws Exception;
    }

    private final ClusterApi api;
    private final Home home;
    /** A trace taken: its text as printed, and what it found otherwise than predicted (empty: every hop as predicted). */
    private record Taken(String text, List<String> problems) {}

    private final List<CompletableFuture<Taken>> traces = new ArrayList<>();
    private CompletableFuture<Taken> running;

    DemoTraces(ClusterApi api, Home home) {
        this.api = api;
        this.home = home;
    }

    void eastWest(String situation) {
        add(situation, "sourcemesh trace --from deploy/sleep http://httpbin:8000/ip",
                live -> live.eastWest("default", "deploy/sleep", "http://httpbin:8000/ip", true));
    }

    void northSouth(String situation, String url, String client) {
        add(situation, "sourcemesh trace --external " + url,
                live -> live.northSouth(url, client, "istio-system", "istio-ingressgateway", true));
    }

    void add(String situation, String command, Call call) {
        awaitRunning();
        CompletableFuture<Taken> trace = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("demo-trace").start(() -> {
            String text;
            List<String> problems;
            try {
                Trace t = call.run(new LiveTrace(api, home));
                text = TraceText.text(t);
                int n = t.mismatches().size();
                problems = n == 0 ? List.of() : List.of(problem(situation, "found " + n + (n == 1 ? " mismatch" : " mismatches") + " (below)"));
            } catch (Exception e) {
                text = "trace failed: " + e.getMessage() + "\n";
                problems = List.of(problem(situation, "failed: " + e.getMessage()));
            } catch (Throwable t) { // the step waits on this trace: it must complete whatever happens
                text = "trace failed: " + t + "\n";
                problems = List.of(problem(situation, "failed: " + t));
            }
            trace.complete(new Taken("# " + situation + "\n$ " + command + "\n" + text, problems));
        });
        traces.add(trace);
        running = trace;
    }

    /** Waits for the trace started last: the next step changes the mesh it describes. */
    void awaitRunning() {
        if (running != null) {
            running.join();
            running = null;
        }
    }

    private static String problem(String situation, String what) {
        return "the trace of \"" + situation + "\" " + what;
    }

    /** What the traces taken found otherwise than predicted, one line per trace (waits for each). */
    List<String> problems() {
        return traces.stream().flatMap(t -> t.join().problems().stream()).toList();
    }

    /** Every trace, then the dashboard's URL (the daemon serves it on 127.0.0.1 and writes it to the home). */
    void print(PrintWriter out) throws IOException {
        out.println();
        out.println("### Where the client's address was kept or lost, hop by hop (sourcemesh trace), in each situation");
        traces.forEach(t -> out.print("\n" + t.join().text()));
        Path url = DashboardCommand.urlFile(home);
        out.println();
        out.println(Files.exists(url) ? "Dashboard: " + Files.readString(url).strip() + "   (served by the cluster, 127.0.0.1 only)"
                : "Dashboard: run `sourcemesh dashboard` and open the URL it prints.");
    }
}
