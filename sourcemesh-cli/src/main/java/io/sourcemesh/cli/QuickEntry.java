package io.sourcemesh.cli;

import java.util.concurrent.Callable;

/**
 * What the launcher's hand-parsing entries ({@link ProxyMain}, {@link DaemonMain}) share: a verb bound
 * by hand runs and the process exits with its status; a line it could not bind goes to picocli's {@link Main}.
 */
final class QuickEntry {
    private QuickEntry() {}

    static void run(Callable<Integer> bound, String[] args) throws Exception {
        if (bound == null) {
            Main.main(args);
            return;
        }
        int status;
        try {
            status = bound.call();
        } catch (Exception e) {
            System.err.println(Main.message(e));
            status = 1;
        }
        System.exit(status);
    }
}
