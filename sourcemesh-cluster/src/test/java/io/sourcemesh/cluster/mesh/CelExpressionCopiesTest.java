package io.sourcemesh.cluster.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The API server refuses a Telemetry filter the proxies could not evaluate with its own copy of the proxy's CEL subset
 * (api.resource.CelExpression, proxy.cel.CelExpression): here, where both are on the class path, the two must
 * accept and refuse the same expressions with the same words, so apply never takes what a proxy would refuse.
 */
class CelExpressionCopiesTest {
    private static final List<String> EXPRESSIONS = List.of("response.code >= 400", "response.code >= 400 || xds.cluster_name == "
            + "'BlackHoleCluster'", "!connection.mtls && request.method != \"GET\"", "(source.port > 1) == true",
            "request.url_path.contains('v1')", "response.code >= '400'", "response.duration > 1", "response.code", "",
            "a ||", "request.headers['x'] == 'y'", "1 < 2 < 3", "'unterminated", "x.y.z", "-5 < response.code");

    private static String api(String e) {
        try {
            io.sourcemesh.api.resource.CelExpression.parse(e);
            return "ok";
        } catch (IllegalArgumentException ex) {
            return ex.getMessage();
        }
    }

    private static String proxy(String e) {
        try {
            io.sourcemesh.proxy.cel.CelExpression.parse(e);
            return "ok";
        } catch (IllegalArgumentException ex) {
            return ex.getMessage();
        }
    }

    @Test
    void bothCopiesAgree() {
        assertEquals(io.sourcemesh.proxy.cel.CelExpression.ATTRIBUTES.keySet().stream().sorted().toList(),
                io.sourcemesh.api.resource.CelExpression.ATTRIBUTES.keySet().stream().sorted().toList());
        for (String e : EXPRESSIONS) {
            assertEquals(proxy(e), api(e), e);
        }
    }
}
