package io.sourcemesh.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * kubectl takes its global flags anywhere, so {@code kubectl -n default exec ...} and
 * {@code kubectl create -n ns secret tls ...} work. picocli binds options to the command they follow;
 * this moves global flags written on the way to the verb to just after the innermost subcommand,
 * where every cluster verb declares them. Nothing after the verb moves, so {@code -- CMD -n} is safe.
 */
final class GlobalOptions {
    private static final List<String> WITH_VALUE = List.of("-n", "--namespace", "--home");

    private GlobalOptions() {}

    static String[] hoist(CommandLine root, String... args) {
        List<String> globals = new ArrayList<>();
        List<String> out = new ArrayList<>();
        CommandLine cmd = root;
        int i = 0;
        while (i < args.length) {
            String a = args[i];
            if (WITH_VALUE.contains(a) && i + 1 < args.length) {
                globals.add(a);
                globals.add(args[i + 1]);
                i += 2;
            } else if (a.startsWith("--namespace=") || a.startsWith("--home=") || (a.startsWith("-n") && a.length() > 2 && !a.startsWith("--"))) {
                globals.add(a);
                i++;
            } else if (cmd.getSubcommands().containsKey(a)) {
                cmd = cmd.getSubcommands().get(a);
                out.add(a);
                i++;
            } else {
                break;
            }
        }
        if (globals.isEmpty()) {
            return args;
        }
        out.addAll(globals);
        for (; i < args.length; i++) {
            out.add(args[i]);
        }
        return out.toArray(String[]::new);
    }
}
