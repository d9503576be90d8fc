package io.sourcemesh.cli.describe;

import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import java.time.Clock;

/**
 * kubectl describe's text per kind (its pkg/describe describers): pods, services, deployments,
 * replica sets and nodes have their own; everything else, the Istio kinds among them, gets the
 * generic describer's tree of the object. The cluster records no events, so every description ends
 * {@code Events: <none>}, which is what kubectl prints for an object without events.
 */
public final class DescribeDispatcher {
    private final Clock clock;
    private final ServiceDescriber services;
    private final WorkloadDescriber workloads;
    private final NodeDescriber nodes;

    public DescribeDispatcher(ClusterApi api, Clock clock) {
        this.clock = clock;
        this.services = new ServiceDescriber(api);
        this.workloads = new WorkloadDescriber(api);
        this.nodes = new NodeDescriber(api);
    }

    public String describe(ResourceKind kind, KubeObject o) {
        DescribeWriter w = new DescribeWriter(clock);
        switch (kind.kind()) {
            case "Pod" -> PodDescriber.describe(w, o);
            case "Service" -> services.describe(w, o);
            case "Deployment" -> workloads.deployment(w, o);
            case "ReplicaSet" -> workloads.replicaSet(w, o);
            case "Node" -> nodes.describe(w, o);
            default -> GenericDescriber.describe(w, o);
        }
        w.write(0, "Events:\t<none>\n");
        return TabWriter.describe(w.toString());
    }
}
