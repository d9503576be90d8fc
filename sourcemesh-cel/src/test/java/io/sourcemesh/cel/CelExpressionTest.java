package io.sourcemesh.cel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The subset's parsing and evaluation over plain attribute values; the proxy's accesslog.CelExpressionTest evaluates it
 * over real streams, and the API server's TelemetryRulesTest refuses at apply what it refuses here.
 */
class CelExpressionTest {
    private static boolean on(String expression, Map<String, Object> attributes) {
        return CelExpression.parse(expression).test(attributes::get);
    }

    @Test
    void comparesAndCombines() {
        Map<String, Object> notFound = Map.of("response.code", 404L, "request.method", "GET");
        assertTrue(on("response.code >= 400 && request.method == 'GET'", notFound));
        assertFalse(on("response.code < 400 || request.method != \"GET\"", notFound));
        assertTrue(on("!(response.code == 200)", notFound));
        assertFalse(on("connection.mtls", notFound), "a missing attribute is an error: nothing logged");
    }

    @Test
    void refusesWhatItCannotEvaluateNamingIt() {
        assertEquals("CEL expression \"request.url_path.contains('v1')\": \"request.url_path.contains(\": functions, macros "
                + "and indexing are not supported; SourceMesh evaluates comparisons (== != < <= > >=) of attributes and int, "
                + "string or bool literals, with && || ! and parentheses",
                assertThrows(IllegalArgumentException.class, () -> CelExpression.parse("request.url_path.contains('v1')")).getMessage());
        for (String bad : List.of("response.code >= '400'", "response.duration > 1", "response.code", "response.code >= 400 &&",
                "request.headers['x'] == 'y'", "(response.code == 1", "response.code == 1 == true", "'a' + 'b' == 'ab'",
                "response.code in [200]", "1.5 > response.code", "")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CelExpression.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("CEL expression \"" + bad + "\""), e.getMessage());
        }
    }

}
