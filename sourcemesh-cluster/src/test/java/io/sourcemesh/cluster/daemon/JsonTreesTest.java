package io.sourcemesh.cluster.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The streaming reader builds the tree ObjectMapper.readTree builds, node type by node type. */
class JsonTreesTest {
    @Test
    void jsonAsObjectMapperReadsIt() throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        for (String doc : List.of(
                "{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"name\":\"a\",\"labels\":{}},\"spec\":{\"containers\":[]}}],\"n\":null}",
                "{\"i\":1,\"l\":12345678901,\"b\":123456789012345678901234567890,\"d\":1.5,\"e\":-2e-3,\"t\":true,\"f\":false}",
                "[1,\"two\",[],{},null]", "\"just text\"", "42", "{\"dup\":1,\"dup\":2}", "{\"u\":\"\\u00e9\\n\"}")) {
            byte[] bytes = doc.getBytes(StandardCharsets.UTF_8);
            JsonNode expected = mapper.readTree(bytes);
            JsonNode actual = JsonTrees.read(bytes);
            assertEquals(expected, actual, doc);
            assertEquals(mapper.writeValueAsString(expected), mapper.writeValueAsString(actual), doc);
            assertEquals(expected.getNodeType(), actual.getNodeType(), doc);
        }
        assertTrue(JsonTrees.read(new byte[0]).isMissingNode());
        assertThrows(IOException.class, () -> JsonTrees.read("{\"a\":".getBytes(StandardCharsets.UTF_8)));
        assertThrows(IOException.class, () -> JsonTrees.read("not json".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void yamlAsYamlMapperReadsIt() throws IOException {
        String kubeconfig = """
                apiVersion: v1
                kind: Config
                current-context: sourcemesh
                clusters:
                - name: sourcemesh
                  cluster:
                    server: "https://127.0.0.1:6443"
                    certificate-authority-data: "TFMwdA=="
                users:
                - name: admin
                  user: {token: abc, n: 3, ratio: 0.5, on: true, empty: ~}
                """;
        byte[] bytes = kubeconfig.getBytes(StandardCharsets.UTF_8);
        JsonNode expected = new YAMLMapper().readTree(bytes);
        JsonNode actual = JsonTrees.read(new YAMLFactory(), bytes);
        assertEquals(expected, actual);
        assertEquals(new ObjectMapper().writeValueAsString(expected), new ObjectMapper().writeValueAsString(actual));
    }
}
