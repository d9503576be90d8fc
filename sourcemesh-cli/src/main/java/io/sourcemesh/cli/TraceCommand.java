package io.sourcemesh.cli;

import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.trace.DumpDirectory;
import io.sourcemesh.trace.Observations;
import io.sourcemesh.trace.Snapshot;
import io.sourcemesh.trace.Trace;
import io.sourcemesh.trace.TraceException;
import io.sourcemesh.trace.TraceText;
import io.sourcemesh.trace.Tracer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code trace --from deploy/sleep http://httpbin:8000/ip} or {@code trace --external http://$GATEWAY_URL/ip}:
 * the client's address hop by hop, where it is lost, why and the command that fixes it. On the running
 * cluster it also sends a probe and compares every proxy's access-log line; with {@code --dump DIR} it
 * reads what was collected from any Istio cluster instead.
 */
@Command(name = "trace", description = "Show, hop by hop, where a client's address is kept or lost, why, and the fix.")
final class TraceCommand implements Callable<Integer> {
    @Mixin
    ClusterOptions cluster;

    @Spec
    CommandSpec spec;

    @ArgGroup(multiplicity = "1")
    From from;

    static final class From {
        @Option(names = "--from", paramLabel = "POD|deploy/NAME", description = "East-west: the client pod (in -n's namespace).")
        String pod;

        @Option(names = "--external", description = "North-south: from an internet client through the load balancer and the ingress gateway.")
        boolean external;
    }

    @Parameters(index = "0", paramLabel = "URL", description = "http://httpbin:8000/ip (east-west) or http://$GATEWAY_URL/ip (north-south).")
    String url;

    @Option(names = "--dump", paramLabel = "DIR", description = "Read a collected cluster (cluster.yaml, config_dump/NS.POD.json, logs/NS.POD.log) instead of the running one.")
    Path dump;

    @Option(names = "--client", paramLabel = "IP", description = "North-south: the internet client's address (default: the local cluster's external client).")
    String client;

    @Option(names = "--gateway", paramLabel = "NS/NAME", defaultValue = "istio-system/istio-ingressgateway",
            description = "North-south: the gateway's Service (default: istio-system/istio-ingressgateway).")
    String gateway;

    @Option(names = "--request-id", paramLabel = "ID", description = "With --dump: compare with the logs' lines for this x-request-id.")
    String requestId;

    @Option(names = "--no-probe", description = "Live: predict only, send no request.")
    boolean noProbe;

    @Option(names = {"-o", "--output"}, defaultValue = "text", description = "text (default) or json.")
    String output;

    @Override
    public Integer call() throws Exception {
        if (!List.of("text", "json").contains(output)) {
            throw CliException.error("output format \"" + output + "\" not supported: text or json");
        }
        if (!gateway.contains("/")) {
            throw CliException.error("--gateway " + gateway + ": give NAMESPACE/NAME");
        }
        String gwNs = gateway.substring(0, gateway.indexOf('/'));
        String gwName = gateway.substring(gateway.indexOf('/') + 1);
        Trace t;
        try {
            if (dump != null) {
                Snapshot snap = DumpDirectory.load(dump);
                t = from.external ? Tracer.northSouth(snap, url, required(client), gwNs, gwName)
                        : Tracer.eastWest(snap, cluster.namespace(), from.pod, url);
                if (requestId != null) {
                    t = Observations.apply(t, snap, requestId, null);
                }
            } else {
                LiveTrace live = new LiveTrace(cluster.api(), io.sourcemesh.cluster.daemon.Home.resolve(cluster.home));
                if (from.external) {
                    String c = client != null ? client : LiveTrace.defaultExternalClient(cluster.api());
                    t = live.northSouth(url, c, gwNs, gatewayFor(gwNs, gwName), !noProbe);
                } else {
                    t = live.eastWest(cluster.namespace(), from.pod, url, !noProbe);
                }
            }
        } catch (TraceException e) {
            throw CliException.error(e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(output.equals("json") ? TraceText.json(List.of(t)) : TraceText.text(t));
        return t.mismatches().isEmpty() ? 0 : 1;
    }

    private String required(String c) {
        if (c == null) {
            throw CliException.error("--external with --dump needs --client IP: the internet client's address");
        }
        return c;
    }

    /** The gateway Service named, or the LoadBalancer Service whose address the URL names. */
    private String gatewayFor(String ns, String name) {
        String host = java.net.URI.create(url).getHost();
        for (KubeObject s : cluster.api().list(io.sourcemesh.api.resource.ResourceKind.SERVICE, null, "")) {
            if (s.status().path("loadBalancer").path("ingress").path(0).path("ip").asText("").equals(host) && s.namespace().equals(ns)) {
                return s.name();
            }
        }
        return name;
    }
}
