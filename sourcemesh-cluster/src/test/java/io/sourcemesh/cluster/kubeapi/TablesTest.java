package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.resource.ResourceKind;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Table kubectl prints: the CLI's printer's columns, wide ones at priority 1. */
class TablesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T00:05:00Z"), ZoneOffset.UTC);

    @Test
    void aPodsRowIsKubectlsWithTheWideColumnsAtPriorityOne() throws Exception {
        JsonNode pod = JSON.readTree("""
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"sleep-1","namespace":"default",
                  "creationTimestamp":"2026-01-01T00:00:00Z"},
                 "spec":{"nodeName":"node-1","initContainers":[{"name":"istio-init"}],"containers":[{"name":"sleep"}]},
                 "status":{"phase":"Pending","podIP":"10.0.0.5",
                  "initContainerStatuses":[{"name":"istio-init","state":{"running":{}}}],
                  "containerStatuses":[{"name":"sleep","ready":false,"restartCount":0,
                    "state":{"waiting":{"reason":"PodInitializing"}}}]}}""");
        JsonNode table = Tables.of(ResourceKind.POD, List.of(pod), "7", false, CLOCK);

        List<String> columns = new ArrayList<>();
        List<Integer> priorities = new ArrayList<>();
        table.path("columnDefinitions").forEach(c -> {
            columns.add(c.path("name").asText());
            priorities.add(c.path("priority").asInt());
        });
        assertEquals(List.of("NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"), columns);
        assertEquals(List.of(0, 0, 0, 0, 0, 1, 1, 1, 1), priorities);
        List<String> cells = new ArrayList<>();
        table.path("rows").get(0).path("cells").forEach(c -> cells.add(c.asText()));
        assertEquals(List.of("sleep-1", "0/1", "Init:0/1", "0", "5m", "10.0.0.5", "node-1", "<none>", "<none>"), cells);
        assertEquals("PartialObjectMetadata", table.path("rows").get(0).path("object").path("kind").asText());
    }
}
