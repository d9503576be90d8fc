package io.sourcemesh.cli;

import java.nio.file.Path;
import java.util.Set;

/**
 * The entry {@code up} starts its daemon with: reads the line {@code up} writes ({@code daemon --home D
 * --nodes N --runtime R}) by hand and runs {@link DaemonCommand}, so the daemon's start does not wait
 * for picocli (Java 5 class files, read and verified from its jar on every start: the AOT cache
 * cannot hold them) to build its model of a verb. Anything else goes to {@link Main}.
 */
public final class DaemonMain {

    private DaemonMain() {}

    public static void main(String[] args) throws Exception {
        QuickEntry.run(parse(args), args);
    }

    /** The daemon verb with its options bound, or null when picocli must read the line. */
    static DaemonCommand parse(String... args) {
        if (args.length == 0 || !args[0].equals("daemon") || args.length % 2 == 0) {
            return null;
        }
        DaemonCommand c = new DaemonCommand();
        c.nodes = 2;
        c.runtime = "embedded";
        Set<String> seen = new java.util.HashSet<>();
        for (int i = 1; i < args.length; i += 2) {
            String name = args[i];
            String value = args[i + 1];
            if (!seen.add(name) || value.isEmpty() || value.startsWith("-")) {
                return null;
            }
            switch (name) {
                case "--home" -> c.home = Path.of(value);
                case "--nodes" -> {
                    if (!value.matches("[0-9]{1,4}")) {
                        return null;
                    }
                    c.nodes = Integer.parseInt(value);
                }
                case "--runtime" -> c.runtime = value;
                default -> {
                    return null;
                }
            }
        }
        return c;
    }
}
