package io.sourcemesh.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A hand-written parser for the command lines a script runs most — {@code get} with kubectl's
 * usual flags, and {@code up} — so they run without picocli: its jar is compiled for Java 5, which the JVM's AOT
 * cache cannot link, and building its model of one verb costs a few tenths of a second of every
 * call. It takes only what it understands exactly (each flag once, in the forms picocli reads the
 * same way); anything else — help, a flag it does not know, a repeated one, {@code --} — is
 * left to picocli, so output, flags and errors are picocli's in every case.
 */
final class QuickVerbs {
    private QuickVerbs() {}

    /** The exit code of {@code args} run here, or -1 when picocli must parse them. */
    static int run(Clock clock, PrintWriter out, PrintWriter err, String... args) {
        GetCommand get = parseGet(args);
        UpCommand up = get == null ? parseUp(args) : null;
        if (get == null && up == null) {
            return -1;
        }
        try {
            return get != null ? get.run(out, err, clock) : up.run(out, err);
        } catch (Exception e) {
            err.println(Main.message(e));
            return 1;
        } finally {
            out.flush();
            err.flush();
        }
    }

    /**
     * {@code up} with {@code --home D} (before or after the verb), {@code --nodes N} and {@code --runtime R}
     * (after it), each once, as {@code --flag value} or {@code --flag=value}; null for anything else.
     */
    static UpCommand parseUp(String... args) {
        UpCommand up = new UpCommand();
        Set<String> seen = new HashSet<>();
        boolean verb = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("-")) {
                if (verb || !a.equals("up")) {
                    return null;
                }
                verb = true;
                continue;
            }
            OptionArg o = OptionArg.at(args, i);
            if (o == null) {
                return null;
            }
            String name = o.name();
            String value = o.value();
            i = o.last();
            if (!seen.add(name) || value.isEmpty() || (!verb && !name.equals("--home"))) {
                return null;
            }
            switch (name) {
                case "--home" -> up.home = Path.of(value);
                case "--nodes" -> {
                    if (!value.matches("[0-9]{1,4}")) {
                        return null; // picocli's message for it
                    }
                    up.nodes = Integer.parseInt(value);
                }
                case "--runtime" -> up.runtime = value;
                default -> {
                    return null;
                }
            }
        }
        return verb ? up : null;
    }

    /** {@code get} with its flags and arguments bound, or null when the line is not one this parser takes. */
    static GetCommand parseGet(String... args) {
        GetCommand get = new GetCommand();
        get.cluster = new ClusterOptions();
        List<String> positional = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        boolean verb = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("-") || a.equals("-")) {
                if (!verb) {
                    if (!a.equals("get")) {
                        return null;
                    }
                    verb = true;
                } else {
                    positional.add(a);
                }
                continue;
            }
            if (a.equals("-A") || a.equals("--all-namespaces")) {
                if (!seen.add("A")) {
                    return null;
                }
                get.allNamespaces = true;
                continue;
            }
            if (a.equals("--no-headers")) {
                if (!seen.add("no-headers")) {
                    return null;
                }
                get.noHeaders = true;
                continue;
            }
            String name;
            String value;
            if (!a.startsWith("--") && a.length() > 2) {
                if (a.charAt(2) == '=') {
                    return null; // -o=wide: picocli's reading of it
                }
                name = a.substring(0, 2);
                value = a.substring(2);
            } else {
                OptionArg o = OptionArg.at(args, i);
                if (o == null) {
                    return null; // a missing value, or one picocli might take for an option
                }
                name = o.name();
                value = o.value();
                i = o.last();
            }
            String option = switch (name) {
                case "-n", "--namespace" -> "n";
                case "--home" -> "home";
                case "-l", "--selector" -> "l";
                case "-o", "--output" -> "o";
                default -> null;
            };
            if (option == null || !seen.add(option) || value.isEmpty()) {
                return null;
            }
            // global flags are read before the verb as well (GlobalOptions), the verb's own only after it
            if (!verb && !(option.equals("n") || option.equals("home"))) {
                return null;
            }
            switch (option) {
                case "n" -> get.cluster.namespace = value;
                case "home" -> get.cluster.home = Path.of(value);
                case "l" -> get.selector = value;
                default -> get.output = value;
            }
        }
        if (!verb || positional.isEmpty()) {
            return null;
        }
        get.what = positional.getFirst();
        get.names = new ArrayList<>(positional.subList(1, positional.size()));
        return get;
    }
}
