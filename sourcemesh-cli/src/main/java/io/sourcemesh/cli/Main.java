package io.sourcemesh.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code sourcemesh}: the proxy, the local cluster and a kubectl/istioctl-shaped CLI for it. */
@Command(name = "sourcemesh", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A service mesh that keeps the client's address, hop by hop.",
        subcommands = {ProxyCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** The Istio release our proxies report, so EnvoyFilter proxyVersion matches work as in Istio. */
    public static final String ISTIO_COMPATIBLE_VERSION = "1.22.0";

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    static int execute(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("error: " + ex.getMessage());
            return 1;
        });
        return cli.execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"sourcemesh " + (v == null ? "dev" : v) + " (istio-compatible " + ISTIO_COMPATIBLE_VERSION + ")"};
        }
    }
}
