package io.sourcemesh.cli;

import io.sourcemesh.api.codec.ManifestException;
import io.sourcemesh.cluster.daemon.ClusterApiException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code sourcemesh}: the proxy, the local cluster and a kubectl/istioctl-shaped CLI for it. */
@Command(name = "sourcemesh", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A service mesh that keeps the client's address, hop by hop.")
public final class Main implements Runnable {
    /**
     * The verbs, in the order help lists them. Every call is a fresh JVM, so a command line names
     * only the verb it runs: picocli reads no other verb's annotations and loads none of its classes.
     */
    private static final Map<String, Class<?>> VERBS = verbs();
    /** The Istio release our proxies report, so EnvoyFilter proxyVersion matches work as in Istio. */
    public static final String ISTIO_COMPATIBLE_VERSION = "1.22.0";

    private final Clock clock;
    private final InputStream stdin;

    private Main(Clock clock, InputStream stdin) {
        this.clock = clock;
        this.stdin = stdin;
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        System.exit(execute(Clock.systemUTC(), System.in, out, err, args));
    }

    static int execute(String... args) {
        return execute(Clock.systemUTC(), System.in, new PrintWriter(System.out, true, StandardCharsets.UTF_8),
                new PrintWriter(System.err, true, StandardCharsets.UTF_8), args);
    }

    /** Runs one command line with its own streams and clock (tests pin the clock so AGE is stable). */
    static int execute(Clock clock, InputStream stdin, PrintWriter out, PrintWriter err, String... args) {
        int quick = QuickVerbs.run(clock, out, err, args);
        return quick >= 0 ? quick : executeWithPicocli(clock, stdin, out, err, args);
    }

    /** As {@link #execute(Clock, InputStream, PrintWriter, PrintWriter, String...)}, always parsed by picocli. */
    static int executeWithPicocli(Clock clock, InputStream stdin, PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = commandLine(clock, stdin, args);
        cli.setOut(out);
        cli.setErr(err);
        try {
            return cli.execute(GlobalOptions.hoist(cli, args));
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static Map<String, Class<?>> verbs() {
        Map<String, Class<?>> v = new LinkedHashMap<>();
        v.put("proxy", ProxyCommand.class);
        v.put("apply", ApplyCommand.class);
        v.put("create", CreateCommand.class);
        v.put("delete", DeleteCommand.class);
        v.put("get", GetCommand.class);
        v.put("describe", DescribeCommand.class);
        v.put("patch", PatchCommand.class);
        v.put("exec", ExecCommand.class);
        v.put("logs", LogsCommand.class);
        v.put("rollout", RolloutCommand.class);
        v.put("proxy-config", ProxyConfigCommand.class);
        v.put("proxy-status", ProxyStatusCommand.class);
        v.put("up", UpCommand.class);
        v.put("down", DownCommand.class);
        v.put("status", StatusCommand.class);
        v.put("daemon", DaemonCommand.class);
        v.put("demo", DemoCommand.class);
        v.put("trace", TraceCommand.class);
        v.put("dashboard", DashboardCommand.class);
        return v;
    }

    /** The whole command tree (help, suggestions for a mistyped verb). */
    static CommandLine commandLine(Clock clock, InputStream stdin) {
        return commandLine(clock, stdin, null);
    }

    /**
     * The command tree for {@code args}: the root with only the verb they name, or with every verb
     * when they name none (no verb, {@code help}, a typo) — with kubectl's error handling: its
     * wording on stderr and exit code 1.
     */
    static CommandLine commandLine(Clock clock, InputStream stdin, String[] args) {
        CommandLine cli = new CommandLine(new Main(clock, stdin));
        String verb = args == null ? null : verb(args);
        if (verb != null) {
            cli.addSubcommand(verb, VERBS.get(verb));
        } else {
            VERBS.forEach(cli::addSubcommand);
            cli.addSubcommand("help", CommandLine.HelpCommand.class);
        }
        cli.getSubcommands().values().forEach(Main::withHelp);
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setParameterExceptionHandler((ex, params) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()
                    && u.getUnmatched().getFirst().startsWith("-")) {
                err.println("error: unknown flag: " + u.getUnmatched().getFirst());
                err.println("See '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for usage.");
            } else {
                err.println("error: " + ex.getMessage());
            }
            return 1;
        });
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println(message(ex));
            return 1;
        });
        return cli;
    }

    /** {@code -h}/{@code --help} on a verb and its sub-verbs, as kubectl has (the usage error's hint names it). */
    private static void withHelp(CommandLine verb) {
        CommandLine.Model.CommandSpec spec = verb.getCommandSpec();
        if (spec.options().stream().noneMatch(CommandLine.Model.OptionSpec::usageHelp)) {
            spec.addOption(CommandLine.Model.OptionSpec.builder("-h", "--help").usageHelp(true)
                    .description("Show this help message and exit.").build());
        }
        verb.getSubcommands().values().forEach(Main::withHelp);
    }

    /** What kubectl would print for a failure: its wording, never a stack trace. */
    static String message(Exception ex) {
        return switch (ex) {
            case ClusterApiException e -> Errors.text(e);
            case ManifestException e -> Errors.text(e);
            case CliException e -> e.getMessage();
            default -> "error: " + ex.getMessage();
        };
    }

    /** The verb {@code args} run: the first word that is one, past the global flags (-n NS, --home DIR) before it. */
    private static String verb(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (VERBS.containsKey(a)) {
                return a;
            }
            if (a.equals("-n") || a.equals("--namespace") || a.equals("--home")) {
                i++;
            } else if (!a.startsWith("-")) {
                return null;
            }
        }
        return null;
    }

    static Clock clock(CommandLine.Model.CommandSpec spec) {
        return ((Main) spec.root().userObject()).clock;
    }

    static InputStream stdin(CommandLine.Model.CommandSpec spec) {
        return ((Main) spec.root().userObject()).stdin;
    }

    /**
     * Whether our stdin is the process's own and a terminal (a test's, a pipe's or a file's is not).
     * Linux tells by what fd 0 is; elsewhere the console is asked, which also wants stdout a terminal.
     */
    static boolean stdinIsTerminal(CommandLine.Model.CommandSpec spec) {
        if (stdin(spec) != System.in) {
            return false;
        }
        try {
            String fd0 = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/0")).toString();
            return fd0.startsWith("/dev/pts/") || fd0.startsWith("/dev/tty") || fd0.equals("/dev/console");
        } catch (java.io.IOException | UnsupportedOperationException e) {
            java.io.Console console = System.console();
            return console != null && console.isTerminal();
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"sourcemesh " + (v == null ? "dev" : v) + " (istio-compatible " + ISTIO_COMPATIBLE_VERSION + ")"};
        }
    }
}
