package io.sourcemesh.cli;

import io.sourcemesh.proxy.ProxyOptions;
import java.nio.file.Path;

/**
 * The launcher's entry for {@code sourcemesh proxy}: reads the proxy verb's own options by hand and
 * runs {@link ProxyCommand}, so a proxy process touches neither picocli (Java 5 class files, which
 * the AOT cache cannot hold) nor {@link Main}'s other verbs — their classes, linked into the AOT
 * cache, would bring Jackson with them. It takes only the exact forms picocli reads the same way
 * ({@code -c F}, {@code -cF}, {@code -c=F}, {@code --config-path[=]F}, {@code --concurrency[=]N},
 * {@code --mode[=]M}, {@code --drain-time-s[=]S}, each once); anything else (help, an unknown flag, a repeat) goes to {@link Main}.
 */
public final class ProxyMain {

    private ProxyMain() {}

    public static void main(String[] args) throws Exception {
        ProxyCommand command = parse(args);
        if (command == null && !WholeClassPath.here()) { // the launcher's proxy class path: Main needs the rest
            WholeClassPath.main(args);
            return;
        }
        if (command != null) {
            NettyLogging.useJul(); // before Netty's first logger: no probes for SLF4J and Log4j
            BuiltInSelectorProvider.use(); // before Netty's native transports open a selector
        }
        QuickEntry.run(command, args);
    }

    /** Runs a proxy command line as {@link #main} does, without exiting (the AOT training's proxy). */
    static int execute(String... args) throws Exception {
        ProxyCommand command = parse(args);
        return command == null ? Main.execute(args) : command.call();
    }

    /** The proxy verb with its options bound, or null when picocli must read the line. */
    static ProxyCommand parse(String... args) {
        if (args.length == 0 || !args[0].equals("proxy")) {
            return null;
        }
        ProxyCommand c = new ProxyCommand();
        c.mode = "serve";
        c.drainTimeSeconds = ProxyOptions.DEFAULT_DRAIN_TIME.toSeconds();
        boolean mode = false;
        boolean drainTime = false;
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            String name;
            String value;
            if (a.startsWith("-c") && !a.startsWith("--") && a.length() > 2) {
                name = "-c";
                value = a.charAt(2) == '=' ? a.substring(3) : a.substring(2);
            } else {
                OptionArg o = OptionArg.at(args, i);
                if (o == null) {
                    return null;
                }
                name = o.name();
                value = o.value();
                i = o.last();
            }
            switch (name) {
                case "-c", "--config-path" -> {
                    if (c.config != null || value.isEmpty()) {
                        return null;
                    }
                    c.config = Path.of(value);
                }
                case "--concurrency" -> {
                    if (c.concurrency != null || !value.matches("[0-9]{1,6}")) {
                        return null;
                    }
                    c.concurrency = Integer.valueOf(value);
                }
                case "--mode" -> {
                    if (mode) {
                        return null;
                    }
                    mode = true;
                    c.mode = value;
                }
                case "--drain-time-s" -> {
                    if (drainTime || !value.matches("[0-9]{1,9}")) {
                        return null;
                    }
                    drainTime = true;
                    c.drainTimeSeconds = Long.parseLong(value);
                }
                default -> {
                    return null;
                }
            }
        }
        return c.config == null ? null : c;
    }
}
