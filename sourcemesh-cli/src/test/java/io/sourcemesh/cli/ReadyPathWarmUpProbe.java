package io.sourcemesh.cli;

import io.sourcemesh.cluster.daemon.Home;
import java.io.PrintWriter;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A JVM of its own (classes load once per JVM): a home whose daemon.json names this process and a
 * loopback port answering the daemon's info; with "warm", {@link ReadyPathWarmUp#run} first; then
 * {@code up}'s path after its wait (the daemon's file, its info, the lines printed) and prints how many
 * classes that path loaded.
 */
public final class ReadyPathWarmUpProbe {
    private ReadyPathWarmUpProbe() {
    }

    public static void main(String[] args) throws Exception {
        Path home = Files.createTempDirectory("sourcemesh-ready-path-");
        try (ServerSocket daemon = ReadyPathWarmUp.answerOnce(ReadyPathWarmUp.INFO)) {
            Files.writeString(home.resolve("daemon.log"), "starting\n");
            Files.writeString(home.resolve("daemon.json"), "{\"port\":" + daemon.getLocalPort() + ",\"pid\":"
                    + ProcessHandle.current().pid() + ",\"runtime\":\"embedded\"}");
            if (args[0].equals("warm")) {
                ReadyPathWarmUp.run(home.resolve("daemon.log"));
            }
            var classes = ManagementFactory.getClassLoadingMXBean();
            long before = classes.getTotalLoadedClassCount();
            Home h = new Home(home);
            var info = h.client().info();
            UpCommand.printUp(new PrintWriter(Writer.nullWriter()), info, h);
            long loaded = classes.getTotalLoadedClassCount() - before;
            System.out.println("nodes " + info.nodes().size());
            System.out.println("classes " + loaded);
        } finally {
            try (var files = Files.list(home)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(home);
        }
    }
}
