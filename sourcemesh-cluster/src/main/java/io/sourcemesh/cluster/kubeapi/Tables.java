package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.printers.ResourceColumns;
import java.time.Clock;
import java.util.List;

/**
 * Server-side printing: the {@code meta.k8s.io/v1 Table} kubectl asks for ({@code Accept: ...;as=Table})
 * and prints as its {@code get} output. The columns are {@link ResourceColumns}' — the same printer
 * our own CLI uses, so the two never disagree; {@code -o wide}'s extra columns have priority 1.
 */
final class Tables {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private Tables() {
    }

    /**
     * The Table for {@code objects}; each row carries the object itself, or only its metadata as
     * a PartialObjectMetadata (the API server's default, {@code includeObject=Metadata}).
     */
    static ObjectNode of(ResourceKind kind, List<JsonNode> objects, String resourceVersion, boolean wholeObjects, Clock clock) {
        ObjectNode t = F.objectNode();
        t.put("kind", "Table").put("apiVersion", "meta.k8s.io/v1");
        t.putObject("metadata").put("resourceVersion", resourceVersion);
        ArrayNode defs = t.putArray("columnDefinitions");
        List<String> names = ResourceColumns.header(kind, true);
        int standard = ResourceColumns.header(kind, false).size();
        for (int i = 0; i < names.size(); i++) {
            defs.addObject().put("name", names.get(i)).put("type", "string").put("format", i == 0 ? "name" : "")
                    .put("description", "").put("priority", i < standard ? 0 : 1);
        }
        ArrayNode rows = t.putArray("rows");
        for (JsonNode o : objects) {
            ObjectNode row = rows.addObject();
            ArrayNode cells = row.putArray("cells");
            KubeObject object = KubeObject.of((ObjectNode) o);
            cells.add(object.name());
            ResourceColumns.cells(object, kind, true, clock).forEach(cells::add);
            if (wholeObjects) {
                row.set("object", o);
            } else {
                ObjectNode partial = row.putObject("object");
                partial.put("kind", "PartialObjectMetadata").put("apiVersion", "meta.k8s.io/v1");
                partial.set("metadata", o.path("metadata").deepCopy());
            }
        }
        return t;
    }
}
