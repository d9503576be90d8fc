package io.sourcemesh.cli;

/**
 * One option of a hand-parsed command line ({@link QuickVerbs}, {@link ProxyMain}):
 * {@code --name=value}, or {@code name value} with the value the next argument. {@code last}
 * is the index of the last argument it took.
 */
record OptionArg(String name, String value, int last) {
    /**
     * The option at {@code args[i]}, or null when its value is missing or starts with {@code -} (one
     * picocli might read as an option: the line is picocli's to judge).
     */
    static OptionArg at(String[] args, int i) {
        String a = args[i];
        int eq = a.indexOf('=');
        if (a.startsWith("--") && eq > 0) {
            return new OptionArg(a.substring(0, eq), a.substring(eq + 1), i);
        }
        if (i + 1 >= args.length || args[i + 1].startsWith("-")) {
            return null;
        }
        return new OptionArg(a, args[i + 1], i + 1);
    }
}
