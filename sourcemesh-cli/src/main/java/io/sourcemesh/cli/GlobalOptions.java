package io.sourcemesh.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * kubectl takes its global flags anywhere, so {@code kubectl -n default exec ...} works. picocli binds
 * options to the command they follow; this moves global flags written before the verb to just after
 * the innermost subcommand (before any {@code --}), where every cluster verb declares them.
 */
final class GlobalOptions {
    private static final List<String> WITH_VALUE = List.of("-n", "--namespace", "--home");

    private GlobalOptions() {}

    static String[] hoist(CommandLine root, String... args) {
        List<String> globals = new ArrayList<>();
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
            } else {
                break;
            }
        }
        if (globals.isEmpty() || i == args.length) {
            return args;
        }
        List<String> out = new ArrayList<>();
        CommandLine cmd = root;
        // the verb path: each token that names a subcommand of the one before
        while (i < args.length && cmd.getSubcommands().containsKey(args[i])) {
            cmd = cmd.getSubcommands().get(args[i]);
            out.add(args[i++]);
        }
        out.addAll(globals);
        for (; i < args.length; i++) {
            out.add(args[i]);
        }
        return out.toArray(String[]::new);
    }
}
