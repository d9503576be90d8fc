package io.sourcemesh.cli;

import io.sourcemesh.cluster.daemon.ClusterApi;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code proxy-status [POD.NS]}, as istioctl: every proxy the control plane configures, per xDS type
 * SYNCED, STALE (sent, not answered), NACKED (refused; the proxy keeps an older config) or NOT SENT.
 * The NACKs' errors follow on stderr, so a proxy stuck on an old config says why.
 */
@Command(name = "proxy-status", aliases = "ps", description = "Show each proxy's xDS sync status, as istioctl proxy-status.")
final class ProxyStatusCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "POD.NS", description = "Only this proxy.")
    String proxy;

    @Override
    public Integer call() {
        List<ClusterApi.ProxyStatus> rows = cluster.api().proxyStatus().stream()
                .filter(r -> proxy == null || r.name().equals(proxy) || r.name().startsWith(proxy + "."))
                .toList();
        if (proxy != null && rows.isEmpty()) {
            throw CliException.error("no proxy \"" + proxy + "\" is configured by the control plane");
        }
        Table t = Table.padded(5).row("NAME", "CLUSTER", "CDS", "LDS", "EDS", "RDS", "ECDS", "ISTIOD", "VERSION");
        for (ClusterApi.ProxyStatus r : rows) {
            t.row(r.name(), r.cluster(), r.cds(), r.lds(), r.eds(), r.rds(), r.ecds(), r.istiod(), r.version());
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(t.render());
        out.flush();
        PrintWriter err = spec.commandLine().getErr();
        rows.forEach(r -> r.errors().forEach(e -> err.println("Warning: " + r.name() + " " + e)));
        err.flush();
        return 0;
    }
}
